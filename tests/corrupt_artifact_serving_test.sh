#!/usr/bin/env bash
# A truncated or bit-flipped index, lexical index or ranker published while the real server
# runs (loopback port, reload every 200 ms) is refused at load by its checksums, reported
# (the server's log line and marketsearch_servable_events_total{event="failed"}), and the
# previous version keeps serving: every search succeeds and marketsearch_servable_version
# does not move. A good version published afterwards is taken. "MEASURED" lines feed
# RELIABILITY.md.
source "$(dirname "$0")/testdata_lib.sh" 2>/dev/null || source "$TEST_SRCDIR/marketsearch/tests/testdata_lib.sh"
source "$RUNFILES/tools/server_lib.sh"

PY="$RUNFILES/third_party/python"
CLI="$RUNFILES/serving/search_cli"
D="$TMP/data"

note "tiny marketplace, towers, index, lexical index, ranker"
make_data "$D" 1500 --format=torchscript
"$BUILD_INDEX" --data_dir="$D" --threads=2 --factory=Flat --recall_queries=50 > "$TMP/bi.log" 2>&1 \
  || { cat "$TMP/bi.log"; fail "build_index"; }
"$RUNFILES/jobs/build_lexical" --data_dir="$D" > "$TMP/bl.log" 2>&1 || { cat "$TMP/bl.log"; fail "build_lexical"; }
"$PY" "$RUNFILES/ranking/train/make_test_ranker.py" --models_dir="$D/models" --version=1 \
  --listing_tower_version=1 --featurizer_version=2 > "$TMP/ranker.log" 2>&1 || { cat "$TMP/ranker.log"; fail "ranker"; }

start_server "$RUNFILES" "$D" "$TMP/port" "$TMP/server.log" --reload_interval_ms=200 || fail "server did not start"
trap stop_server EXIT
PORT=$(cat "$TMP/port")
ADMIN=$(cat "$TMP/port.admin")

metric() {  # NAME LABELS -> value (0 when absent)
  curl -sf "http://127.0.0.1:$ADMIN/metrics" | awk -v m="$1{$2}" '$1 == m {print $2; f=1} END {if (!f) print 0}'
}
search_ok() {
  "$CLI" --target="127.0.0.1:$PORT" --query="grey sofa" --timeout_ms=5000 > "$TMP/cli.out" 2>&1 \
    || { cat "$TMP/cli.out"; fail "a search failed ($1)"; }
  grep -q '^ *1\. ' "$TMP/cli.out" || { cat "$TMP/cli.out"; fail "a search returned nothing ($1)"; }
}
flip() { "$PY" -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x20; open(p, "wb").write(b)' "$1"; }
halve() { truncate -s $(( $(stat -c %s "$1") / 2 )) "$1"; }
set_current() { printf '%s\n' "$2" > "$1/CURRENT.tmp" && mv "$1/CURRENT.tmp" "$1/CURRENT"; }

# publish_bad KIND ROOT FILE MUTATION: copies the serving version to a new one in a staging
# directory, damages FILE, renames it into place (and points CURRENT at it for index and
# lexical), then waits for the server's verdict.
publish_bad() {
  local kind="$1" root="$2" file="$3" how="$4"
  local serving failed_before v t0
  serving=$(metric marketsearch_servable_version "kind=\"$kind\"")
  failed_before=$(metric marketsearch_servable_events_total "event=\"failed\",kind=\"$kind\"")
  v=$(( $(versions "$root" | awk '{print $NF}') + 1 ))
  cp -a "$root/$serving" "$root/.tmp-bad-$v"
  "$how" "$root/.tmp-bad-$v/$file"
  mv "$root/.tmp-bad-$v" "$root/$v"
  [ "$kind" = ranker ] || set_current "$root" "$v"
  t0=$(date +%s.%N)
  local ok=0
  for _ in $(seq 1 100); do
    search_ok "$kind v$v published"
    if [ "$(metric marketsearch_servable_events_total "event=\"failed\",kind=\"$kind\"")" -gt "$failed_before" ]; then
      ok=1; break
    fi
    sleep 0.1
  done
  [ "$ok" = 1 ] || { cat "$TMP/server.log"; fail "$kind v$v ($how $file): no failed event within 10 s"; }
  local secs; secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')
  for _ in 1 2 3 4 5; do search_ok "after $kind v$v was refused"; done
  [ "$(metric marketsearch_servable_version "kind=\"$kind\"")" = "$serving" ] || fail "$kind: serving version moved"
  local line; line=$(grep "$kind v$v failed to load" "$TMP/server.log" | tail -1)
  [ -n "$line" ] || { cat "$TMP/server.log"; fail "$kind v$v: no log line"; }
  [[ "$line" == *"$file"* ]] || fail "$kind v$v: the log line does not name $file: $line"
  echo "MEASURED $how $kind $file (v$v): refused within $secs s, v$serving keeps serving, 6/6 searches OK: $line"
}

note "the server serves v1 of every kind"
search_ok start
for k in index lexical ranker; do
  [ "$(metric marketsearch_servable_version "kind=\"$k\"")" = 1 ] || fail "$k does not serve v1"
done

note "damaged versions are refused; the previous ones keep serving"
publish_bad index "$D/index" index.faiss flip
publish_bad index "$D/index" index.faiss halve
publish_bad index "$D/index" attributes.bin flip
publish_bad lexical "$D/lexical" postlist.glass flip
publish_bad lexical "$D/lexical" termlist.glass halve
publish_bad ranker "$D/models/ranker" model.pt flip
publish_bad ranker "$D/models/ranker" model.pt halve

note "a good version published next is served"
"$BUILD_INDEX" --data_dir="$D" --threads=2 --factory=Flat --recall_queries=50 > "$TMP/bi.log" 2>&1 \
  || { cat "$TMP/bi.log"; fail "build_index while serving"; }
want=$(cat "$D/index/CURRENT")
for _ in $(seq 1 100); do
  [ "$(metric marketsearch_servable_version 'kind="index"')" = "$want" ] && break
  sleep 0.1
done
[ "$(metric marketsearch_servable_version 'kind="index"')" = "$want" ] || fail "index v$want not served"
search_ok "good index v$want"
echo "MEASURED a good index v$want published after the damaged ones: served"
echo PASS
