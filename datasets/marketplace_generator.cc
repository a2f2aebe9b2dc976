#include "datasets/marketplace_generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/timing.h"
#include "datasets/marketplace_taxonomy.h"

namespace marketsearch {
namespace {

// Fixed "now" of the synthetic world (2026-09-21); listings are dated in the 90 days before.
constexpr int64_t kEpochUnix = 1790000000;
constexpr int64_t kListingWindowSeconds = 90 * 86400;
constexpr int kMaxAttrs = 4;
constexpr int kMaxIntentAttrs = 3;
// Judged per query besides every Exact listing.
constexpr int kSubstitutesPerQuery = 20;
constexpr int kComplementsPerQuery = 10;
constexpr int kIrrelevantPerQuery = 10;
constexpr int kLexicalIrrelevantPerQuery = 5;
constexpr int kPageSize = 10;

// ------------------------------------------------------------------------------------------
// Random numbers. std::mt19937_64 is fully specified by the standard; the distributions of
// <random> are not, so the few we need are written here to keep files identical everywhere.

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : g_(SplitMix64(seed ^ SplitMix64(stream))) {}
  double Uniform() { return static_cast<double>(g_() >> 11) * (1.0 / 9007199254740992.0); }
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(g_()) * n) >> 64);
  }
  int Int(int n) { return static_cast<int>(Below(static_cast<uint64_t>(n))); }
  bool Chance(double p) { return Uniform() < p; }
  double Normal() {
    const double u1 = (static_cast<double>(g_() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Below(v.size())]; }
  template <size_t N>
  const char* Pick(const char* const (&a)[N]) { return a[Below(N)]; }
  // Index drawn from cumulative weights.
  int Weighted(const std::vector<double>& cum) {
    const double x = Uniform() * cum.back();
    size_t i = std::upper_bound(cum.begin(), cum.end(), x) - cum.begin();
    return static_cast<int>(std::min(i, cum.size() - 1));
  }

 private:
  std::mt19937_64 g_;
};

template <typename T>
void Shuffle(std::vector<T>* v, Rng* r) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[r->Below(i)]);
}

std::vector<double> RankWeights(size_t n, double exponent) {
  std::vector<double> cum(n);
  double s = 0;
  for (size_t i = 0; i < n; ++i) {
    s += 1.0 / std::pow(static_cast<double>(i + 1), exponent);
    cum[i] = s;
  }
  return cum;
}

// ------------------------------------------------------------------------------------------
// The taxonomy (see marketplace_taxonomy.cc for the grammar).

enum class AttrKind { kWord, kUnit, kInch, kShoe, kClothing };

struct Forms {
  std::vector<std::string> seller;      // seller[0] is canonical
  std::vector<std::string> buyer_only;  // never in a title
  const std::string& canonical() const { return seller.front(); }
};

struct Value {
  Forms forms;
  double mult = 1.0;
  std::vector<std::pair<std::string, std::string>> fixed_raw;
};

struct AttrDef {
  std::string name;
  std::string label;  // name with spaces, for descriptions
  AttrKind kind = AttrKind::kWord;
  double title_prob = 0.5;
  std::string suffix;
  std::vector<Value> values;
  std::vector<double> cum;
};

struct ModelDef {
  int brand = -1;
  Value value;
  std::vector<std::pair<int, int>> fixed;  // (attribute slot of the type, value)
};

struct TypeDef {
  std::string name;
  int category = 0;
  double price = 1;
  double weight = 1;
  Forms words;
  std::vector<int> attrs;   // indexes into the category's attributes (one per slot)
  std::vector<int> brands;  // global brand ids; -1 = unbranded
  std::vector<double> brand_cum;
  std::vector<ModelDef> models;
  std::vector<std::vector<int>> models_of_slot;  // per brand slot: indexes into models
  std::vector<std::vector<double>> model_cum;
  std::vector<std::string> comp_raw;
  std::vector<int> comp;  // symmetric complement types
};

struct CategoryDef {
  std::string name;
  double weight = 1;
  std::string emoji;
  std::vector<AttrDef> attrs;
  std::vector<int> types;
  bool allows_for_parts = true;
  std::vector<const char*> extras;  // category-specific title extras
};

struct Taxonomy {
  std::vector<CategoryDef> categories;
  std::vector<TypeDef> types;
  std::vector<Forms> brands;
  absl::flat_hash_map<std::string, int> brand_index;
  absl::flat_hash_map<std::string, int> type_index;
  std::vector<double> type_cum;           // listing distribution over types
  std::vector<std::vector<int>> brand_types;  // per brand: types carrying it
  std::vector<uint8_t> comp_matrix;       // types x types
  bool Comp(int a, int b) const { return comp_matrix[a * types.size() + b] != 0; }
};

bool ValidForm(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '=' || c == ',') return false;
  }
  return true;
}

absl::Status ParseValue(absl::string_view text, Value* v) {
  std::string s(absl::StripAsciiWhitespace(text));
  const size_t b = s.find('{');
  if (b != std::string::npos) {
    const size_t e = s.find('}', b);
    if (e == std::string::npos) return absl::InternalError(absl::StrCat("unclosed '{' in ", s));
    const std::string inner = s.substr(b + 1, e - b - 1);
    s.erase(b, e - b + 1);
    for (absl::string_view kv : absl::StrSplit(inner, '|', absl::SkipEmpty())) {
      std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
      v->fixed_raw.emplace_back(std::string(absl::StripAsciiWhitespace(p.first)),
                                std::string(absl::StripAsciiWhitespace(p.second)));
    }
  }
  const size_t star = s.find('*');
  if (star != std::string::npos) {
    size_t end = star + 1;
    while (end < s.size() && (absl::ascii_isdigit(s[end]) || s[end] == '.')) ++end;
    if (!absl::SimpleAtod(s.substr(star + 1, end - star - 1), &v->mult) || v->mult <= 0) {
      return absl::InternalError(absl::StrCat("bad multiplier in ", s));
    }
    s.erase(star, end - star);
  }
  std::vector<std::string> parts = absl::StrSplit(s, '~');
  for (absl::string_view f : absl::StrSplit(parts[0], '/')) {
    f = absl::StripAsciiWhitespace(f);
    if (!ValidForm(f)) return absl::InternalError(absl::StrCat("bad form in '", s, "'"));
    v->forms.seller.emplace_back(f);
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    absl::string_view f = absl::StripAsciiWhitespace(parts[i]);
    if (!ValidForm(f)) return absl::InternalError(absl::StrCat("bad form in '", s, "'"));
    v->forms.buyer_only.emplace_back(f);
  }
  return absl::OkStatus();
}

int BrandId(Taxonomy* tax, const std::string& name) {
  auto it = tax->brand_index.find(name);
  if (it != tax->brand_index.end()) return it->second;
  Forms f;
  f.seller.push_back(name);
  tax->brands.push_back(std::move(f));
  const int id = static_cast<int>(tax->brands.size()) - 1;
  tax->brand_index.emplace(name, id);
  return id;
}

const char* const kForPartsCategories[] = {"phones", "laptops", "tablets", "tvs", "headphones",
                                           "cameras", "consoles", "kitchen", "power_tools",
                                           "bikes", "guitars"};

std::vector<const char*> CategoryExtras(absl::string_view cat) {
  if (cat == "phones") return {"unlocked", "w/ charger", "w/ box", "battery 91%", "factory unlocked", "no scratches"};
  if (cat == "laptops") return {"w/ charger", "barely used", "great for school", "w/ box"};
  if (cat == "tablets") return {"w/ case", "w/ charger", "great for kids"};
  if (cat == "tvs") return {"w/ remote", "wall mount incl", "4k hdr"};
  if (cat == "consoles") return {"w/ 2 controllers", "+ games", "w/ box", "bundle"};
  if (cat == "cameras") return {"low shutter count", "w/ strap", "w/ bag"};
  if (cat == "sofas" || cat == "tables" || cat == "chairs" || cat == "beds") {
    return {"pickup only", "must collect", "moving sale", "smoke free home", "pet free home"};
  }
  if (cat == "bikes") return {"recently serviced", "new tyres", "w/ lights"};
  if (cat == "running_shoes" || cat == "sneakers_boots") return {"worn twice", "w/ box", "100% authentic", "ds"};
  if (cat == "jackets" || cat == "dresses") return {"worn once", "nwt", "authentic"};
  if (cat == "handbags" || cat == "watches") return {"100% authentic", "w/ dust bag", "w/ papers", "receipt incl"};
  if (cat == "power_tools") return {"w/ case", "barely used", "contractor owned"};
  if (cat == "toys") return {"complete", "sealed box", "all pieces"};
  if (cat == "books") return {"like new", "bundle", "signed"};
  if (cat == "guitars") return {"w/ gig bag", "setup done", "upgraded pickups"};
  if (cat == "baby") return {"w/ rain cover", "smoke free home", "all accessories"};
  return {};
}

// How an attribute is introduced in descriptions ("" = the value speaks for itself).
std::string DescriptionLabel(absl::string_view name) {
  static const char* const kBare[] = {"gender", "handed", "seats", "seating", "kit", "fit",
                                      "connectivity", "format", "style", "stroller_type",
                                      "fridge_style", "bag_style", "length", "occasion", "panel",
                                      "resolution", "firmness", "platform", "shape"};
  for (const char* b : kBare) {
    if (name == b) return "";
  }
  if (name == "ram") return "RAM";
  if (name == "ssd") return "SSD";
  if (name == "fits") return "fits";
  if (name == "bedsize") return "size";
  if (name == "band") return "band";
  std::string l(name);
  std::replace(l.begin(), l.end(), '_', ' ');
  return l;
}

absl::StatusOr<std::unique_ptr<Taxonomy>> ParseTaxonomy(absl::string_view text) {
  auto tax = std::make_unique<Taxonomy>();
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    auto err = [&](absl::string_view what) {
      return absl::InternalError(absl::StrCat("taxonomy line ", line_no, ": ", what, ": ", line));
    };
    const size_t sp = line.find(' ');
    if (sp == absl::string_view::npos) return err("no arguments");
    const absl::string_view kw = line.substr(0, sp);
    const absl::string_view rest = absl::StripAsciiWhitespace(line.substr(sp + 1));
    if (kw == "brand") {
      Value v;
      auto s = ParseValue(rest, &v);
      if (!s.ok()) return err(s.message());
      if (tax->brand_index.contains(v.forms.canonical())) return err("duplicate brand");
      tax->brands.push_back(v.forms);
      tax->brand_index.emplace(v.forms.canonical(), static_cast<int>(tax->brands.size()) - 1);
    } else if (kw == "category") {
      std::vector<std::string> f = absl::StrSplit(rest, ' ', absl::SkipEmpty());
      if (f.size() != 3) return err("want: category NAME WEIGHT EMOJI");
      CategoryDef c;
      c.name = f[0];
      if (!absl::SimpleAtod(f[1], &c.weight) || c.weight <= 0) return err("bad weight");
      c.emoji = f[2];
      c.allows_for_parts = std::find_if(std::begin(kForPartsCategories), std::end(kForPartsCategories),
                                        [&](const char* n) { return c.name == n; }) !=
                           std::end(kForPartsCategories);
      c.extras = CategoryExtras(c.name);
      tax->categories.push_back(std::move(c));
    } else if (kw == "attr" || kw == "type" || kw == "model") {
      if (tax->categories.empty()) return err("outside a category");
      CategoryDef& cat = tax->categories.back();
      const size_t colon = rest.find(':');
      if (colon == absl::string_view::npos) return err("missing ':'");
      const absl::string_view head = absl::StripAsciiWhitespace(rest.substr(0, colon));
      const absl::string_view body = rest.substr(colon + 1);
      if (kw == "attr") {
        std::vector<std::string> h = absl::StrSplit(head, ' ', absl::SkipEmpty());
        if (h.size() < 3 || h.size() > 4) return err("want: attr NAME KIND PROB [+SUFFIX]");
        AttrDef a;
        a.name = h[0];
        a.label = DescriptionLabel(h[0]);
        if (h[1] == "word") a.kind = AttrKind::kWord;
        else if (h[1] == "unit") a.kind = AttrKind::kUnit;
        else if (h[1] == "inch") a.kind = AttrKind::kInch;
        else if (h[1] == "shoe") a.kind = AttrKind::kShoe;
        else if (h[1] == "csize") a.kind = AttrKind::kClothing;
        else return err("unknown attribute kind");
        if (!absl::SimpleAtod(h[2], &a.title_prob)) return err("bad title probability");
        if (h.size() == 4) {
          if (h[3].size() < 2 || h[3][0] != '+') return err("suffix must look like +word");
          a.suffix = h[3].substr(1);
        }
        for (absl::string_view vs : absl::StrSplit(body, ',', absl::SkipWhitespace())) {
          Value v;
          auto s = ParseValue(vs, &v);
          if (!s.ok()) return err(s.message());
          a.values.push_back(std::move(v));
        }
        if (a.values.size() < 2 || a.values.size() > 250) return err("need 2..250 values");
        a.cum = RankWeights(a.values.size(), 0.5);
        for (const AttrDef& o : cat.attrs) {
          if (o.name == a.name) return err("duplicate attribute");
        }
        cat.attrs.push_back(std::move(a));
      } else if (kw == "type") {
        std::vector<std::string> h = absl::StrSplit(head, ' ', absl::SkipEmpty());
        if (h.size() != 3) return err("want: type NAME PRICE WEIGHT");
        TypeDef t;
        t.name = h[0];
        t.category = static_cast<int>(tax->categories.size()) - 1;
        if (!absl::SimpleAtod(h[1], &t.price) || !absl::SimpleAtod(h[2], &t.weight) ||
            t.price <= 0 || t.weight <= 0) {
          return err("bad price or weight");
        }
        std::vector<absl::string_view> parts = absl::StrSplit(body, ';');
        Value words;
        auto s = ParseValue(parts[0], &words);
        if (!s.ok()) return err(s.message());
        t.words = words.forms;
        for (size_t i = 1; i < parts.size(); ++i) {
          absl::string_view kv = absl::StripAsciiWhitespace(parts[i]);
          if (kv.empty()) continue;
          std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
          std::vector<std::string> items = absl::StrSplit(p.second, '|', absl::SkipWhitespace());
          for (std::string& it : items) it = std::string(absl::StripAsciiWhitespace(it));
          if (p.first == "attrs") {
            for (const std::string& an : items) {
              int idx = -1;
              for (size_t k = 0; k < cat.attrs.size(); ++k) {
                if (cat.attrs[k].name == an) idx = static_cast<int>(k);
              }
              if (idx < 0) return err(absl::StrCat("unknown attribute ", an));
              t.attrs.push_back(idx);
            }
            if (t.attrs.size() > kMaxAttrs) return err("too many attributes");
          } else if (p.first == "brands") {
            for (const std::string& bn : items) t.brands.push_back(bn == "-" ? -1 : BrandId(tax.get(), bn));
          } else if (p.first == "comp") {
            t.comp_raw = items;
          } else {
            return err(absl::StrCat("unknown key ", p.first));
          }
        }
        if (t.brands.empty()) t.brands.push_back(-1);
        t.brand_cum = RankWeights(t.brands.size(), 0.7);
        t.models_of_slot.resize(t.brands.size());
        t.model_cum.resize(t.brands.size());
        if (tax->type_index.contains(t.name)) return err("duplicate type");
        tax->type_index.emplace(t.name, static_cast<int>(tax->types.size()));
        cat.types.push_back(static_cast<int>(tax->types.size()));
        tax->types.push_back(std::move(t));
      } else {  // model
        if (cat.types.empty()) return err("model before any type");
        TypeDef& t = tax->types[cat.types.back()];
        auto bit = tax->brand_index.find(std::string(head));
        if (bit == tax->brand_index.end()) return err("unknown brand");
        int slot = -1;
        for (size_t k = 0; k < t.brands.size(); ++k) {
          if (t.brands[k] == bit->second) slot = static_cast<int>(k);
        }
        if (slot < 0) return err("brand not listed for the type");
        for (absl::string_view vs : absl::StrSplit(body, ',', absl::SkipWhitespace())) {
          ModelDef m;
          m.brand = bit->second;
          auto s = ParseValue(vs, &m.value);
          if (!s.ok()) return err(s.message());
          for (const auto& [an, av] : m.value.fixed_raw) {
            int fslot = -1, fval = -1;
            for (size_t k = 0; k < t.attrs.size(); ++k) {
              const AttrDef& a = cat.attrs[t.attrs[k]];
              if (a.name != an) continue;
              fslot = static_cast<int>(k);
              for (size_t j = 0; j < a.values.size(); ++j) {
                if (a.values[j].forms.canonical() == av) fval = static_cast<int>(j);
              }
            }
            if (fslot < 0 || fval < 0) return err(absl::StrCat("bad fixed attribute ", an, "=", av));
            m.fixed.emplace_back(fslot, fval);
          }
          t.models_of_slot[slot].push_back(static_cast<int>(t.models.size()));
          t.models.push_back(std::move(m));
        }
        t.model_cum[slot] = RankWeights(t.models_of_slot[slot].size(), 0.4);
      }
    } else {
      return err("unknown statement");
    }
  }
  const size_t nt = tax->types.size();
  if (nt == 0 || tax->categories.size() < 2) return absl::InternalError("taxonomy: too small");
  tax->comp_matrix.assign(nt * nt, 0);
  for (size_t i = 0; i < nt; ++i) {
    for (const std::string& cn : tax->types[i].comp_raw) {
      auto it = tax->type_index.find(cn);
      if (it == tax->type_index.end()) {
        return absl::InternalError(absl::StrCat("taxonomy: type ", tax->types[i].name,
                                                " complements unknown type ", cn));
      }
      tax->comp_matrix[i * nt + it->second] = 1;
      tax->comp_matrix[it->second * nt + i] = 1;
    }
  }
  for (size_t i = 0; i < nt; ++i) {
    for (size_t j = 0; j < nt; ++j) {
      if (tax->comp_matrix[i * nt + j]) tax->types[i].comp.push_back(static_cast<int>(j));
    }
  }
  double cat_total = 0;
  for (const CategoryDef& c : tax->categories) cat_total += c.weight;
  double s = 0;
  for (const TypeDef& t : tax->types) {
    const CategoryDef& c = tax->categories[t.category];
    double type_total = 0;
    for (int o : c.types) type_total += tax->types[o].weight;
    s += c.weight / cat_total * t.weight / type_total;
    tax->type_cum.push_back(s);
  }
  tax->brand_types.resize(tax->brands.size());
  for (size_t i = 0; i < nt; ++i) {
    for (int b : tax->types[i].brands) {
      if (b >= 0) tax->brand_types[b].push_back(static_cast<int>(i));
    }
  }
  return tax;
}

// ------------------------------------------------------------------------------------------
// Cities (real names and coordinates; weight ~ relative population).

struct City {
  const char* name;
  double lat, lon, weight;
};
constexpr City kCities[] = {
    {"New York", 40.7128, -74.0060, 8.3},   {"Los Angeles", 34.0522, -118.2437, 3.9},
    {"Chicago", 41.8781, -87.6298, 2.7},    {"Houston", 29.7604, -95.3698, 2.3},
    {"Phoenix", 33.4484, -112.0740, 1.6},   {"Philadelphia", 39.9526, -75.1652, 1.6},
    {"San Antonio", 29.4241, -98.4936, 1.4}, {"San Diego", 32.7157, -117.1611, 1.4},
    {"Dallas", 32.7767, -96.7970, 1.3},     {"San Francisco", 37.7749, -122.4194, 0.9},
    {"Seattle", 47.6062, -122.3321, 0.7},   {"Boston", 42.3601, -71.0589, 0.7},
    {"Denver", 39.7392, -104.9903, 0.7},    {"Atlanta", 33.7490, -84.3880, 0.5},
    {"Miami", 25.7617, -80.1918, 0.5},      {"Austin", 30.2672, -97.7431, 1.0},
    {"Portland", 45.5152, -122.6784, 0.65}, {"Minneapolis", 44.9778, -93.2650, 0.43},
    {"Detroit", 42.3314, -83.0458, 0.63},   {"Nashville", 36.1627, -86.7816, 0.69},
    {"London", 51.5074, -0.1278, 8.9},      {"Paris", 48.8566, 2.3522, 2.1},
    {"Berlin", 52.5200, 13.4050, 3.6},      {"Madrid", 40.4168, -3.7038, 3.3},
    {"Barcelona", 41.3874, 2.1686, 1.6},    {"Rome", 41.9028, 12.4964, 2.8},
    {"Milan", 45.4642, 9.1900, 1.4},        {"Amsterdam", 52.3676, 4.9041, 0.9},
    {"Brussels", 50.8503, 4.3517, 1.2},     {"Vienna", 48.2082, 16.3738, 1.9},
    {"Munich", 48.1351, 11.5820, 1.5},      {"Hamburg", 53.5511, 9.9937, 1.8},
    {"Zürich", 47.3769, 8.5417, 0.4},       {"Copenhagen", 55.6761, 12.5683, 0.8},
    {"Stockholm", 59.3293, 18.0686, 1.0},   {"Oslo", 59.9139, 10.7522, 0.7},
    {"Dublin", 53.3498, -6.2603, 0.6},      {"Lisbon", 38.7223, -9.1393, 0.5},
    {"Warsaw", 52.2297, 21.0122, 1.8},      {"Kraków", 50.0647, 19.9450, 0.8},
    {"Prague", 50.0755, 14.4378, 1.3},      {"Manchester", 53.4808, -2.2426, 0.55},
    {"Málaga", 36.7213, -4.4214, 0.58},
};

// ------------------------------------------------------------------------------------------
// Text helpers.

// Calls fn(token) for each maximal run of ASCII letters/digits, lowercased.
template <typename Fn>
void ForEachToken(absl::string_view s, std::string* buf, Fn fn) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !absl::ascii_isalnum(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    buf->clear();
    while (i < s.size() && absl::ascii_isalnum(static_cast<unsigned char>(s[i]))) {
      buf->push_back(absl::ascii_tolower(static_cast<unsigned char>(s[i])));
      ++i;
    }
    fn(absl::string_view(*buf));
  }
}

// The query's distinct lowercase words in sorted order: "Grey IKEA couch" and "couch ikea
// grey" are the same query for the split assignment.
std::string NormalizeQuery(absl::string_view s) {
  std::vector<std::string> words;
  std::string buf;
  ForEachToken(s, &buf, [&](absl::string_view t) { words.emplace_back(t); });
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

enum class Case { kProper, kLower, kUpper, kSentence };

const absl::flat_hash_map<absl::string_view, absl::string_view>& DisplayForms() {
  static const auto* m = new absl::flat_hash_map<absl::string_view, absl::string_view>{
      {"iphone", "iPhone"}, {"ipad", "iPad"}, {"macbook", "MacBook"}, {"airpods", "AirPods"},
      {"playstation", "PlayStation"}, {"xbox", "Xbox"}, {"oneplus", "OnePlus"}, {"ikea", "IKEA"},
      {"dewalt", "DeWalt"}, {"kitchenaid", "KitchenAid"}, {"usb", "USB"}, {"oled", "OLED"},
      {"qled", "QLED"}, {"led", "LED"}, {"tv", "TV"}, {"uhd", "UHD"}, {"ssd", "SSD"},
      {"ram", "RAM"}, {"mtb", "MTB"}, {"bmx", "BMX"}, {"bnib", "BNIB"}, {"obo", "OBO"},
      {"nwt", "NWT"}, {"vgc", "VGC"}, {"prs", "PRS"}, {"mxr", "MXR"}, {"ehx", "EHX"},
      {"asus", "ASUS"}, {"gps", "GPS"}, {"lte", "LTE"}, {"wifi", "WiFi"}, {"smeg", "SMEG"},
      {"lego", "LEGO"}, {"vox", "VOX"}, {"boss", "BOSS"}, {"ugg", "UGG"}, {"poc", "POC"},
      {"dfs", "DFS"}, {"asos", "ASOS"}, {"g-shock", "G-Shock"}, {"iwatch", "iWatch"},
      {"h&m", "H&M"}, {"jbl", "JBL"}, {"tcl", "TCL"}, {"gta", "GTA"}, {"rog", "ROG"},
      {"benq", "BenQ"}, {"ebike", "eBike"}, {"e-bike", "E-Bike"}, {"hdr", "HDR"},
      {"pu", "PU"}, {"nato", "NATO"}, {"fps", "FPS"}, {"rpg", "RPG"}, {"sd", "SD"},
      {"sdxc", "SDXC"}, {"dslr", "DSLR"}, {"ds", "DS"}, {"gg", "GG"}, {"lv", "LV"},
      {"mk", "MK"}, {"nb", "NB"}, {"cg", "CG"}, {"rh", "RH"}, {"lh", "LH"}, {"ac", "AC"},
      {"sz", "Sz"}, {"xps", "XPS"}, {"nfl", "NFL"}, {"gts", "GTS"}, {"hd", "HD"}, {"w/", "w/"}, {"in.", "in."}, {"+", "+"},
  };
  return *m;
}

bool IsSmallWord(absl::string_view w) {
  static const char* const kSmall[] = {"a", "an", "of", "to", "in", "on", "at", "by", "or",
                                       "is", "it", "my", "go", "up", "w", "and", "the", "for",
                                       "with", "one"};
  for (const char* s : kSmall) {
    if (w == s) return true;
  }
  return false;
}

void AppendProperWord(absl::string_view w, std::string* out) {
  const auto& disp = DisplayForms();
  auto it = disp.find(w);
  if (it != disp.end()) {
    out->append(it->second.data(), it->second.size());
    return;
  }
  bool has_digit = false, has_alpha = false;
  for (char c : w) {
    has_digit |= absl::ascii_isdigit(static_cast<unsigned char>(c));
    has_alpha |= absl::ascii_isalpha(static_cast<unsigned char>(c));
  }
  if ((has_digit && has_alpha) || (w.size() <= 2 && has_alpha && !IsSmallWord(w))) {
    for (char c : w) out->push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
    return;
  }
  if (IsSmallWord(w)) {
    out->append(w.data(), w.size());
    return;
  }
  bool start = true;
  for (char c : w) {
    out->push_back(start ? absl::ascii_toupper(static_cast<unsigned char>(c)) : c);
    start = (c == '-');
  }
}

void AppendCased(absl::string_view phrase, Case cs, std::string* out) {
  switch (cs) {
    case Case::kLower:
    case Case::kSentence:
      for (char c : phrase) out->push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
      return;
    case Case::kUpper:
      for (char c : phrase) out->push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
      return;
    case Case::kProper: {
      size_t i = 0;
      while (i < phrase.size()) {
        if (phrase[i] == ' ') {
          out->push_back(' ');
          ++i;
          continue;
        }
        size_t j = i;
        while (j < phrase.size() && phrase[j] != ' ') ++j;
        AppendProperWord(phrase.substr(i, j - i), out);
        i = j;
      }
      return;
    }
  }
}

// A typing mistake in one word: swapped, dropped, doubled or replaced letter.
std::string Typo(absl::string_view w, Rng* r) {
  std::string s(w);
  if (s.size() < 4) return s;
  const size_t p = 1 + r->Below(s.size() - 2);  // keep the first letter
  switch (r->Int(4)) {
    case 0: std::swap(s[p], s[p + 1 < s.size() ? p + 1 : p - 1]); break;
    case 1: s.erase(p, 1); break;
    case 2: s.insert(p, 1, s[p]); break;
    default: {
      static const char kNear[] = "aeiouyrtnsl";
      char c = kNear[r->Below(sizeof(kNear) - 1)];
      if (c == s[p]) c = (c == 'e' ? 'a' : 'e');
      s[p] = c;
    }
  }
  return s;
}

// Applies a typo to one alphabetic word (>= 4 letters) of `phrase`; false if there is none.
bool TypoInPhrase(std::string* phrase, Rng* r) {
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0;
  while (i < phrase->size()) {
    while (i < phrase->size() && (*phrase)[i] == ' ') ++i;
    size_t j = i;
    bool alpha = true;
    while (j < phrase->size() && (*phrase)[j] != ' ') {
      alpha &= absl::ascii_isalpha(static_cast<unsigned char>((*phrase)[j])) != 0;
      ++j;
    }
    if (j > i && alpha && j - i >= 4) words.emplace_back(i, j - i);
    i = j;
  }
  if (words.empty()) return false;
  const auto [pos, len] = words[r->Below(words.size())];
  phrase->replace(pos, len, Typo(absl::string_view(*phrase).substr(pos, len), r));
  return true;
}

// Splits "128gb" into ("128", "gb"); unit empty when there is none.
std::pair<absl::string_view, absl::string_view> SplitNumberUnit(absl::string_view v) {
  size_t i = 0;
  while (i < v.size() && (absl::ascii_isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
  return {v.substr(0, i), v.substr(i)};
}

// ------------------------------------------------------------------------------------------
// Output.

class TsvWriter {
 public:
  ~TsvWriter() {
    if (f_ != nullptr) std::fclose(f_);
  }
  absl::Status Open(const std::string& path) {
    path_ = path;
    f_ = std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) return absl::InternalError(absl::StrCat("cannot create ", path));
    buf_.reserve(kFlushAt + 65536);
    return absl::OkStatus();
  }
  // Appends a text field; tabs and line breaks inside it become spaces.
  void Field(absl::string_view s) {
    Sep();
    const size_t start = buf_.size();
    buf_.append(s.data(), s.size());
    for (size_t i = start; i < buf_.size(); ++i) {
      char& c = buf_[i];
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    }
  }
  void Int(int64_t v) {
    Sep();
    absl::StrAppend(&buf_, v);
  }
  void Uint(uint64_t v) {
    Sep();
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) buf_.push_back(tmp[--n]);
  }
  void Char(char c) {
    Sep();
    buf_.push_back(c);
  }
  // Writes value / 10^decimals exactly, e.g. Fixed(12345, 2) -> "123.45".
  void Fixed(int64_t scaled, int decimals) {
    Sep();
    if (scaled < 0) {
      buf_.push_back('-');
      scaled = -scaled;
    }
    int64_t p = 1;
    for (int i = 0; i < decimals; ++i) p *= 10;
    absl::StrAppend(&buf_, scaled / p);
    if (decimals == 0) return;
    buf_.push_back('.');
    char frac[24];
    int64_t f = scaled % p;
    for (int i = decimals - 1; i >= 0; --i) {
      frac[i] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    buf_.append(frac, decimals);
  }
  void Double(double v, int decimals) {
    double p = 1;
    for (int i = 0; i < decimals; ++i) p *= 10;
    Fixed(std::llround(v * p), decimals);
  }
  void EndRow() {
    buf_.push_back('\n');
    first_ = true;
    ++rows_;
    if (buf_.size() >= kFlushAt) Flush();
  }
  void Header(std::initializer_list<const char*> cols) {
    for (const char* c : cols) Field(c);
    EndRow();
    rows_ = 0;
  }
  absl::Status Close() {
    Flush();
    const bool bad = error_ || std::fclose(f_) != 0;
    f_ = nullptr;
    if (bad) return absl::InternalError(absl::StrCat("write failed: ", path_));
    return absl::OkStatus();
  }
  int64_t rows() const { return rows_; }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  void Sep() {
    if (!first_) buf_.push_back('\t');
    first_ = false;
  }
  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) error_ = true;
    buf_.clear();
  }
  std::string path_;
  std::FILE* f_ = nullptr;
  std::string buf_;
  bool first_ = true;
  bool error_ = false;
  int64_t rows_ = 0;
};

class StageProgress {
 public:
  StageProgress(const MarketplaceProgressFn& fn, std::string stage, int64_t total)
      : fn_(fn), total_(total), start_(std::chrono::steady_clock::now()), last_(start_) {
    p_.stage = std::move(stage);
    p_.total = total;
    if (fn_) Report(0, false);
  }
  void Update(int64_t done) {
    if (!fn_ || (done & 1023) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    Report(done, false);
  }
  void Finish(int64_t done) {
    if (fn_) Report(done, true);
  }

 private:
  void Report(int64_t done, bool finished) {
    p_.done = done;
    p_.elapsed_seconds = SecondsSince(start_);
    p_.records_per_second = p_.elapsed_seconds > 0 ? done / p_.elapsed_seconds : 0;
    p_.eta_seconds = p_.records_per_second > 0 ? (total_ - done) / p_.records_per_second : 0;
    p_.finished = finished;
    fn_(p_);
  }
  const MarketplaceProgressFn& fn_;
  int64_t total_;
  std::chrono::steady_clock::time_point start_, last_;
  MarketplaceProgress p_;
};

// ------------------------------------------------------------------------------------------
// The world.

enum Condition : uint8_t { kNew = 0, kLikeNew = 1, kUsed = 2, kForParts = 3 };
const char* const kConditionNames[] = {"new", "like_new", "used", "for_parts"};
constexpr double kConditionFactor[] = {1.0, 0.8, 0.6, 0.25};

struct User {
  uint8_t city = 0;
  uint8_t n_prefs = 0;
  uint8_t prefs[3] = {0, 0, 0};
  float lat = 0, lon = 0;
  float typical_price = 0;
  float rating = 0;  // as a seller; 0 = not yet rated
};

struct Listing {
  uint64_t id = 0;
  float price = 0;
  uint32_t seller = 0;
  uint16_t type = 0;
  int16_t brand = -1;
  int16_t model = -1;
  uint8_t cond = kUsed;
  uint8_t city = 0;
  uint8_t attrs[kMaxAttrs] = {0, 0, 0, 0};
};

// The hidden fields relevance depends on, stored in product-type order (aligned with the
// by-type index) so that scanning a type's listings reads memory sequentially.
struct MatchKey {
  int16_t brand = -1;
  int16_t model = -1;
  uint8_t cond = kUsed;
  uint8_t attrs[kMaxAttrs] = {0, 0, 0, 0};
};

// Hidden structured intent of a query.
struct Intent {
  int type = -1;  // -1: brand-only query
  int brand = -1;
  int model = -1;
  int n_attrs = 0;
  int attr_slot[kMaxIntentAttrs] = {0, 0, 0};
  int attr_val[kMaxIntentAttrs] = {0, 0, 0};
  int cond = -1;  // -1 any, kNew, or kUsed (used or like new)
};

enum Label : char { kE = 'E', kS = 'S', kC = 'C', kI = 'I' };

// Compressed sparse rows: the members of group g are items[offsets[g] .. offsets[g+1]).
struct Csr {
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> items;
  size_t size(int g) const { return offsets[g + 1] - offsets[g]; }
  const uint32_t* begin(int g) const { return items.data() + offsets[g]; }
  const uint32_t* end(int g) const { return items.data() + offsets[g + 1]; }
  template <typename KeyFn>
  void Build(size_t groups, size_t n, KeyFn key) {
    offsets.assign(groups + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      const int g = key(i);
      if (g >= 0) ++offsets[g + 1];
    }
    for (size_t g = 0; g < groups; ++g) offsets[g + 1] += offsets[g];
    items.resize(offsets[groups]);
    std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (size_t i = 0; i < n; ++i) {
      const int g = key(i);
      if (g >= 0) items[fill[g]++] = static_cast<uint32_t>(i);
    }
  }
};

// Listing ids: a bijection of 1..2^40-1 onto itself, so ids are unique, positive and look
// like a real marketplace's sparse ids.
uint64_t ListingId(uint64_t index) {
  constexpr uint64_t kMask = (1ULL << 40) - 1;
  uint64_t x = (index + 1) & kMask;
  x = (x * 0x9E3779B97F4A7C15ULL) & kMask;  // odd multiplier: bijective mod 2^40
  x ^= x >> 17;                               // xorshift: bijective
  x = (x * 0xBF58476D1CE4E5B9ULL) & kMask;
  x ^= x >> 21;
  return x == 0 ? kMask : x;  // 0 only maps from index+1 == 0 mod 2^40, never reached
}

const char* const kCondTitle[4][8] = {
    {"brand new", "new", "bnib", "new in box", "sealed", "never used", "unopened", "new w/ tags"},
    {"like new", "mint", "mint condition", "barely used", "excellent condition", "exc cond", "used once", "as new"},
    {"good condition", "gd cond", "great condition", "used", "works great", "some wear", "vgc", "well loved"},
    {"for parts", "spares or repair", "not working", "broken", "as is", "needs repair", "for parts only", "faulty"},
};
const char* const kCondSentence[4][4] = {
    {"Brand new, never opened.", "New in box, unused gift.", "Brand new with tags.", "Sealed, still in the original packaging."},
    {"Used a handful of times, no marks.", "Like new, hardly used.", "Mint condition, barely touched.", "Excellent condition, no scratches or stains."},
    {"Normal signs of use but works perfectly.", "Some wear, fully functional.", "Well looked after, a few light marks.", "Used but in good shape."},
    {"Not working, selling for parts or repair.", "Sold as is, needs fixing.", "Faulty, spares or repair only.", "Damaged, sold for parts."},
};
// Used-condition wording for things that do not "work" (clothes, furniture, books, ...).
const char* const kCondTitleSoftUsed[8] = {"good condition", "gd cond", "great condition", "used",
                                           "gently used", "some wear", "vgc", "well loved"};
const char* const kCondSentenceSoftUsed[4] = {"Gently used, still looks great.",
                                              "Some light wear, nothing major.",
                                              "Well looked after, a few light marks.",
                                              "Used but in good shape."};
const char* const kGenericExtras[] = {"obo", "must go", "must go!!", "price firm", "quick sale",
                                      "pickup only", "negotiable", "moving sale", "cash only",
                                      "make an offer", "free delivery", "!!!", "read description",
                                      "reduced", "no lowballers"};
const char* const kGenericEmoji[] = {"\xF0\x9F\x94\xA5", "\xE2\x9C\xA8", "\xF0\x9F\x92\xAF",
                                     "\xE2\xAD\x90", "\xF0\x9F\x91\x80", "\xE2\x9D\x97",
                                     "\xF0\x9F\x92\xB8"};
const char* const kLogistics[] = {"Pick up in {city}.", "Can ship at buyer's cost.",
                                  "Smoke-free, pet-free home.", "Cash or bank transfer.",
                                  "Price is negotiable.", "No lowballers please.",
                                  "Message me with any questions.", "Original box included.",
                                  "Collection from {city} only.", "Happy to meet halfway."};
const char* const kOpeners[] = {"Selling my {x}.", "{X} for sale.", "Up for sale: {x}.",
                                "Selling a {x}.", "Offering my {x}.", "{X}, selling as I no longer need it."};

class Generator {
 public:
  Generator(const MarketplaceOptions& o, const Taxonomy& tax) : o_(o), tax_(tax) {
    held_out_.assign(tax.types.size(), 0);
    for (const std::string& name : o.held_out_types) held_out_[tax.type_index.at(name)] = 1;
  }

  absl::Status Run(const std::string& dir, MarketplaceSummary* sum);

 private:
  absl::Status WriteUsers(const std::string& path);
  absl::Status WriteListings(const std::string& path);
  void BuildIndexes();
  absl::Status WriteQueries(const std::string& qpath, const std::string& jpath,
                            const std::string& cpath, MarketplaceSummary* sum);

  // Listing rendering.
  void SellerAttr(const AttrDef& a, const Value& v, Rng* r, std::string* out);
  void SellerForms(const Forms& f, Rng* r, std::string* out, double first = 0.75);
  void RenderTitle(const Listing& l, Rng* r, std::string* out);
  void RenderDescription(const Listing& l, Rng* r, std::string* out);
  void RenderAttributes(const Listing& l, Rng* r, std::string* out);
  uint32_t Intern(absl::string_view tok);

  // Queries.
  int PickAnchor(const User& u, Rng* r);
  Intent MakeIntent(const Listing& anchor, bool want_gap, Rng* r);
  void RenderQuery(const Intent& in, const User& u, bool want_gap, Rng* r, std::string* text,
                   std::string* kinds);
  void BuyerAttr(const AttrDef& a, const Value& v, double alt_p, Rng* r, std::string* out, bool* alt);
  std::string IntentString(const Intent& in, const std::string& kinds) const;
  bool Matches(const Intent& in, const Listing& l) const;
  Label Judge(const Intent& in, const Listing& l) const;
  void ExactSet(const Intent& in, std::vector<uint32_t>* out) const;
  // Title-vocabulary ids of the query's tokens (tokens no title has are dropped).
  void QueryTokenIds(const std::string& norm_query, std::vector<uint32_t>* ids) const;
  // True if no Exact listing of `in` has a title word among `qids` (stops at the first one).
  bool IsGap(const Intent& in, const std::vector<uint32_t>& qids) const;
  bool BrandImplied(const ModelDef& m) const;
  // False for listings of held-out product types (drawn but never written).
  bool Carried(uint32_t li) const { return !held_out_[listings_[li].type]; }

  const MarketplaceOptions& o_;
  const Taxonomy& tax_;
  std::vector<User> users_;
  std::vector<Listing> listings_;
  // Title tokens (interned), per listing, deduplicated.
  absl::flat_hash_map<std::string, uint32_t> vocab_;
  std::vector<uint32_t> tok_offsets_{0};
  std::vector<uint32_t> toks_;
  Csr by_type_, by_category_, by_brand_, postings_;
  std::vector<MatchKey> type_keys_;  // aligned with by_type_.items
  std::vector<double> category_price_;
  std::vector<uint8_t> held_out_;  // per product type
  int64_t held_out_listings_ = 0;
  std::string buf_, buf2_;
  std::vector<std::string> pieces_;
};

bool Generator::BrandImplied(const ModelDef& m) const {
  const std::string& b = tax_.brands[m.brand].canonical();
  const std::string& c = m.value.forms.canonical();
  return c.size() >= b.size() && c.compare(0, b.size(), b) == 0 &&
         (c.size() == b.size() || c[b.size()] == ' ');
}

absl::Status Generator::WriteUsers(const std::string& path) {
  Rng r(o_.seed, 1);
  std::vector<double> city_cum;
  double s = 0;
  for (const City& c : kCities) city_cum.push_back(s += c.weight);
  std::vector<double> cat_cum;
  s = 0;
  for (const CategoryDef& c : tax_.categories) cat_cum.push_back(s += c.weight);
  category_price_.clear();
  for (const CategoryDef& c : tax_.categories) {
    double w = 0, p = 0;
    for (int t : c.types) {
      w += tax_.types[t].weight;
      p += tax_.types[t].weight * tax_.types[t].price;
    }
    category_price_.push_back(p / w);
  }
  TsvWriter w;
  if (auto st = w.Open(path); !st.ok()) return st;
  w.Header({"user_id", "city", "lat", "lon", "preferred_categories", "typical_price"});
  users_.resize(o_.users);
  StageProgress prog(o_.progress, "users", o_.users);
  for (int64_t i = 0; i < o_.users; ++i) {
    User& u = users_[i];
    u.city = static_cast<uint8_t>(r.Weighted(city_cum));
    u.lat = static_cast<float>(kCities[u.city].lat + (r.Uniform() - 0.5) * 0.08);
    u.lon = static_cast<float>(kCities[u.city].lon + (r.Uniform() - 0.5) * 0.08);
    const double k = r.Uniform();
    u.n_prefs = k < 0.45 ? 1 : (k < 0.8 ? 2 : 3);
    for (int j = 0; j < u.n_prefs; ++j) {
      uint8_t c;
      bool dup;
      do {
        c = static_cast<uint8_t>(r.Weighted(cat_cum));
        dup = false;
        for (int m = 0; m < j; ++m) dup |= u.prefs[m] == c;
      } while (dup);
      u.prefs[j] = c;
    }
    double base = 0;
    for (int j = 0; j < u.n_prefs; ++j) base += category_price_[u.prefs[j]];
    base /= u.n_prefs;
    u.typical_price = static_cast<float>(std::max(5.0, base * 0.7 * std::exp(0.5 * r.Normal())));
    if (r.Chance(0.06)) {
      u.rating = 0;
    } else {
      double rt = 4.95 - std::fabs(r.Normal()) * 0.45;
      if (r.Chance(0.05)) rt -= r.Uniform() * 2.0;
      u.rating = static_cast<float>(std::round(std::clamp(rt, 1.0, 5.0) * 10) / 10);
    }
    w.Uint(i + 1);
    w.Field(kCities[u.city].name);
    w.Double(u.lat, 4);
    w.Double(u.lon, 4);
    buf_.clear();
    for (int j = 0; j < u.n_prefs; ++j) {
      if (j) buf_.push_back(';');
      buf_ += tax_.categories[u.prefs[j]].name;
    }
    w.Field(buf_);
    w.Double(u.typical_price, 2);
    w.EndRow();
    prog.Update(i + 1);
  }
  prog.Finish(o_.users);
  return w.Close();
}

void Generator::SellerForms(const Forms& f, Rng* r, std::string* out, double first) {
  if (f.seller.size() == 1 || r->Chance(first)) {
    *out = f.seller[0];
  } else {
    *out = f.seller[1 + r->Below(f.seller.size() - 1)];
  }
}

void Generator::SellerAttr(const AttrDef& a, const Value& v, Rng* r, std::string* out) {
  out->clear();
  const std::string& c = v.forms.canonical();
  switch (a.kind) {
    case AttrKind::kWord:
      SellerForms(v.forms, r, out, 0.8);
      break;
    case AttrKind::kUnit: {
      auto [num, unit] = SplitNumberUnit(c);
      const double k = r->Uniform();
      absl::StrAppend(out, num, k < 0.65 ? "" : " ");
      if (k < 0.45 || (k >= 0.65 && k < 0.9)) {
        for (char ch : unit) out->push_back(absl::ascii_toupper(static_cast<unsigned char>(ch)));
      } else {
        out->append(unit.data(), unit.size());
      }
      break;
    }
    case AttrKind::kInch: {
      static const char* const kFmt[] = {"\"", " inch", "in", "-inch", "\"", " in.", " inches"};
      absl::StrAppend(out, c, r->Pick(kFmt));
      break;
    }
    case AttrKind::kShoe: {
      static const char* const kFmt[] = {"size ", "sz ", "us ", "size ", "us", "", "uk "};
      const char* f = r->Pick(kFmt);
      if (absl::string_view(f) == "uk ") {
        // UK sizes run one below US sizes.
        double us = 0;
        absl::SimpleAtod(c, &us);
        absl::StrAppend(out, "uk ", us - 1);
      } else {
        absl::StrAppend(out, f, c);
      }
      break;
    }
    case AttrKind::kClothing: {
      const std::string& word = v.forms.seller.size() > 1 ? v.forms.seller[1] : c;
      const double k = r->Uniform();
      if (k < 0.4) *out = absl::AsciiStrToUpper(c);
      else if (k < 0.6) *out = absl::StrCat("size ", absl::AsciiStrToUpper(c));
      else if (k < 0.8) *out = word;
      else if (k < 0.9) *out = absl::StrCat("sz ", absl::AsciiStrToUpper(c));
      else *out = absl::StrCat("(", absl::AsciiStrToUpper(c), ")");
      break;
    }
  }
  if (!a.suffix.empty() && r->Chance(0.5)) absl::StrAppend(out, " ", a.suffix);
}

uint32_t Generator::Intern(absl::string_view tok) {
  auto it = vocab_.find(tok);
  if (it != vocab_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(vocab_.size());
  vocab_.emplace(std::string(tok), id);
  return id;
}

void Generator::RenderTitle(const Listing& l, Rng* r, std::string* out) {
  const TypeDef& tp = tax_.types[l.type];
  const CategoryDef& cat = tax_.categories[tp.category];
  const double k = r->Uniform();
  const Case cs = k < 0.55 ? Case::kProper : k < 0.83 ? Case::kLower : k < 0.90 ? Case::kUpper : Case::kSentence;
  pieces_.clear();
  const ModelDef* m = l.model >= 0 ? &tp.models[l.model] : nullptr;
  const bool model_shown = m != nullptr && r->Chance(0.85);
  std::string s;
  if (l.brand >= 0 && !(model_shown && BrandImplied(*m)) && r->Chance(model_shown ? 0.5 : 0.8)) {
    SellerForms(tax_.brands[l.brand], r, &s, 0.85);
    pieces_.push_back(s);
  }
  const size_t model_piece = pieces_.size();
  if (model_shown) {
    SellerForms(m->value.forms, r, &s, 0.7);
    // Sellers often glue the model number on: "iphone12", "ps5digital".
    if (r->Chance(0.08)) {
      const size_t sp = s.rfind(' ');
      if (sp != std::string::npos && sp + 1 < s.size() && absl::ascii_isdigit(s[sp + 1])) s.erase(sp, 1);
    }
    pieces_.push_back(s);
  }
  std::vector<std::string> post;
  for (size_t slot = 0; slot < tp.attrs.size(); ++slot) {
    const AttrDef& a = cat.attrs[tp.attrs[slot]];
    if (!r->Chance(a.title_prob)) continue;
    SellerAttr(a, a.values[l.attrs[slot]], r, &s);
    const bool pre = (a.kind == AttrKind::kWord || a.kind == AttrKind::kInch) ? r->Chance(0.65) : r->Chance(0.3);
    if (pre) pieces_.push_back(s);
    else post.push_back(s);
  }
  const bool show_type = pieces_.empty() || (model_shown ? r->Chance(0.45) : r->Chance(0.97));
  size_t type_piece = std::string::npos;
  if (show_type) {
    SellerForms(tp.words, r, &s, 0.6);
    type_piece = pieces_.size();
    pieces_.push_back(s);
  }
  // An occasional typo in the brand, model or type word.
  if (r->Chance(0.05)) {
    size_t target = type_piece != std::string::npos && r->Chance(0.5) ? type_piece : model_piece;
    if (target >= pieces_.size()) target = 0;
    TypoInPhrase(&pieces_[target], r);
  }
  out->clear();
  if (r->Chance(0.05)) {
    absl::StrAppend(out, r->Chance(0.6) ? absl::string_view(cat.emoji) : absl::string_view(r->Pick(kGenericEmoji)), " ");
  }
  const bool cond_shown = r->Chance(l.cond == kNew ? 0.55 : l.cond == kForParts ? 0.8 : 0.4);
  const char* cond_phrase = (l.cond == kUsed && !cat.allows_for_parts) ? kCondTitleSoftUsed[r->Below(8)]
                                                                       : kCondTitle[l.cond][r->Below(8)];
  const bool cond_first = cond_shown && r->Chance(0.2);
  if (cond_first) {
    AppendCased(cond_phrase, cs == Case::kProper && r->Chance(0.5) ? Case::kUpper : cs, out);
    out->push_back(' ');
  }
  for (size_t i = 0; i < pieces_.size(); ++i) {
    if (i) out->push_back(' ');
    AppendCased(pieces_[i], cs, out);
  }
  for (size_t i = 0; i < post.size(); ++i) {
    const double sk = r->Uniform();
    out->append(i == 0 ? (sk < 0.25 ? " - " : sk < 0.4 ? ", " : " ") : (sk < 0.3 ? ", " : sk < 0.4 ? " / " : " "));
    AppendCased(post[i], cs, out);
  }
  if (cond_shown && !cond_first) {
    static const char* const kSep[] = {" - ", ", ", " ", " | ", " ("};
    const char* sep = r->Pick(kSep);
    out->append(sep);
    AppendCased(cond_phrase, cs, out);
    if (absl::string_view(sep) == " (") out->push_back(')');
  }
  if (r->Chance(0.22)) {
    const char* e = (!cat.extras.empty() && r->Chance(0.5)) ? cat.extras[r->Below(cat.extras.size())]
                                                           : r->Pick(kGenericExtras);
    out->append(r->Chance(0.5) ? " " : " - ");
    AppendCased(e, cs == Case::kProper && r->Chance(0.6) ? Case::kUpper : cs, out);
  }
  if (r->Chance(0.08)) {
    out->push_back(' ');
    absl::StrAppend(out, r->Chance(0.5) ? absl::string_view(cat.emoji) : absl::string_view(r->Pick(kGenericEmoji)));
    if (r->Chance(0.3)) out->append(r->Pick(kGenericEmoji));
  }
  if (cs == Case::kSentence) {
    for (char& c : *out) {
      if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
        c = absl::ascii_toupper(static_cast<unsigned char>(c));
        break;
      }
    }
  }
}

void Generator::RenderDescription(const Listing& l, Rng* r, std::string* out) {
  const TypeDef& tp = tax_.types[l.type];
  const CategoryDef& cat = tax_.categories[tp.category];
  std::string& x = buf2_;
  x.clear();
  if (l.brand >= 0) {
    const ModelDef* m = l.model >= 0 ? &tp.models[l.model] : nullptr;
    if (m == nullptr || !BrandImplied(*m)) {
      AppendCased(tax_.brands[l.brand].canonical(), Case::kProper, &x);
      x.push_back(' ');
    }
    if (m != nullptr) {
      AppendCased(m->value.forms.canonical(), Case::kProper, &x);
      x.push_back(' ');
    }
  }
  // Sellers sometimes use the buyers' word in the description.
  if (!tp.words.buyer_only.empty() && r->Chance(0.25)) {
    x += r->Pick(tp.words.buyer_only);
  } else {
    std::string w;
    SellerForms(tp.words, r, &w, 0.6);
    x += w;
  }
  out->clear();
  const absl::string_view opener = r->Pick(kOpeners);
  for (size_t i = 0; i < opener.size(); ++i) {
    if (opener.substr(i, 3) == "{x}" || opener.substr(i, 3) == "{X}") {
      const size_t at = out->size();
      out->append(x);
      if (opener[i + 1] == 'X') (*out)[at] = absl::ascii_toupper(static_cast<unsigned char>((*out)[at]));
      i += 2;
    } else {
      out->push_back(opener[i]);
    }
  }
  bool any = false;
  for (size_t slot = 0; slot < tp.attrs.size(); ++slot) {
    if (!r->Chance(0.75)) continue;
    const AttrDef& a = cat.attrs[tp.attrs[slot]];
    out->append(any ? ", " : " Details: ");
    const std::string& v = a.values[l.attrs[slot]].forms.canonical();
    switch (a.kind) {
      case AttrKind::kClothing: absl::StrAppend(out, "size ", absl::AsciiStrToUpper(v)); break;
      case AttrKind::kShoe: absl::StrAppend(out, "size ", v, " US"); break;
      case AttrKind::kInch: absl::StrAppend(out, a.label, " ", v, " inch"); break;
      default:
        if (a.label.empty()) absl::StrAppend(out, v);
        else absl::StrAppend(out, a.label, " ", v);
    }
    any = true;
  }
  if (any) out->push_back('.');
  out->push_back(' ');
  out->append((l.cond == kUsed && !cat.allows_for_parts) ? kCondSentenceSoftUsed[r->Below(4)]
                                                         : kCondSentence[l.cond][r->Below(4)]);
  if (r->Chance(0.6)) {
    const absl::string_view lg = r->Pick(kLogistics);
    out->push_back(' ');
    const size_t p = lg.find("{city}");
    if (p == absl::string_view::npos) {
      out->append(lg.data(), lg.size());
    } else {
      absl::StrAppend(out, lg.substr(0, p), kCities[l.city].name, lg.substr(p + 6));
    }
  }
}

void Generator::RenderAttributes(const Listing& l, Rng* r, std::string* out) {
  const TypeDef& tp = tax_.types[l.type];
  const CategoryDef& cat = tax_.categories[tp.category];
  out->clear();
  if (l.model >= 0 && r->Chance(0.5)) absl::StrAppend(out, "model=", tp.models[l.model].value.forms.canonical());
  for (size_t slot = 0; slot < tp.attrs.size(); ++slot) {
    if (!r->Chance(0.6)) continue;
    const AttrDef& a = cat.attrs[tp.attrs[slot]];
    if (!out->empty()) out->push_back(';');
    absl::StrAppend(out, a.name, "=", a.values[l.attrs[slot]].forms.canonical());
  }
}

absl::Status Generator::WriteListings(const std::string& path) {
  Rng r(o_.seed, 2);
  // Sellers: a few power sellers list a lot (user index ~ U^2.2).
  TsvWriter w;
  if (auto st = w.Open(path); !st.ok()) return st;
  w.Header({"listing_id", "title", "description", "category", "brand", "attributes", "price",
            "condition", "seller_id", "seller_rating", "city", "lat", "lon", "listed_at_unix"});
  listings_.resize(o_.listings);
  toks_.reserve(o_.listings * 10);
  tok_offsets_.reserve(o_.listings + 1);
  static const std::vector<double> kCondCum = {0.17, 0.44, 0.92, 1.0};
  std::string title, desc, attrs, brand;
  std::vector<uint32_t> ids;
  StageProgress prog(o_.progress, "listings", o_.listings);
  for (int64_t i = 0; i < o_.listings; ++i) {
    Listing& l = listings_[i];
    l.id = ListingId(static_cast<uint64_t>(i));
    l.type = static_cast<uint16_t>(r.Weighted(tax_.type_cum));
    const TypeDef& tp = tax_.types[l.type];
    const CategoryDef& cat = tax_.categories[tp.category];
    const int bslot = r.Weighted(tp.brand_cum);
    l.brand = static_cast<int16_t>(tp.brands[bslot]);
    l.model = -1;
    if (!tp.models_of_slot[bslot].empty() && r.Chance(0.85)) {
      l.model = static_cast<int16_t>(tp.models_of_slot[bslot][r.Weighted(tp.model_cum[bslot])]);
    }
    double price = tp.price;
    for (size_t slot = 0; slot < tp.attrs.size(); ++slot) {
      const AttrDef& a = cat.attrs[tp.attrs[slot]];
      l.attrs[slot] = static_cast<uint8_t>(r.Weighted(a.cum));
    }
    if (l.model >= 0) {
      const ModelDef& m = tp.models[l.model];
      for (const auto& [slot, val] : m.fixed) l.attrs[slot] = static_cast<uint8_t>(val);
      price *= m.value.mult;
    }
    for (size_t slot = 0; slot < tp.attrs.size(); ++slot) {
      price *= cat.attrs[tp.attrs[slot]].values[l.attrs[slot]].mult;
    }
    l.cond = static_cast<uint8_t>(r.Weighted(kCondCum));
    if (l.cond == kForParts && !cat.allows_for_parts) l.cond = kUsed;
    if (l.brand < 0) price *= 0.7;
    price *= kConditionFactor[l.cond] * std::exp(0.25 * r.Normal());
    int64_t cents = std::llround(price * 100);
    if (price >= 20 && r.Chance(0.55)) {
      const int64_t step = price >= 200 ? 1000 : 500;
      cents = std::max<int64_t>(step, (cents + step / 2) / step * step);
    } else if (price >= 5 && r.Chance(0.3)) {
      cents = cents / 100 * 100 + 99;
    }
    cents = std::max<int64_t>(cents, 100);
    l.price = static_cast<float>(cents / 100.0);
    const double su = r.Uniform();
    l.seller = static_cast<uint32_t>(std::min<double>(o_.users - 1, std::floor(std::pow(su, 2.2) * o_.users)));
    const User& seller = users_[l.seller];
    l.city = seller.city;
    const double lat = kCities[l.city].lat + (r.Uniform() - 0.5) * 0.1;
    const double lon = kCities[l.city].lon + (r.Uniform() - 0.5) * 0.1;
    const int64_t listed_at = kEpochUnix - 1 - static_cast<int64_t>(r.Below(kListingWindowSeconds));

    RenderTitle(l, &r, &title);
    RenderDescription(l, &r, &desc);
    RenderAttributes(l, &r, &attrs);
    brand.clear();
    if (l.brand >= 0 && r.Chance(0.85)) brand = tax_.brands[l.brand].canonical();

    // A held-out listing is drawn in full (the stream stays the same for the others) and its
    // title feeds the query generator's vocabulary, but it is not in the catalog.
    if (held_out_[l.type]) {
      ++held_out_listings_;
    } else {
      w.Uint(l.id);
      w.Field(title);
      w.Field(desc);
      w.Field(cat.name);
      w.Field(brand);
      w.Field(attrs);
      w.Fixed(cents, 2);
      w.Field(kConditionNames[l.cond]);
      w.Uint(l.seller + 1);
      w.Double(seller.rating, 1);
      w.Field(kCities[l.city].name);
      w.Double(lat, 4);
      w.Double(lon, 4);
      w.Int(listed_at);
      w.EndRow();
    }

    ids.clear();
    ForEachToken(title, &buf_, [&](absl::string_view t) { ids.push_back(Intern(t)); });
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    toks_.insert(toks_.end(), ids.begin(), ids.end());
    tok_offsets_.push_back(static_cast<uint32_t>(toks_.size()));
    prog.Update(i + 1);
  }
  prog.Finish(o_.listings);
  return w.Close();
}

void Generator::BuildIndexes() {
  StageProgress prog(o_.progress, "index", 4);
  const size_t n = listings_.size();
  by_type_.Build(tax_.types.size(), n, [&](size_t i) { return static_cast<int>(listings_[i].type); });
  by_category_.Build(tax_.categories.size(), n,
                     [&](size_t i) { return tax_.types[listings_[i].type].category; });
  by_brand_.Build(tax_.brands.size(), n, [&](size_t i) { return static_cast<int>(listings_[i].brand); });
  type_keys_.resize(n);
  for (size_t p = 0; p < n; ++p) {
    const Listing& l = listings_[by_type_.items[p]];
    MatchKey& k = type_keys_[p];
    k.brand = l.brand;
    k.model = l.model;
    k.cond = l.cond;
    std::copy(std::begin(l.attrs), std::end(l.attrs), std::begin(k.attrs));
  }
  // Postings of title tokens.
  postings_.offsets.assign(vocab_.size() + 1, 0);
  for (uint32_t t : toks_) ++postings_.offsets[t + 1];
  for (size_t g = 0; g < vocab_.size(); ++g) postings_.offsets[g + 1] += postings_.offsets[g];
  postings_.items.resize(toks_.size());
  std::vector<uint32_t> fill(postings_.offsets.begin(), postings_.offsets.end() - 1);
  for (size_t i = 0; i < n; ++i) {
    for (uint32_t k = tok_offsets_[i]; k < tok_offsets_[i + 1]; ++k) {
      postings_.items[fill[toks_[k]]++] = static_cast<uint32_t>(i);
    }
  }
  prog.Finish(4);
}

int Generator::PickAnchor(const User& u, Rng* r) {
  if (r->Chance(0.7)) {
    for (int tries = 0; tries < 4; ++tries) {
      const int c = u.prefs[r->Below(u.n_prefs)];
      if (by_category_.size(c) > 0) return static_cast<int>(by_category_.begin(c)[r->Below(by_category_.size(c))]);
    }
  }
  return static_cast<int>(r->Below(listings_.size()));
}

Intent Generator::MakeIntent(const Listing& l, bool want_gap, Rng* r) {
  const TypeDef& tp = tax_.types[l.type];
  const bool has_brand = l.brand >= 0;
  const bool has_model = l.model >= 0;
  const int na = static_cast<int>(tp.attrs.size());
  enum Shape { kTypeOnly, kTypeBrand, kTypeAttr, kTypeBrandAttr, kBrandModel, kBrandOnly };
  // Shape mix. Queries meant to have a vocabulary gap lean on attribute intents (which can
  // be typed with buyer-only words) so that they do not all become broad type-only queries.
  const double w[] = {want_gap ? 0.03 : 0.07, has_brand ? 0.19 : 0, na ? (want_gap ? 0.40 : 0.27) : 0,
                      has_brand && na ? 0.15 : 0, has_model ? 0.30 : 0, has_brand ? 0.015 : 0};
  const CategoryDef& cat = tax_.categories[tp.category];
  std::vector<double> cum;
  double s = 0;
  for (double x : w) cum.push_back(s += x);
  const Shape shape = static_cast<Shape>(r->Weighted(cum));
  Intent in;
  in.type = l.type;
  auto add_attrs = [&](int k) {
    std::vector<int> slots;
    for (int i = 0; i < na; ++i) {
      bool fixed = false;
      if (in.model >= 0) {
        for (const auto& f : tp.models[in.model].fixed) fixed |= f.first == i;
      }
      if (!fixed) slots.push_back(i);
    }
    Shuffle(&slots, r);
    if (want_gap) {
      // Attributes whose value has a buyer-only spelling first.
      std::stable_partition(slots.begin(), slots.end(), [&](int i) {
        return !cat.attrs[tp.attrs[i]].values[l.attrs[i]].forms.buyer_only.empty();
      });
    }
    for (int i = 0; i < k && i < static_cast<int>(slots.size()); ++i) {
      in.attr_slot[in.n_attrs] = slots[i];
      in.attr_val[in.n_attrs] = l.attrs[slots[i]];
      ++in.n_attrs;
    }
  };
  switch (shape) {
    case kTypeOnly: break;
    case kTypeBrand: in.brand = l.brand; break;
    case kTypeAttr: add_attrs(r->Chance(0.7) ? 1 : 2); break;
    case kTypeBrandAttr:
      in.brand = l.brand;
      add_attrs(r->Chance(0.8) ? 1 : 2);
      break;
    case kBrandModel:
      in.brand = l.brand;
      in.model = l.model;
      if (r->Chance(0.35)) add_attrs(1);
      break;
    case kBrandOnly:
      in.type = -1;
      in.brand = l.brand;
      break;
  }
  if (in.type >= 0 && l.cond != kForParts && r->Chance(0.07)) in.cond = l.cond == kNew ? kNew : kUsed;
  return in;
}

void Generator::BuyerAttr(const AttrDef& a, const Value& v, double alt_p, Rng* r, std::string* out,
                          bool* alt) {
  out->clear();
  const std::string& c = v.forms.canonical();
  if (!v.forms.buyer_only.empty() && r->Chance(alt_p)) {
    *out = r->Pick(v.forms.buyer_only);
    *alt = true;
    return;
  }
  const double k = r->Uniform();
  switch (a.kind) {
    case AttrKind::kWord:
      *out = (v.forms.seller.size() > 1 && k < 0.3) ? r->Pick(v.forms.seller) : c;
      break;
    case AttrKind::kUnit: {
      auto [num, unit] = SplitNumberUnit(c);
      *out = k < 0.6 ? c : k < 0.9 ? absl::StrCat(num, " ", unit) : std::string(num);
      break;
    }
    case AttrKind::kInch:
      *out = k < 0.45 ? absl::StrCat(c, " inch") : k < 0.65 ? absl::StrCat(c, "in") : k < 0.75 ? absl::StrCat(c, "\"") : c;
      break;
    case AttrKind::kShoe:
      *out = k < 0.6 ? absl::StrCat("size ", c) : k < 0.85 ? c : absl::StrCat("sz ", c);
      break;
    case AttrKind::kClothing: {
      const std::string& word = v.forms.seller.size() > 1 ? v.forms.seller[1] : c;
      *out = k < 0.35 ? word : k < 0.7 ? absl::StrCat("size ", c) : c;
      break;
    }
  }
  if (!a.suffix.empty() && r->Chance(0.3)) absl::StrAppend(out, " ", a.suffix);
}

void Generator::RenderQuery(const Intent& in, const User& u, bool want_gap, Rng* r, std::string* text,
                            std::string* kinds) {
  bool syn = false, typo = false, noisy = false;
  std::vector<std::string> pre, post;
  std::string core;  // brand model [mid attrs] type
  auto append = [](std::string* s, absl::string_view w) {
    if (w.empty()) return;
    if (!s->empty()) s->push_back(' ');
    s->append(w.data(), w.size());
  };
  std::string tmp;
  if (in.type < 0) {
    const Forms& bf = tax_.brands[in.brand];
    if (!bf.buyer_only.empty() && r->Chance(0.3)) {
      tmp = r->Pick(bf.buyer_only);
      syn = true;
    } else {
      tmp = r->Pick(bf.seller);
    }
    append(&core, tmp);
  } else {
    const TypeDef& tp = tax_.types[in.type];
    const CategoryDef& cat = tax_.categories[tp.category];
    const ModelDef* m = in.model >= 0 ? &tp.models[in.model] : nullptr;
    const double alt_p = want_gap ? 0.75 : 0.3;
    if (in.brand >= 0 && (m == nullptr || (!BrandImplied(*m) && r->Chance(0.35)))) {
      const Forms& bf = tax_.brands[in.brand];
      if (!bf.buyer_only.empty() && r->Chance(alt_p * 0.6)) {
        tmp = r->Pick(bf.buyer_only);
        syn = true;
      } else {
        tmp = bf.seller.size() > 1 && r->Chance(0.3) ? r->Pick(bf.seller) : bf.canonical();
      }
      append(&core, tmp);
    }
    if (m != nullptr) {
      const Forms& mf = m->value.forms;
      if (!mf.buyer_only.empty() && r->Chance(alt_p)) {
        tmp = r->Pick(mf.buyer_only);
        syn = true;
      } else {
        tmp = mf.seller.size() > 1 && r->Chance(0.35) ? r->Pick(mf.seller) : mf.canonical();
        if (r->Chance(0.1)) {
          const size_t sp = tmp.rfind(' ');
          if (sp != std::string::npos && sp + 1 < tmp.size() && absl::ascii_isdigit(tmp[sp + 1])) tmp.erase(sp, 1);
        }
      }
      append(&core, tmp);
    }
    std::vector<std::string> mid;
    for (int i = 0; i < in.n_attrs; ++i) {
      const AttrDef& a = cat.attrs[tp.attrs[in.attr_slot[i]]];
      bool alt = false;
      BuyerAttr(a, a.values[in.attr_val[i]], alt_p, r, &tmp, &alt);
      syn |= alt;
      double pre_p = 0.5;
      switch (a.kind) {
        case AttrKind::kWord: pre_p = 0.65; break;
        case AttrKind::kInch: pre_p = 0.7; break;
        case AttrKind::kShoe: pre_p = 0.2; break;
        case AttrKind::kClothing: pre_p = 0.45; break;
        case AttrKind::kUnit: pre_p = 0.35; break;
      }
      if (a.kind == AttrKind::kUnit && m != nullptr && r->Chance(0.8)) mid.push_back(tmp);
      else if (r->Chance(pre_p)) pre.push_back(tmp);
      else post.push_back(tmp);
    }
    for (const std::string& s : mid) append(&core, s);
    const bool with_type = m == nullptr || r->Chance(0.25);
    if (with_type) {
      if (!tp.words.buyer_only.empty() && r->Chance(want_gap ? 0.7 : 0.22)) {
        tmp = r->Pick(tp.words.buyer_only);
        syn = true;
      } else {
        tmp = tp.words.seller.size() > 1 && r->Chance(0.35) ? r->Pick(tp.words.seller) : tp.words.canonical();
      }
      append(&core, tmp);
    }
    if (in.cond == kNew) {
      static const char* const kNewWords[] = {"new", "brand new", "new in box", "sealed"};
      pre.insert(pre.begin(), r->Pick(kNewWords));
    } else if (in.cond == kUsed) {
      static const char* const kUsedWords[] = {"used", "second hand", "secondhand", "pre owned", "preloved"};
      pre.insert(pre.begin(), r->Pick(kUsedWords));
    }
  }
  if (r->Chance(0.2)) {
    noisy = true;
    static const char* const kPrefix[] = {"cheap", "best", "buy", "affordable"};
    static const char* const kSuffix[] = {"near me", "for sale", "deals", "near me", "sale", "in"};
    if (r->Chance(0.35)) {
      pre.insert(pre.begin(), r->Pick(kPrefix));
    } else {
      const char* sfx = r->Pick(kSuffix);
      if (absl::string_view(sfx) == "in") {
        post.push_back(absl::AsciiStrToLower(absl::StrCat("in ", kCities[u.city].name)));
      } else {
        post.push_back(sfx);
      }
    }
  }
  text->clear();
  for (const std::string& s : pre) append(text, s);
  append(text, core);
  for (const std::string& s : post) append(text, s);
  if (r->Chance(want_gap ? 0.12 : 0.06)) typo = TypoInPhrase(text, r);
  if (r->Chance(0.08) && !text->empty()) (*text)[0] = absl::ascii_toupper(static_cast<unsigned char>((*text)[0]));
  kinds->clear();
  auto kind = [&](const char* k) {
    if (!kinds->empty()) kinds->push_back('+');
    kinds->append(k);
  };
  if (syn) kind("synonym");
  if (typo) kind("misspelled");
  if (noisy) kind("noisy");
  if (kinds->empty()) kind("plain");
}

std::string Generator::IntentString(const Intent& in, const std::string& kinds) const {
  std::string s;
  if (in.type >= 0) {
    const TypeDef& tp = tax_.types[in.type];
    absl::StrAppend(&s, "type=", tp.name);
    if (in.brand >= 0) absl::StrAppend(&s, ";brand=", tax_.brands[in.brand].canonical());
    if (in.model >= 0) absl::StrAppend(&s, ";model=", tp.models[in.model].value.forms.canonical());
    const CategoryDef& cat = tax_.categories[tp.category];
    for (int i = 0; i < in.n_attrs; ++i) {
      const AttrDef& a = cat.attrs[tp.attrs[in.attr_slot[i]]];
      absl::StrAppend(&s, ";", a.name, "=", a.values[in.attr_val[i]].forms.canonical());
    }
    if (in.cond == kNew) s += ";cond=new";
    if (in.cond == kUsed) s += ";cond=used";
  } else {
    absl::StrAppend(&s, "brand=", tax_.brands[in.brand].canonical());
  }
  absl::StrAppend(&s, ";kind=", kinds);
  return s;
}

// Everything but the product type (and brand-only intents).
template <typename L>
inline bool MatchesFields(const Intent& in, const L& l) {
  if (in.brand >= 0 && l.brand != in.brand) return false;
  if (in.model >= 0 && l.model != in.model) return false;
  for (int i = 0; i < in.n_attrs; ++i) {
    if (l.attrs[in.attr_slot[i]] != in.attr_val[i]) return false;
  }
  if (in.cond == kNew && l.cond != kNew) return false;
  if (in.cond == kUsed && l.cond != kUsed && l.cond != kLikeNew) return false;
  return true;
}

bool Generator::Matches(const Intent& in, const Listing& l) const {
  if (in.type < 0) return l.brand == in.brand;
  if (l.type != in.type) return false;
  return MatchesFields(in, l);
}

Label Generator::Judge(const Intent& in, const Listing& l) const {
  if (Matches(in, l)) return kE;
  if (in.type >= 0) {
    if (l.type == in.type) return kS;
    if (tax_.Comp(in.type, l.type)) return kC;
    return kI;
  }
  bool comp = false;
  for (int t : tax_.brand_types[in.brand]) {
    if (t == l.type) return kS;
    comp |= tax_.Comp(t, l.type);
  }
  return comp ? kC : kI;
}

void Generator::ExactSet(const Intent& in, std::vector<uint32_t>* out) const {
  out->clear();
  if (in.type < 0) {
    for (const uint32_t* p = by_brand_.begin(in.brand); p != by_brand_.end(in.brand); ++p) out->push_back(*p);
    return;
  }
  for (uint32_t p = by_type_.offsets[in.type]; p < by_type_.offsets[in.type + 1]; ++p) {
    if (MatchesFields(in, type_keys_[p])) out->push_back(by_type_.items[p]);
  }
}

void Generator::QueryTokenIds(const std::string& norm_query, std::vector<uint32_t>* ids) const {
  ids->clear();
  for (absl::string_view t : absl::StrSplit(norm_query, ' ', absl::SkipEmpty())) {
    auto it = vocab_.find(t);
    if (it != vocab_.end()) ids->push_back(it->second);
  }
}

bool Generator::IsGap(const Intent& in, const std::vector<uint32_t>& qids) const {
  if (qids.empty()) return true;
  const bool typed = in.type >= 0;
  const Csr& idx = typed ? by_type_ : by_brand_;
  const int g = typed ? in.type : in.brand;
  for (uint32_t p = idx.offsets[g]; p < idx.offsets[g + 1]; ++p) {
    if (typed && !MatchesFields(in, type_keys_[p])) continue;
    const uint32_t li = idx.items[p];
    for (uint32_t k = tok_offsets_[li]; k < tok_offsets_[li + 1]; ++k) {
      for (uint32_t q : qids) {
        if (toks_[k] == q) return false;
      }
    }
  }
  return true;
}

absl::Status Generator::WriteQueries(const std::string& qpath, const std::string& jpath,
                                     const std::string& cpath, MarketplaceSummary* sum) {
  Rng r(o_.seed, 3);
  Rng rc(o_.seed, 4);
  const int64_t nq = o_.queries;
  const int64_t n_valid = std::llround(nq * o_.valid_fraction);
  const int64_t n_test = std::llround(nq * o_.test_fraction);
  const int64_t n_train = nq - n_valid - n_test;
  static const char* const kSplitNames[] = {"train", "valid", "test"};
  const int64_t split_n[3] = {n_train, n_valid, n_test};
  std::vector<std::pair<uint8_t, bool>> slots;  // (split, wants a vocabulary gap)
  for (int s = 0; s < 3; ++s) {
    const int64_t gaps = std::llround(split_n[s] * o_.vocab_gap_target);
    for (int64_t i = 0; i < split_n[s]; ++i) slots.emplace_back(static_cast<uint8_t>(s), i < gaps);
  }
  Shuffle(&slots, &r);

  TsvWriter qw, jw, cw;
  if (auto st = qw.Open(qpath); !st.ok()) return st;
  if (auto st = jw.Open(jpath); !st.ok()) return st;
  if (auto st = cw.Open(cpath); !st.ok()) return st;
  qw.Header({"query_id", "split", "user_id", "text", "intent"});
  jw.Header({"query_id", "listing_id", "label"});
  cw.Header({"query_id", "user_id", "listing_id", "position", "clicked"});

  absl::flat_hash_map<std::string, uint8_t> split_of_text;
  std::vector<uint32_t> exact, qids, subs;
  std::vector<std::pair<uint32_t, Label>> others, judged;
  std::vector<int64_t> exact_counts;
  exact_counts.reserve(nq);
  int64_t gap_test = 0, gap_all = 0;
  int64_t written[3] = {0, 0, 0};
  std::string text, kinds, norm;
  absl::flat_hash_set<uint32_t> chosen;  // sampled S/C/I listings of the current query
  StageProgress prog(o_.progress, "queries", nq);
  constexpr int kGapAttempts = 400, kMaxAttempts = 1000;
  for (int64_t qi = 0; qi < nq; ++qi) {
    const uint8_t split = slots[qi].first;
    const bool want_gap = slots[qi].second;
    const uint32_t user = static_cast<uint32_t>(r.Below(users_.size()));
    const User& u = users_[user];
    Intent in;
    bool gap = false, accepted = false;
    for (int attempt = 0; attempt < kMaxAttempts && !accepted; ++attempt) {
      const int anchor = PickAnchor(u, &r);
      in = MakeIntent(listings_[anchor], want_gap, &r);
      RenderQuery(in, u, want_gap, &r, &text, &kinds);
      norm = NormalizeQuery(text);
      if (norm.empty()) continue;
      auto it = split_of_text.find(norm);
      if (it != split_of_text.end() && it->second != split) continue;
      QueryTokenIds(norm, &qids);
      gap = IsGap(in, qids);
      if (gap != want_gap && attempt < kGapAttempts) continue;
      accepted = true;
    }
    ExactSet(in, &exact);
    if (!accepted) {
      return absl::InternalError(absl::StrCat("could not generate query ", qi + 1,
                                              " (catalog too small for distinct split texts?)"));
    }
    split_of_text.emplace(norm, split);
    // Off-catalog: every Exact listing is of a held-out type. Such a query is drawn in full
    // either way (the random stream, so every other query, stays the same) but written only
    // in the test split.
    const int64_t carried_exact =
        std::count_if(exact.begin(), exact.end(), [&](uint32_t li) { return Carried(li); });
    const bool carried = carried_exact > 0;
    const bool write = carried || split == 2;
    if (carried) exact_counts.push_back(carried_exact);
    if (write) {
      ++written[split];
      gap_all += gap;
      if (split == 2) gap_test += gap;
      if (!carried) ++sum->off_catalog_test_queries;
    } else {
      ++sum->off_catalog_skipped_queries;
    }
    const uint64_t qid = static_cast<uint64_t>(qi + 1);
    if (write) {
      qw.Uint(qid);
      qw.Field(kSplitNames[split]);
      qw.Uint(user + 1);
      qw.Field(text);
      qw.Field(IntentString(in, kinds) + (carried ? "" : ";carried=no"));
      qw.EndRow();
    }

    // Judgments: every Exact listing, then sampled S, C and I.
    others.clear();
    chosen.clear();
    auto add = [&](uint32_t li, Label want) {
      if (Judge(in, listings_[li]) != want || !chosen.insert(li).second) return false;
      others.emplace_back(li, want);
      return true;
    };
    // Substitutes: a uniform sample of the listings of the asked type that are not Exact.
    subs.clear();
    if (in.type >= 0) {
      for (uint32_t p = by_type_.offsets[in.type]; p < by_type_.offsets[in.type + 1]; ++p) {
        if (!MatchesFields(in, type_keys_[p])) subs.push_back(by_type_.items[p]);
      }
    } else {
      // Brand-only queries: other brands in the brand's product types (sampled, not scanned).
      for (int t : tax_.brand_types[in.brand]) {
        const size_t n = by_type_.size(t);
        for (int k = 0; k < 12 && n > 0; ++k) {
          const uint32_t li = by_type_.begin(t)[r.Below(n)];
          if (Judge(in, listings_[li]) == kS) subs.push_back(li);
        }
      }
      std::sort(subs.begin(), subs.end());
      subs.erase(std::unique(subs.begin(), subs.end()), subs.end());
    }
    for (size_t k = 0; k < subs.size() && k < kSubstitutesPerQuery; ++k) {
      std::swap(subs[k], subs[k + r.Below(subs.size() - k)]);
      add(subs[k], kS);
    }
    // Complements: listings of the complementary types.
    {
      std::vector<int> ctypes;
      if (in.type >= 0) {
        ctypes = tax_.types[in.type].comp;
      } else {
        for (int t : tax_.brand_types[in.brand]) {
          for (int c : tax_.types[t].comp) ctypes.push_back(c);
        }
      }
      int got = 0;
      for (int tries = 0; tries < 60 && got < kComplementsPerQuery && !ctypes.empty(); ++tries) {
        const int t = ctypes[r.Below(ctypes.size())];
        const size_t n = by_type_.size(t);
        if (n == 0) continue;
        got += add(by_type_.begin(t)[r.Below(n)], kC);
      }
    }
    // Irrelevant: some sharing a title word with the query, the rest at random.
    {
      int got = 0;
      for (int tries = 0; tries < 60 && got < kLexicalIrrelevantPerQuery && !qids.empty(); ++tries) {
        const uint32_t t = qids[r.Below(qids.size())];
        got += add(postings_.begin(t)[r.Below(postings_.size(t))], kI);
      }
      for (int tries = 0; tries < 100 && got < kIrrelevantPerQuery; ++tries) {
        got += add(static_cast<uint32_t>(r.Below(listings_.size())), kI);
      }
    }
    // Rows in listing (file) order: merge the sorted Exact list with the sorted samples,
    // leaving out listings the catalog does not carry.
    std::sort(others.begin(), others.end());
    judged.clear();
    judged.reserve(exact.size() + others.size());
    {
      size_t a = 0, b = 0;
      while (a < exact.size() || b < others.size()) {
        if (b == others.size() || (a < exact.size() && exact[a] < others[b].first)) {
          if (Carried(exact[a])) judged.emplace_back(exact[a], kE);
          ++a;
        } else {
          if (Carried(others[b].first)) judged.push_back(others[b]);
          ++b;
        }
      }
    }
    if (!write) {
      prog.Update(qi + 1);
      continue;
    }
    for (const auto& j : judged) {
      jw.Uint(qid);
      jw.Uint(ListingId(j.first));  // == listings_[j.first].id, without the cache miss
      jw.Char(static_cast<char>(j.second));
      jw.EndRow();
    }

    // Clicks for train queries: one noisy results page of judged listings.
    if (split == 0) {
      std::vector<std::pair<uint32_t, Label>> by_label[4];
      for (const auto& j : judged) {
        const Label lb = j.second;
        by_label[lb == kE ? 0 : lb == kS ? 1 : lb == kC ? 2 : 3].push_back(j);
      }
      const int quota[4] = {4, 3, 1, 2};
      std::vector<std::pair<uint32_t, Label>> page, rest;
      for (int b = 0; b < 4; ++b) {
        Shuffle(&by_label[b], &rc);
        for (size_t k = 0; k < by_label[b].size(); ++k) {
          (static_cast<int>(k) < quota[b] ? page : rest).push_back(by_label[b][k]);
        }
      }
      Shuffle(&rest, &rc);
      for (size_t k = 0; page.size() < kPageSize && k < rest.size(); ++k) page.push_back(rest[k]);
      std::vector<std::pair<double, std::pair<uint32_t, Label>>> ranked;
      for (const auto& p : page) {
        const double base = p.second == kE ? 1.5 : p.second == kS ? 0.8 : p.second == kC ? 0.3 : 0.0;
        ranked.push_back({base + 0.9 * rc.Normal(), p});
      }
      std::sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first > b.first;
        return a.second.first < b.second.first;
      });
      for (size_t pos = 0; pos < ranked.size(); ++pos) {
        const Listing& l = listings_[ranked[pos].second.first];
        const Label lb = ranked[pos].second.second;
        double attract = lb == kE ? 0.65 : lb == kS ? 0.18 : lb == kC ? 0.08 : 0.02;
        if (l.price > 1.5 * u.typical_price) attract *= 0.6;
        if (l.city != u.city) attract *= 0.85;
        const double exam = 1.0 / std::pow(static_cast<double>(pos + 1), 0.7);
        const bool clicked = rc.Chance(std::min(0.95, exam * attract));
        cw.Uint(qid);
        cw.Uint(user + 1);
        cw.Uint(l.id);
        cw.Int(static_cast<int64_t>(pos + 1));
        cw.Int(clicked ? 1 : 0);
        cw.EndRow();
      }
    }
    prog.Update(qi + 1);
  }
  prog.Finish(nq);
  if (auto st = qw.Close(); !st.ok()) return st;
  if (auto st = jw.Close(); !st.ok()) return st;
  if (auto st = cw.Close(); !st.ok()) return st;

  sum->queries = written[0] + written[1] + written[2];
  sum->train_queries = written[0];
  sum->valid_queries = written[1];
  sum->test_queries = written[2];
  sum->judgments = jw.rows();
  sum->clicks = cw.rows();
  sum->vocab_gap_share_test = written[2] > 0 ? static_cast<double>(gap_test) / written[2] : 0;
  sum->vocab_gap_share_all = sum->queries > 0 ? static_cast<double>(gap_all) / sum->queries : 0;
  if (!exact_counts.empty()) {
    std::vector<int64_t> sorted = exact_counts;
    std::sort(sorted.begin(), sorted.end());
    sum->median_exact_per_query = sorted[sorted.size() / 2];
    sum->max_exact_per_query = sorted.back();
    double total = 0;
    int64_t under = 0;
    for (int64_t c : sorted) {
      total += c;
      under += c < 100;
    }
    sum->mean_exact_per_query = total / sorted.size();
    sum->share_queries_under_100_exact = static_cast<double>(under) / sorted.size();
  }
  return absl::OkStatus();
}

absl::Status Generator::Run(const std::string& dir, MarketplaceSummary* sum) {
  const std::string files[] = {"users.tsv", "listings.tsv", "queries.tsv", "judgments.tsv", "clicks.tsv"};
  auto tmp = [&](int i) { return absl::StrCat(dir, "/.", files[i], ".tmp"); };
  if (auto st = WriteUsers(tmp(0)); !st.ok()) return st;
  if (auto st = WriteListings(tmp(1)); !st.ok()) return st;
  BuildIndexes();
  if (auto st = WriteQueries(tmp(2), tmp(3), tmp(4), sum); !st.ok()) return st;
  for (int i = 0; i < 5; ++i) {
    std::error_code ec;
    std::filesystem::rename(tmp(i), absl::StrCat(dir, "/", files[i]), ec);
    if (ec) return absl::InternalError(absl::StrCat("rename ", tmp(i), ": ", ec.message()));
  }
  sum->listings = o_.listings - held_out_listings_;
  sum->held_out_listings = held_out_listings_;
  sum->users = o_.users;
  sum->categories = static_cast<int>(tax_.categories.size());
  sum->product_types = static_cast<int>(tax_.types.size());
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteMarketplace(const MarketplaceOptions& options, const std::string& out_dir,
                              MarketplaceSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  if (options.listings < 1 || options.listings > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError("listings must be in [1, 2^31]");
  }
  if (options.users < 1 || options.users > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError("users must be in [1, 2^31]");
  }
  if (options.queries < 1) return absl::InvalidArgumentError("queries must be >= 1");
  if (!(options.valid_fraction >= 0 && options.test_fraction >= 0 &&
        options.valid_fraction + options.test_fraction < 1)) {
    return absl::InvalidArgumentError("valid_fraction and test_fraction must be >= 0 and sum to < 1");
  }
  if (!(options.vocab_gap_target >= 0 && options.vocab_gap_target <= 1)) {
    return absl::InvalidArgumentError("vocab_gap_target must be in [0, 1]");
  }
  if (out_dir.empty()) return absl::InvalidArgumentError("empty out_dir");
  auto tax = ParseTaxonomy(kMarketplaceTaxonomy);
  if (!tax.ok()) return tax.status();
  for (const std::string& name : options.held_out_types) {
    if (!(*tax)->type_index.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("held_out_types: \"", name, "\" is not a product type of the taxonomy"));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", out_dir, ": ", ec.message()));
  MarketplaceSummary local;
  MarketplaceSummary* sum = summary != nullptr ? summary : &local;
  *sum = MarketplaceSummary();
  Generator gen(options, **tax);
  if (auto st = gen.Run(out_dir, sum); !st.ok()) return st;
  sum->seconds = SecondsSince(start);
  return absl::OkStatus();
}

}  // namespace marketsearch
