#include "datasets/marketplace_taxonomy.h"

namespace marketsearch {

// Grammar (one statement a line; '#' starts a comment line):
//
//   brand    VALUE                                     global spellings of a brand
//   category NAME WEIGHT EMOJI                         starts a category
//   attr     NAME KIND TITLE_PROB [+SUFFIX] : VALUE, VALUE, ...
//   type     NAME PRICE WEIGHT : VALUE ; attrs=A|B ; brands=X|Y|- ; comp=T|U
//   model    BRAND : VALUE, VALUE, ...                 models of BRAND for the last type
//
// VALUE is  seller/seller~buyer~buyer*MULT{attr=value|attr=value}:
//   - the forms before the first '~' are written by sellers (and typed by buyers); the first
//     one is the canonical value used in intents and in the attributes column;
//   - forms after '~' are typed by buyers only: no seller title ever uses them;
//   - *MULT multiplies the price; {..} fixes attribute values for a model.
// KIND is how sellers/buyers render a value: word, unit (128gb), inch (55), shoe (size 10),
// csize (clothing size). TITLE_PROB is how often a seller puts the attribute in the title;
// SUFFIX (e.g. +ram) is sometimes written after the value.
// In `brands`, '-' stands for unbranded listings. `comp` lists the types this (accessory)
// type complements; the relation is made symmetric.
const char kMarketplaceTaxonomy[] = R"TAXONOMY(
brand dr martens/dr. martens~doc martens~docs~doc marten
brand the north face/north face~tnf
brand louis vuitton/lv~louis vitton
brand michael kors/mk
brand new balance/nb
brand dewalt~de walt
brand kitchenaid~kitchen aid
brand black and decker/black+decker~black & decker
brand arcteryx/arc'teryx~arcterix~arcteryx jacket
brand h&m~hm~h and m
brand delonghi/de'longhi~de longhi
brand electro-harmonix/ehx~electro harmonix
brand maxi-cosi/maxi cosi~maxicosi
brand tempur-pedic/tempurpedic~tempur pedic
brand j k rowling/jk rowling~rowling
brand j r r tolkien/tolkien~jrr tolkien
brand george r r martin/grrm~george rr martin~george martin
brand audio-technica/audio technica
brand herman miller~hermanmiller
brand levis/levi's~levi
brand mcgraw hill/mcgraw-hill
brand rad power/rad power bikes~radpower
brand baby jogger/babyjogger
brand mounting dream
brand tag heuer/tag~tagheuer
brand canada goose/cg~canadagoose
brand west elm~westelm

# ---------------------------------------------------------------- electronics
category phones 3.0 📱
attr colour word 0.45 : black, white, silver, blue, red, green, gold, purple, pink, grey~gray
attr storage unit 0.7 : 64gb*0.85, 128gb, 256gb*1.15, 512gb*1.35
attr fits word 0.9 : iphone 11, iphone 12, iphone 13, iphone 14, galaxy s21, galaxy s22, pixel 7
attr connector word 0.6 : usb c/type c~usbc~usb-c, lightning, wireless/qi~wireless charging
attr capacity unit 0.7 : 5000mah*0.7, 10000mah, 20000mah*1.4
type smartphone 420 6 : phone/smartphone/unlocked phone~cell phone~cellphone~mobile~mobile phone ; attrs=colour|storage ; brands=apple|samsung|google|oneplus|motorola|xiaomi
model apple : iphone 11*0.6, iphone 12*0.75, iphone 13, iphone 14 pro*1.6, iphone se*0.45, iphone 13 mini*0.85
model samsung : galaxy s21*0.8, galaxy s22, galaxy s23*1.3, galaxy a52*0.5, galaxy z flip 4*1.1
model google : pixel 6*0.7, pixel 7, pixel 7 pro*1.3, pixel 6a*0.5
model oneplus : oneplus 9*0.7, oneplus 10 pro, oneplus nord 2*0.5~nord 2
model motorola : moto g power*0.35, moto edge*0.7, razr*1.2~moto razr
model xiaomi : redmi note 11*0.4, xiaomi 12*0.8, poco f4*0.6
type phone_case 18 2 : case/phone case/cover~phone cover~protective case~phone shell ; attrs=fits|colour ; brands=otterbox|spigen|casetify|mous|- ; comp=smartphone
type phone_charger 22 1 : charger/charging cable/fast charger/cable~charging brick~power adapter~phone plug~charging cord ; attrs=connector ; brands=anker|apple|samsung|belkin|- ; comp=smartphone|tablet|earbuds
type screen_protector 10 0.6 : screen protector/tempered glass~glass protector~screen guard~screen film ; attrs=fits ; brands=zagg|spigen|- ; comp=smartphone
type power_bank 30 0.6 : power bank/powerbank/portable charger~battery pack~external battery~phone battery ; attrs=capacity ; brands=anker|mophie|belkin|- ; comp=smartphone

category laptops 2.0 💻
attr colour word 0.3 : silver, space grey~space gray, black, gold, blue
attr ram unit 0.6 +ram : 8gb, 16gb*1.2, 32gb*1.45
attr ssd unit 0.5 +ssd : 256gb, 512gb*1.1, 1tb*1.25
attr screen_size inch 0.4 : 13*0.95, 14, 15*1.05, 16*1.15
attr connector word 0.5 : usb c/type c~usbc~usb-c, magsafe, barrel
type laptop 650 5 : laptop/ultrabook~notebook~notebook computer~laptop computer~portable computer ; attrs=ram|ssd|screen_size|colour ; brands=apple|dell|hp|lenovo|asus|acer|microsoft
model apple : macbook air, macbook pro*1.6, macbook air m2*1.3
model dell : xps 13*1.2, xps 15*1.5, inspiron 15*0.6, latitude 7420*0.8
model hp : spectre x360*1.2, pavilion 15*0.6, envy 13*0.9, elitebook 840*0.8
model lenovo : thinkpad x1 carbon*1.4~x1 carbon, thinkpad t14*0.9, ideapad 5*0.6, yoga 7i*0.9
model asus : zenbook 14*0.9, rog zephyrus g14*1.4~zephyrus g14, vivobook 15*0.5
model acer : aspire 5*0.5, swift 3*0.7, predator helios 300*1.2
model microsoft : surface laptop 4*1.1, surface laptop go*0.6
type laptop_bag 35 1 : laptop bag/laptop sleeve/laptop backpack~computer bag~notebook bag~messenger bag~notebook sleeve ; attrs=screen_size|colour ; brands=incase|samsonite|targus|thule|- ; comp=laptop
type laptop_charger 30 0.7 : laptop charger/power adapter/charger~power supply~ac adapter~power cord~power brick ; attrs=connector ; brands=apple|dell|lenovo|hp|- ; comp=laptop
type monitor 180 1.6 : monitor/computer monitor/display~screen~pc monitor~pc screen~computer screen ; attrs=screen_size|colour ; brands=dell|lg|samsung|asus|benq|acer
model dell : ultrasharp u2720q*1.8~u2720q, s2721dgf*1.4
model lg : ultragear 27gp850*1.6~27gp850, ultrafine 4k*2
model samsung : odyssey g7*2.2, smart monitor m7*1.5
type keyboard 60 1 : keyboard/mechanical keyboard/wireless keyboard~computer keyboard~keys~typing board ; attrs=colour ; brands=logitech|keychron|razer|apple|corsair ; comp=laptop|monitor
model logitech : mx keys*1.3, k380*0.5
model keychron : k2*1.0, q1*2.0
model apple : magic keyboard*1.4
type mouse 30 1 : mouse/wireless mouse/gaming mouse~computer mouse~trackpad~pc mouse ; attrs=colour ; brands=logitech|razer|apple|microsoft ; comp=laptop
model logitech : mx master 3*2.5~mx master, g502*1.6
model apple : magic mouse*2.3

category tablets 1.5 📱
attr colour word 0.3 : silver, space grey~space gray, black, blue, pink
attr storage unit 0.6 : 32gb*0.8, 64gb, 128gb*1.15, 256gb*1.3
attr fits word 0.9 : ipad air, ipad pro, ipad mini, ipad, galaxy tab s8
attr connectivity word 0.4 : wifi/wi-fi~wi fi, cellular/lte~4g~5g
type tablet 350 3 : tablet/tab~tablet computer~touchscreen tablet~tablet pc~android tablet ; attrs=storage|colour|connectivity ; brands=apple|samsung|amazon|lenovo|microsoft
model apple : ipad*0.7, ipad air, ipad pro*1.6, ipad mini*0.85
model samsung : galaxy tab s8*1.1, galaxy tab a8*0.5, galaxy tab s7*0.9
model amazon : fire hd 10*0.3, fire hd 8*0.2, kindle paperwhite*0.35~kindle
model lenovo : tab p11*0.6, tab m10*0.4
model microsoft : surface pro 8*1.5, surface go 3*0.8
type tablet_case 20 1 : case/cover/folio case/smart cover~tablet cover~ipad cover~protective cover~tablet sleeve ; attrs=fits|colour ; brands=otterbox|esr|zugu|- ; comp=tablet
type stylus 40 0.6 : stylus/stylus pen/pencil~digital pen~tablet pen~drawing pen ; attrs=fits ; brands=apple|logitech|- ; comp=tablet
model apple : apple pencil 2*1.2{fits=ipad pro}~pencil 2, apple pencil*0.8{fits=ipad}

category tvs 2.0 📺
attr screen_size inch 0.8 : 32*0.4, 43*0.6, 50*0.8, 55, 65*1.5, 75*2.2
attr panel word 0.6 : led, oled*1.6, qled*1.2
attr resolution word 0.5 : 4k/uhd~ultra hd~4k uhd, 1080p/full hd~fhd
attr colour word 0.3 : black, silver, white
type tv 450 4 : tv/smart tv~television~flatscreen~telly~tele~flat screen ; attrs=screen_size|panel|resolution ; brands=samsung|lg|sony|tcl|hisense|vizio|philips
model sony : bravia xr*1.4~bravia, bravia x80k*0.9
model lg : c2*1.5{panel=oled}, nano75*0.8{panel=led}
model samsung : the frame*1.4~frame tv, crystal uhd*0.7{panel=led|resolution=4k}
type tv_mount 35 0.8 : tv wall mount/wall bracket/tv bracket~tv mount~wall mount~tv hanger~tv holder ; attrs=screen_size ; brands=sanus|mounting dream|- ; comp=tv
type soundbar 180 1 : soundbar/sound bar~tv speaker~home theater speaker~surround sound~speaker bar ; attrs=colour ; brands=sonos|bose|samsung|lg|sony|jbl ; comp=tv
model sonos : beam*1.2, arc*2.0, ray*0.7
model bose : smart soundbar 600*1.3, tv speaker*0.8
type streaming_device 35 0.7 : streaming stick/streaming device/media streamer~streaming box~tv stick~media player ; attrs=colour ; brands=amazon|roku|google|apple ; comp=tv
model apple : apple tv 4k*3.5~apple tv
model google : chromecast*1.2~chromecast with google tv
model roku : roku express*0.8, roku ultra*2.2
model amazon : fire tv stick 4k*1.2~firestick~fire stick, fire tv stick lite*0.8

category headphones 2.0 🎧
attr colour word 0.4 : black, white, silver, blue, beige~cream
attr fit word 0.4 : over ear/over-ear~around ear, on ear/on-ear
attr fits word 0.9 : airpods pro, airpods 3, galaxy buds 2
type headphones 150 3 : headphones/headphone~headset~cans~over the ear headphones~studio headphones ; attrs=colour|fit ; brands=sony|bose|apple|sennheiser|beats|audio-technica
model sony : wh-1000xm4*1.2~xm4~1000xm4, wh-1000xm5*1.6~xm5~1000xm5, wh-ch510*0.25
model bose : quietcomfort 45/qc45~qc 45*1.3, quietcomfort 35 ii/qc35 ii*0.9~qc35, nc 700*1.4~bose 700
model apple : airpods max*2.6{fit=over ear}
model beats : studio3*1.1~studio 3, solo3*0.7~solo 3{fit=on ear}
model sennheiser : momentum 4*1.3, hd 450bt*0.6
model audio-technica : ath-m50x*0.7~m50x
type earbuds 110 3 : earbuds/wireless earbuds/true wireless earbuds/buds~earphones~in ear headphones~wireless earphones~earpods ; attrs=colour ; brands=apple|samsung|sony|jabra|beats|google
model apple : airpods pro*1.2, airpods 3*0.9~airpods 3rd gen, airpods 2*0.6~airpods 2nd gen
model samsung : galaxy buds 2*0.6, galaxy buds pro*0.8
model sony : wf-1000xm4*1.2~xm4 earbuds
model jabra : elite 75t*0.6, elite 85t*0.8
model beats : powerbeats pro*0.9, studio buds*0.6
model google : pixel buds pro*0.8
type earbud_case 12 0.6 : case/airpods case/earbuds case~airpod cover~earbud cover~charging case cover ; attrs=fits|colour ; brands=spigen|otterbox|- ; comp=earbuds

category cameras 1.2 📷
attr style word 0.5 : dslr/digital slr~slr, mirrorless, compact/point and shoot~point & shoot
attr colour word 0.2 : black, silver
attr mount word 0.7 : canon ef/ef mount, canon rf/rf mount, sony e/e mount~fe mount, nikon f/f mount, nikon z/z mount, fujifilm x/x mount
attr focal word 0.8 : 50mm, 35mm, 85mm, 18-55mm~18 55mm, 24-70mm~24 70mm, 70-200mm~70 200mm
attr capacity unit 0.8 : 64gb, 128gb*1.3, 256gb*1.8
type camera 600 3 : camera/digital camera/camera body~photo camera~cam~digicam~photography camera ; attrs=style|colour ; brands=canon|nikon|sony|fujifilm|panasonic|olympus
model canon : eos r6*2.0{style=mirrorless}, eos 90d*1.0{style=dslr}, eos rebel t7*0.4{style=dslr}~rebel t7, eos m50*0.6{style=mirrorless}
model nikon : d750*0.9{style=dslr}, z6 ii*1.6{style=mirrorless}~z6, d3500*0.4{style=dslr}, z fc*0.9{style=mirrorless}~zfc
model sony : a7 iii/alpha a7 iii~a7iii~a7 3*1.6{style=mirrorless}, a6400*0.8{style=mirrorless}, rx100 vii*0.9{style=compact}~rx100, zv-1*0.6{style=compact}~zv1
model fujifilm : x-t4*1.4{style=mirrorless}~xt4, x100v*1.2{style=compact}~x100 v, x-s10*0.9{style=mirrorless}~xs10
model panasonic : lumix gh5*1.2{style=mirrorless}~gh5, lumix g85*0.6{style=mirrorless}~g85
model olympus : om-d e-m10 iv*0.6{style=mirrorless}~em10
type camera_lens 350 1.5 : lens/camera lens~objective~photo lens~zoom~camera objective ; attrs=mount|focal ; brands=canon|nikon|sony|sigma|tamron|fujifilm ; comp=camera
type tripod 45 0.7 : tripod/camera tripod~camera stand~monopod~photo stand ; attrs=colour ; brands=manfrotto|joby|vanguard|- ; comp=camera
type memory_card 15 0.5 : sd card/memory card/sdxc card~camera card~storage card~micro sd ; attrs=capacity ; brands=sandisk|lexar|samsung|kingston ; comp=camera|game_console

category consoles 2.0 🎮
attr colour word 0.3 : black, white, grey~gray, red
attr platform word 0.8 : ps5/playstation 5, ps4/playstation 4, xbox series x/xbox, nintendo switch/switch
attr genre word 0.2 : racing, shooter/fps, sports, rpg/role playing, adventure
type game_console 380 3 : console/games console/gaming console~video game console~game system~gaming system~games machine ; attrs=colour ; brands=sony|microsoft|nintendo|valve
model sony : ps5/playstation 5~ps 5, ps5 digital edition/ps5 digital~playstation 5 digital*0.85, ps4 pro/playstation 4 pro*0.6, ps4/playstation 4~ps 4*0.4
model microsoft : xbox series x, xbox series s*0.6, xbox one x*0.45
model nintendo : nintendo switch/switch*0.65, switch oled/nintendo switch oled*0.8, switch lite/nintendo switch lite*0.45
model valve : steam deck*1.0
type video_game 25 3 : game/video game/games~videogame~game disc~gaming title ; attrs=platform|genre ; brands=nintendo|ea|activision|rockstar|ubisoft|sony ; comp=game_console
model rockstar : gta v/grand theft auto v~gta 5{genre=adventure}, red dead redemption 2/rdr2~red dead 2{genre=adventure}
model ea : fifa 23~fifa{genre=sports}, madden nfl 23~madden{genre=sports}
model nintendo : mario kart 8 deluxe~mario kart{platform=nintendo switch|genre=racing}, zelda breath of the wild/breath of the wild~zelda botw{platform=nintendo switch|genre=adventure}, animal crossing new horizons/animal crossing{platform=nintendo switch|genre=adventure}
model activision : call of duty modern warfare ii/cod mw2~call of duty{genre=shooter}
model ubisoft : assassins creed valhalla~ac valhalla{genre=adventure}, far cry 6{genre=shooter}
model sony : god of war ragnarok/god of war{platform=ps5|genre=adventure}, spider-man miles morales~spiderman{platform=ps5|genre=adventure}, gran turismo 7~gt7{platform=ps5|genre=racing}
type controller 45 1.5 : controller/wireless controller/gamepad~joystick~game controller~joypad~game pad ; attrs=platform|colour ; brands=sony|microsoft|nintendo|8bitdo ; comp=game_console
model sony : dualsense{platform=ps5}~ps5 controller, dualshock 4*0.8{platform=ps4}~ps4 controller
model nintendo : joy-con/joy-cons~joycon~joy con{platform=nintendo switch}, switch pro controller*1.3{platform=nintendo switch}
model microsoft : xbox wireless controller{platform=xbox series x}~xbox controller, xbox elite series 2*3{platform=xbox series x}~elite controller

# ---------------------------------------------------------------- home
category sofas 2.0 🛋️
attr colour word 0.45 : grey~gray, beige~cream, navy/navy blue~dark blue, green/sage green~olive, black, brown~tan, white~off white
attr material word 0.35 : leather, fabric~cloth, velvet, linen
attr seats word 0.5 : 2 seater/2-seater~two seater~2 seat, 3 seater/3-seater~three seater~3 seat*1.1, corner/corner sofa~l shaped~l shape~sectional*1.5
type sofa 450 3 : sofa/settee~couch~sofa couch~lounge~chesterfield couch ; attrs=seats|colour|material ; brands=ikea|west elm|ashley|wayfair|dfs|made|-
model ikea : kivik, ektorp*0.8, friheten*0.9{seats=corner}, landskrona*1.3, soderhamn
model west elm : harmony*1.6, hamilton*1.4{material=leather}
type armchair 180 1.5 : armchair/accent chair/arm chair~lounge chair~reading chair~club chair~easy chair ; attrs=colour|material ; brands=ikea|west elm|wayfair|-
model ikea : poang*0.5, strandmon*1.2
type sofa_cushion 20 1 : cushion/throw pillow/sofa cushion~couch pillow~pillow~decorative pillow ; attrs=colour ; brands=ikea|- ; comp=sofa|armchair
type sofa_cover 30 0.6 : sofa cover/slipcover/sofa throw~couch cover~couch protector~furniture cover ; attrs=colour|seats ; brands=ikea|- ; comp=sofa

category tables 1.5 🪵
attr material word 0.5 : oak/solid oak~oak wood, pine, walnut, glass, marble~marble top, metal
attr shape word 0.3 : round~circle, rectangular~rectangle, square, oval
attr seating word 0.5 : 4 seater/seats 4~4 person~4 people, 6 seater/seats 6~6 person~6 people*1.3, 8 seater/seats 8~8 person~8 people*1.6
type dining_table 300 2 : dining table/kitchen table/table~dinner table~dinette~eating table ; attrs=material|shape|seating ; brands=ikea|west elm|pottery barn|-
model ikea : ekedalen*0.7, lisabo*0.9, morbylanga*1.4
type coffee_table 120 1.5 : coffee table~cocktail table~center table~living room table~lounge table ; attrs=material|shape ; brands=ikea|west elm|-
model ikea : lack*0.2, hemnes*0.9, listerby*1.2
type desk 150 2 : desk/computer desk/writing desk~work table~office desk~study table~workstation ; attrs=material ; brands=ikea|flexispot|uplift|-
model ikea : malm*0.8, micke*0.5, bekant*1.3
model flexispot : e7*2.0~flexispot standing desk
type bookcase 90 1 : bookcase/bookshelf/shelving unit~book shelf~shelves~shelf unit ; attrs=material ; brands=ikea|- 
model ikea : billy*0.6, kallax*0.8, hemnes bookcase*1.4

category chairs 1.2 🪑
attr colour word 0.4 : black, white, grey~gray, brown, blue, green
attr material word 0.4 : wood/wooden, metal, plastic, velvet, leather, mesh
type dining_chair 60 2 : dining chair/chair/kitchen chair~dining room chair~table chair~dinner chair ; attrs=colour|material ; brands=ikea|west elm|- ; comp=dining_table
type office_chair 150 2 : office chair/desk chair/ergonomic chair~computer chair~swivel chair~work chair~study chair ; attrs=colour|material ; brands=herman miller|steelcase|ikea|secretlab|branch|- ; comp=desk
model herman miller : aeron*4, embody*5, sayl*2
model steelcase : leap*3.0, gesture*3.4, series 1*1.4
model ikea : markus*0.6, jarvfjallet*0.8
model secretlab : titan evo*2.3~titan, omega*1.8
type bar_stool 50 1 : bar stool/counter stool/stool~barstool~kitchen stool~breakfast stool ; attrs=colour|material ; brands=ikea|-

category beds 1.5 🛏️
attr bedsize word 0.7 : twin/single, full/double, queen/queen size*1.15, king/king size~kingsize*1.3
attr material word 0.4 : wood/wooden, metal~iron, upholstered~fabric
attr firmness word 0.5 : firm~hard, medium/medium firm, soft/plush
attr colour word 0.3 : white, grey~gray, black, natural
type bed_frame 250 2 : bed frame/bed/bed base~bedframe~platform bed~bedstead~bed set ; attrs=bedsize|material|colour ; brands=ikea|zinus|wayfair|-
model ikea : malm bed/malm*0.8, hemnes bed/hemnes, brimnes*0.7, songesand*0.6
type mattress 350 2 : mattress/memory foam mattress~bed mattress~mattres~foam mattress ; attrs=bedsize|firmness ; brands=casper|purple|tempur-pedic|simmons|sealy|zinus|ikea ; comp=bed_frame
model casper : casper original*1.0~original, casper wave*1.8~wave, casper element*0.6
model ikea : hovag*0.5, valevag*0.7, morgedal*0.6
model tempur-pedic : tempur-adapt*1.8, tempur-proadapt*2.2
type bedding 40 1.5 : duvet cover/bedding set/sheets/bed sheets/duvet~comforter~bedspread~quilt cover~linen set ; attrs=bedsize|colour ; brands=ikea|brooklinen|parachute|- ; comp=bed_frame|mattress

category kitchen 2.0 🍳
attr colour word 0.4 : stainless/stainless steel~silver, black, white, red, cream~ivory
attr fridge_style word 0.5 : french door*1.4, side by side/side-by-side*1.2, top freezer*0.8, mini/compact~dorm*0.3
type refrigerator 700 1.5 : fridge/fridge freezer/refrigerator~refridgerator~icebox~fridge-freezer combo~refrigirator ; attrs=colour|fridge_style ; brands=samsung|lg|whirlpool|ge|bosch|frigidaire|smeg
model smeg : fab28*1.3~smeg retro fridge
type coffee_machine 180 2 : coffee machine/espresso machine/coffee maker~coffeemaker~espresso maker~coffee brewer~cappuccino machine ; attrs=colour ; brands=breville|delonghi|nespresso|keurig|philips
model breville : barista express*1.6, bambino plus*1.0, oracle touch*5
model delonghi : magnifica s*1.5, dedica*0.8, la specialista*2.5
model nespresso : vertuo next*0.6~vertuo, essenza mini*0.5, lattissima*1.3
model keurig : k-elite*0.7~k elite, k-mini*0.4~k mini
type microwave 90 1.2 : microwave/microwave oven~micro wave~microwave cooker~nuker ; attrs=colour ; brands=panasonic|samsung|lg|ge|toshiba|-
type blender 60 1.2 : blender/blender jug~smoothie blender~liquidizer~smoothie maker~liquidiser ; attrs=colour ; brands=vitamix|ninja|nutribullet|kitchenaid|blendtec
model vitamix : 5200*5~e310, a3500*8
model ninja : ninja professional*1.2
type stand_mixer 250 1.2 : stand mixer/mixer~kitchen mixer~cake mixer~food mixer~baking mixer ; attrs=colour ; brands=kitchenaid|kenwood|smeg|cuisinart
model kitchenaid : artisan*1.2, classic*0.8, professional 600*1.6
model kenwood : chef xl*1.1, kmix*0.8
type coffee_pods 15 0.7 : pods/coffee pods/capsules~k cups~kcups~coffee capsules~coffee pads ; brands=nespresso|keurig|starbucks|- ; comp=coffee_machine

# ---------------------------------------------------------------- sports & outdoors
category bikes 2.0 🚲
attr style word 0.6 : road, mountain/mtb, hybrid, bmx, city/commuter, gravel
attr frame_size csize 0.5 : s/small, m/medium, l/large, xl/extra large
attr colour word 0.4 : black, white, red, blue, green, grey~gray, orange, yellow
type bicycle 400 4 : bike~bicycle~pushbike~cycle~bicyle ; attrs=style|frame_size|colour ; brands=trek|specialized|giant|cannondale|cube|scott|brompton
model trek : marlin 5*0.6{style=mountain}, domane al 2*1.1{style=road}~domane, fx 2*0.8{style=hybrid}, fuel ex 8*3{style=mountain}
model specialized : rockhopper*0.7{style=mountain}, allez*1.0{style=road}, sirrus*0.7{style=hybrid}, stumpjumper*3.2{style=mountain}~stumpy
model giant : talon*0.6{style=mountain}, contend*0.9{style=road}, escape*0.6{style=hybrid}, tcr*2.2{style=road}
model cannondale : trail 5*0.7{style=mountain}, synapse*1.6{style=road}, quick*0.7{style=hybrid}, topstone*1.5{style=gravel}
model brompton : c line*2.2{style=city}, p line*3.5{style=city}
type ebike 1400 1 : e-bike/electric bike/ebike~electric bicycle~e bike~pedal assist~electric cycle ; attrs=frame_size|colour ; brands=rad power|vanmoof|trek|specialized|cowboy
model rad power : radwagon*1.2, radrunner*0.9, radcity
model vanmoof : s3*1.4, x3*1.4
model specialized : turbo vado*2.4~vado
type bike_helmet 45 1.5 : helmet/bike helmet/cycling helmet~bicycle helmet~cycle helmet~head protection ; attrs=frame_size|colour ; brands=giro|bell|specialized|poc|- ; comp=bicycle|ebike
type bike_lock 30 1 : lock/bike lock/u lock/d lock~bicycle lock~chain lock~cable lock ; attrs=colour ; brands=kryptonite|abus|onguard|- ; comp=bicycle|ebike

category running_shoes 1.5 👟
attr shoe_size shoe 0.7 : 6, 7, 8, 8.5, 9, 9.5, 10, 10.5, 11, 12
attr colour word 0.45 : black, white, red, blue, grey~gray, pink, green, orange, yellow
attr gender word 0.5 : mens/men's~men~male, womens/women's~women~ladies
type running_shoes 110 3 : running shoes/runners/road running shoes~jogging shoes~running sneakers~joggers~running trainers ; attrs=shoe_size|colour|gender ; brands=nike|adidas|asics|brooks|hoka|new balance|saucony
model nike : pegasus 39/air zoom pegasus 39~pegasus, vaporfly*2.0~vaporfly next, invincible run*1.3~invincible, react infinity*1.2
model adidas : ultraboost 22/ultra boost~ultraboost*1.3, adizero adios pro*1.6~adios pro
model asics : gel-kayano 29/gel kayano 29~kayano, gel-nimbus 24~nimbus, novablast*0.9
model brooks : ghost 14, glycerin 20*1.2, adrenaline gts 22~adrenaline
model hoka : clifton 8/clifton, bondi 8*1.2~bondi, speedgoat 5~speedgoat
model new balance : fresh foam 1080v12~1080, 880v12~880
model saucony : endorphin speed*1.3~endorphin, ride 15, kinvara 13~kinvara
type running_socks 12 0.5 : running socks/socks~athletic socks~sport socks~jogging socks ; attrs=colour ; brands=balega|nike|feetures|- ; comp=running_shoes

category sneakers_boots 2.0 👟
attr shoe_size shoe 0.7 : 6, 7, 8, 8.5, 9, 9.5, 10, 10.5, 11, 12
attr colour word 0.45 : black, white, red, blue, grey~gray, brown~tan, green, cream~off white
attr gender word 0.4 : mens/men's~men~male, womens/women's~women~ladies
attr material word 0.3 : leather, suede, canvas
type sneakers 120 3 : sneakers/shoes/kicks~trainers~tennis shoes~sneaks~sneaker ; attrs=shoe_size|colour|gender ; brands=nike|adidas|new balance|vans|converse|puma|jordan
model nike : air force 1/af1~air force ones, air max 90/air max~airmax 90, dunk low/dunks~dunk, blazer mid~blazer
model adidas : stan smith, superstar, samba*1.1, gazelle, yeezy boost 350*2.5~yeezy
model new balance : 550*1.1, 990v5*1.4~990, 574*0.8
model vans : old skool/old school~oldskool, sk8-hi~sk8 hi~sk8hi, authentic*0.7
model converse : chuck taylor all star/chuck taylor~chucks~all stars, chuck 70*1.2
model puma : suede classic, rs-x*1.1~rsx
model jordan : air jordan 1/aj1~jordan 1*2, jordan 4*2.5~aj4
type boots 140 2 : boots/ankle boots/chelsea boots~booties~boot~winter boots~work boots ; attrs=shoe_size|colour|gender|material ; brands=dr martens|timberland|ugg|blundstone|red wing|-
model dr martens : 1460*1.0{material=leather}, 1461*0.9{material=leather}, jadon*1.2{material=leather}
model timberland : 6 inch premium*1.0~6 inch
model ugg : classic short*1.0{material=suede}, classic mini*0.9{material=suede}, tasman*0.8{material=suede}
model blundstone : 500*1.0{material=leather}, 550*1.1{material=leather}
model red wing : iron ranger*1.6{material=leather}, moc toe*1.5{material=leather}

# ---------------------------------------------------------------- fashion
category jackets 2.0 🧥
attr csize csize 0.6 : xs/extra small~xsmall, s/small~sml, m/medium~med, l/large~lrg, xl/extra large~x large~xlarge, xxl/2xl~xx large
attr colour word 0.45 : black, navy/navy blue, olive~khaki, grey~gray, beige~tan, red, green
attr gender word 0.4 : mens/men's~men~male, womens/women's~women~ladies
attr material word 0.4 : down/puffer~goose down, leather, denim~jean, wool, fleece, waxed cotton/wax
type jacket 120 4 : jacket/jkt~coat~outerwear~anorak~overcoat ; attrs=csize|colour|gender|material ; brands=the north face|patagonia|canada goose|columbia|arcteryx|barbour|zara|levis|-
model the north face : nuptse/nuptse 1996~nuptse puffer{material=down}, denali*0.8{material=fleece}, mcmurdo parka*1.4{material=down}~mcmurdo
model patagonia : nano puff*1.0{material=down}, better sweater*0.8{material=fleece}, down sweater*1.2{material=down}
model canada goose : expedition parka*5{material=down}~expedition, chilliwack*4.5{material=down}
model arcteryx : beta ar*3.2~beta, atom lt*1.8{material=down}~atom
model barbour : bedale*2.2{material=waxed cotton}, beaufort*2.3{material=waxed cotton}
model levis : trucker*0.6{material=denim}~levis trucker, sherpa trucker*0.8{material=denim}
type gloves 20 0.8 : gloves/winter gloves~mittens~mitts~hand warmers ; attrs=csize|colour|material ; brands=the north face|patagonia|- 

category dresses 1.5 👗
attr csize csize 0.6 : xs/extra small~xsmall, s/small~sml, m/medium~med, l/large~lrg, xl/extra large~x large~xlarge
attr colour word 0.5 : black, white, red, blue, navy, green, pink, floral~flower, yellow, beige~nude
attr length word 0.5 : mini, midi, maxi/long~full length~floor length
attr occasion word 0.3 : party/cocktail~evening~going out, casual/summer~day, formal/gown~prom~black tie, wedding guest~wedding
type dress 60 4 : dress~frock~sundress~dresses~outfit ; attrs=csize|colour|length|occasion ; brands=zara|h&m|reformation|asos|free people|mango|-
model reformation : juliette*1.4, nikita*1.2

category watches 1.5 ⌚
attr band word 0.4 : leather, steel/stainless steel~metal~bracelet, rubber/silicone, nato
attr case_size unit 0.5 : 38mm, 40mm, 41mm, 42mm, 44mm, 45mm
attr colour word 0.35 : black, silver, gold, blue, rose gold~pink gold, green
type watch 300 2 : watch/wristwatch/timepiece~wrist watch~analog watch~automatic watch~mechanical watch ; attrs=band|case_size ; brands=rolex|omega|seiko|casio|tissot|fossil|citizen|tag heuer
model rolex : submariner*30, datejust*24, explorer*22
model omega : speedmaster*16~speedy, seamaster*14
model seiko : presage*1.5, seiko 5 sports*1.0~seiko 5, prospex*1.8
model casio : g-shock/g shock~gshock*0.4, f91w*0.1~f-91w
model tissot : prx*1.5, le locle*1.8
model tag heuer : carrera*8, aquaracer*6
type smartwatch 250 2.5 : smartwatch/smart watch~fitness watch~gps watch~wearable~fitness tracker ; attrs=colour|case_size ; brands=apple|samsung|garmin|fitbit|google
model apple : apple watch series 8/apple watch 8~iwatch 8~iwatch*1.5, apple watch se/watch se~iwatch se*1.0, apple watch ultra*3~iwatch ultra
model samsung : galaxy watch 5*1.0, galaxy watch 4*0.8
model garmin : forerunner 255*1.3~forerunner, fenix 7*2.6~fenix, venu 2*1.5~venu
model fitbit : versa 4*0.7~versa, sense 2*0.9, charge 5*0.5
model google : pixel watch*1.3
type watch_strap 25 1 : strap/watch band/watch strap~band~replacement band~wristband ; attrs=band|case_size ; brands=apple|hirsch|barton|- ; comp=watch|smartwatch

category handbags 1.5 👜
attr colour word 0.45 : black, brown~tan, beige/nude~cream, red, white, pink, navy
attr material word 0.45 : leather/genuine leather~real leather, vegan leather/faux leather~pu leather, canvas, suede, nylon
attr bag_style word 0.5 : tote, crossbody/cross body~shoulder strap, clutch, shoulder bag, satchel
type handbag 200 3 : handbag/bag/hand bag~purse~pocketbook~ladies bag~womens bag ; attrs=colour|material|bag_style ; brands=louis vuitton|gucci|coach|michael kors|kate spade|prada|chanel|longchamp|-
model louis vuitton : neverfull*8{bag_style=tote}, speedy*7, pochette metis*9{bag_style=crossbody}
model gucci : marmont*9~gg marmont, dionysus*10, jackie*11
model coach : tabby*1.5, willow*1.3
model longchamp : le pliage*0.6{bag_style=tote|material=nylon}~pliage
model chanel : classic flap*35~chanel flap, boy bag*25
model prada : re-edition 2005*6~re edition
type wallet 45 1.5 : wallet/card holder/billfold~card wallet~cardholder~money clip~coin purse ; attrs=colour|material ; brands=louis vuitton|gucci|coach|michael kors|bellroy|- ; comp=handbag
type backpack 60 1.5 : backpack/rucksack/daypack~bookbag~school bag~knapsack~back pack ; attrs=colour|material ; brands=fjallraven|herschel|the north face|osprey|jansport
model fjallraven : kanken*1.0~kanken backpack, kanken mini*0.8
model the north face : borealis, jester*0.9
model osprey : farpoint 40*2, talon 22*1.5
model herschel : little america*1.4

# ---------------------------------------------------------------- tools, toys, books, music, baby, pets
category power_tools 1.5 🔧
attr voltage unit 0.7 : 12v*0.7, 18v, 20v, 40v*1.3
attr kit word 0.5 : bare tool/tool only~body only, kit/with battery~combo kit~battery and charger*1.5
type drill 120 2 : drill/cordless drill/drill driver~power drill~electric drill~screw gun~drill machine ; attrs=voltage|kit ; brands=dewalt|makita|milwaukee|bosch|ryobi|black and decker
model dewalt : dcd771*0.6, dcd791*1.0, dcd996*1.4
model makita : xfd131*1.0, xph12*1.1
model milwaukee : m18 fuel*1.5~m18, m12*0.7{voltage=12v}
type circular_saw 140 1 : circular saw/saw/cordless saw~skill saw~skilsaw~buzz saw~power saw ; attrs=voltage|kit ; brands=dewalt|makita|milwaukee|ryobi|bosch
type impact_driver 110 1 : impact driver/impact~impact gun~impact drill~impact wrench ; attrs=voltage|kit ; brands=dewalt|makita|milwaukee|ryobi
type tool_battery 60 1 : battery/batteries/battery pack~power tool battery~spare battery~replacement battery ; attrs=voltage ; brands=dewalt|makita|milwaukee|ryobi|bosch ; comp=drill|circular_saw|impact_driver
type drill_bits 20 0.8 : drill bits/drill bit set/bit set~drill bit kit~driver bits~screwdriver bits ; brands=dewalt|bosch|milwaukee|- ; comp=drill|impact_driver

category toys 2.0 🧸
attr theme word 0.7 : star wars, city, technic, harry potter, friends, ninjago, marvel/super heroes~superhero
type lego_set 60 3 : set/building set/building kit~construction set~building blocks~bricks~construction toy ; attrs=theme ; brands=lego|mega bloks
model lego : millennium falcon 75192*10{theme=star wars}~millenium falcon, hogwarts castle 71043*6{theme=harry potter}~hogwarts, death star*5{theme=star wars}, bugatti chiron 42083*4{theme=technic}~bugatti, fire station*0.8{theme=city}, police station*0.8{theme=city}, ninjago city*4{theme=ninjago}, avengers tower*2.5{theme=marvel}
type board_game 30 2 : board game/boardgame~family game~tabletop game~strategy game~party game ; brands=hasbro|asmodee|mattel|ravensburger
model hasbro : monopoly*0.8, cluedo/clue*0.8
model mattel : scrabble*0.7, uno*0.3
model asmodee : catan/settlers of catan~settlers, ticket to ride, pandemic, 7 wonders
type doll 30 1 : doll/dolls/fashion doll~toy doll~play doll~baby doll ; brands=mattel|american girl|lol surprise
model mattel : barbie dreamhouse*5~dreamhouse, barbie*0.6
model american girl : truly me*3, bitty baby*2

category books 2.0 📚
attr format word 0.6 : paperback/pb~soft cover~softcover, hardcover/hardback~hard cover~hb*1.6
attr subject word 0.8 : calculus, biology, organic chemistry~ochem, economics~econ, psychology~psych, statistics~stats
type novel 12 3 : book/novel~fiction book~story book~fiction~read ; attrs=format ; brands=j k rowling|stephen king|colleen hoover|sally rooney|george r r martin|agatha christie|j r r tolkien
model j k rowling : harry potter and the philosopher's stone/philosopher's stone~sorcerers stone, harry potter box set*8~harry potter books, harry potter and the goblet of fire/goblet of fire
model stephen king : it, the shining/shining, pet sematary, misery, the outsider
model colleen hoover : it ends with us, verity, ugly love
model sally rooney : normal people, beautiful world where are you
model george r r martin : a game of thrones/game of thrones~got book, a clash of kings/clash of kings, a song of ice and fire box set*6~asoiaf
model agatha christie : murder on the orient express/orient express, and then there were none, death on the nile
model j r r tolkien : the hobbit/hobbit, the fellowship of the ring/fellowship of the ring, lord of the rings box set*5~lotr
type textbook 60 1.5 : textbook/text book~college textbook~course book~school book~uni book ; attrs=format|subject ; brands=pearson|mcgraw hill|wiley|cengage
type cookbook 20 1 : cookbook/cook book~recipe book~cookery book~cooking book~recipes ; attrs=format ; brands=yotam ottolenghi|jamie oliver|nigella lawson|samin nosrat|-
model yotam ottolenghi : jerusalem, ottolenghi simple~simple
model jamie oliver : 5 ingredients, one
model samin nosrat : salt fat acid heat
type childrens_book 10 1.5 : children's book/kids book/picture book~childrens book~kids books~bedtime story~toddler book ; attrs=format ; brands=dr seuss|julia donaldson|eric carle|roald dahl
model dr seuss : the cat in the hat/cat in the hat, green eggs and ham
model julia donaldson : the gruffalo/gruffalo, room on the broom
model eric carle : the very hungry caterpillar/hungry caterpillar
model roald dahl : matilda, charlie and the chocolate factory

category guitars 1.2 🎸
attr colour word 0.5 : sunburst/3-tone sunburst~sunburst finish, black, natural, white, red/cherry~candy apple red, blue
attr handed word 0.3 : right handed/rh~right hand, left handed/lefty~left hand~lh
type electric_guitar 600 2 : electric guitar/guitar/electric~elec guitar~e guitar~solid body ; attrs=colour|handed ; brands=fender|gibson|epiphone|ibanez|squier|prs|yamaha
model fender : stratocaster/strat~player stratocaster, telecaster/tele, jazzmaster*1.1
model gibson : les paul standard/les paul~lespaul*3, sg standard/sg*2, es-335~es 335*4
model epiphone : les paul standard/les paul*0.8~lespaul, sg*0.6, casino*0.9
model ibanez : rg550*1.2, rg421*0.6, az2204*2.5
model squier : classic vibe stratocaster/cv strat*0.6~squier strat, affinity telecaster*0.4~affinity tele
model prs : se custom 24*1.2, custom 24*5
type acoustic_guitar 300 2 : acoustic guitar/acoustic/guitar~acoustic electric~steel string guitar~folk guitar~6 string ; attrs=colour|handed ; brands=martin|taylor|yamaha|gibson|fender|takamine
model martin : d-28/d28~martin d28*5, 000-15m*2.5, lx1 little martin*0.6~little martin
model taylor : 214ce*2.5, gs mini*1.3~gsmini, 814ce*7
model yamaha : fg800*0.5, a3r*2
model gibson : j-45/j45*6, hummingbird*8
type guitar_amp 250 1.2 : amp/amplifier/guitar amp~combo amp~practice amp~tube amp~valve amp ; brands=fender|marshall|boss|vox|orange|blackstar ; comp=electric_guitar
model fender : blues junior/blues jr*1.0, mustang lt25*0.4, deluxe reverb*2.5
model marshall : dsl40cr*1.0, mg15*0.3
model boss : katana 50*0.9~katana
model vox : ac30*2.5, ac15*1.8
type guitar_case 60 1 : guitar case/gig bag/hard case~guitar bag~hardcase~soft case ; brands=fender|gator|- ; comp=electric_guitar|acoustic_guitar
type guitar_pedal 120 1 : pedal/effects pedal/guitar pedal~stompbox~effect pedal~fx pedal~stomp box ; brands=boss|electro-harmonix|tc electronic|mxr ; comp=electric_guitar|guitar_amp
model boss : ds-1*0.4~ds1, bd-2 blues driver*0.7~blues driver, rc-30 loop station*1.3~rc30
model electro-harmonix : big muff pi*0.6~big muff
model mxr : phase 90*0.6

category baby 1.2 👶
attr colour word 0.35 : black, grey~gray, navy, beige/sand, green, red
attr stroller_type word 0.5 : full size, jogging/jogger~running stroller, umbrella/lightweight~travel stroller~compact stroller, double/twin~tandem~side by side
type stroller 350 2 : stroller/pushchair~pram~buggy~baby stroller~push chair~baby carriage ; attrs=colour|stroller_type ; brands=uppababy|bugaboo|baby jogger|babyzen|graco|joolz|cybex|thule
model uppababy : vista v2*1.5{stroller_type=full size}~vista, cruz v2*1.1{stroller_type=full size}~cruz, minu v2*0.8{stroller_type=umbrella}~minu
model bugaboo : fox 3*1.6{stroller_type=full size}~bugaboo fox, cameleon 3*0.9{stroller_type=full size}~cameleon, bee 6*0.9{stroller_type=umbrella}, donkey 5*1.8{stroller_type=double}
model babyzen : yoyo2/yoyo*0.9{stroller_type=umbrella}~yoyo 2
model baby jogger : city mini gt2*0.8{stroller_type=jogging}~city mini, city select*1.0{stroller_type=double}
model thule : urban glide 2*1.2{stroller_type=jogging}~urban glide
model graco : modes*0.5, fastaction*0.4
model cybex : priam*1.6, eezy s twist*0.7{stroller_type=umbrella}
type car_seat 180 1.5 : car seat/infant car seat/convertible car seat~baby car seat~carseat~baby seat~infant seat ; attrs=colour ; brands=chicco|britax|nuna|maxi-cosi|graco|cybex ; comp=stroller
model nuna : pipa lite*1.2~pipa, rava*1.4
model chicco : keyfit 30*0.7~keyfit, nextfit*0.9
type stroller_cover 25 0.8 : rain cover/raincover/weather shield~pram cover~buggy rain cover~stroller cover~rain shield ; brands=uppababy|bugaboo|- ; comp=stroller
type high_chair 120 1 : high chair/highchair~feeding chair~baby chair~booster seat~baby high seat ; attrs=colour ; brands=stokke|ikea|chicco|joie
model stokke : tripp trapp*1.8
model ikea : antilop*0.15

category pets 0.8 🐶
attr pet_size csize 0.5 : s/small, m/medium, l/large, xl/extra large
attr colour word 0.4 : grey~gray, brown, black, beige, navy, green
type dog_bed 50 1.5 : dog bed/pet bed/orthopedic dog bed~dog cushion~puppy bed~dog mattress~dog basket ; attrs=pet_size|colour ; brands=kong|big barker|- 
type dog_crate 70 1 : dog crate/crate/kennel~dog cage~pet crate~puppy pen~dog box ; attrs=pet_size ; brands=midwest|- 
type cat_tree 70 1 : cat tree/cat tower/scratching post~cat condo~cat scratcher~kitty tower~cat climbing frame ; attrs=colour ; brands=feandrea|- 
)TAXONOMY";

}  // namespace marketsearch
