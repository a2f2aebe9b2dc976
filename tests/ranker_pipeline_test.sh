#!/usr/bin/env bash
# End to end on a small catalog (5,000 listings, 1,500 queries): the offline pipeline
# (tools/pipeline.sh: marketplace, ingest, two-tower, FAISS, Xapian, tune_fusion), the
# out-of-fold retrievers, export_ranking_data, train_ranker.py, ranker_parity_check (C++ ==
# Python within 1e-5, from saved features and again from raw query text), the ranked order must
# beat the hybrid-merge order on the valid split, and the fusion chosen on valid is the one the
# export and the server use (a broken fusion file stops the server's start).
set -euo pipefail
R="$TEST_SRCDIR/marketsearch"
D="${TEST_TMPDIR:-/tmp}/ranker_pipeline"
PY="$R/third_party/python"
rm -rf "$D"

bash "$R/tools/pipeline.sh" "$R" "$D" 5000 1500 15
[ -f "$D/lexical/CURRENT" ] || "$R/jobs/build_lexical" --data_dir="$D"

printf '\n== out-of-fold retrievers\n'
"$PY" "$R/ranking/train/make_oof_folds.py" --data_dir="$D" --bin_dir="$R" --src_dir="$R" \
  --folds=2 --epochs=10
printf '\n== export_ranking_data\n'
"$R/jobs/export_ranking_data" --data_dir="$D"
printf '\n== train_ranker\n'
"$PY" "$R/ranking/train/train_ranker.py" --data_dir="$D" --epochs=6 \
  --summary_json="$D/ranker_summary.json"
printf '\n== ranker_parity_check\n'
"$R/jobs/ranker_parity_check" --data_dir="$D"

printf '\n== ranked vs hybrid order\n'
"$PY" - "$D/ranker_summary.json" "$D/models/ranker/1/MANIFEST" <<'PYEOF'
import json, re, sys
s = json.load(open(sys.argv[1]))
manifest = open(sys.argv[2]).read()
def metric(key):
    m = re.search(r'metrics \{ key: "%s" value: ([-0-9.e]+) \}' % key, manifest)
    assert m, "manifest lacks metric " + key
    return float(m.group(1))
ranked, hybrid = metric("valid_ndcg10"), metric("valid_ndcg10_hybrid")
assert abs(ranked - s["valid_ndcg10_ranked"]) < 1e-5 and abs(hybrid - s["valid_ndcg10_hybrid"]) < 1e-5
print("valid NDCG@10: hybrid %.4f  ranked %.4f  (%+.4f)" % (hybrid, ranked, ranked - hybrid))
print("test  NDCG@10: hybrid %.4f  ranked %.4f  (%+.4f)" % (
    s["test_ndcg10_hybrid"], s["test_ndcg10_ranked"], s["test_ndcg10_ranked"] - s["test_ndcg10_hybrid"]))
if not ranked > hybrid + 0.005:
    sys.exit("FAIL: the ranker does not beat the hybrid-merge order on the valid split")
PYEOF

# The served path (serving/searcher: listings read once for the filters, MakeRankingBatch,
# Ranker::Score) must give the ranker the features it was trained on: through the real gRPC
# server, the ranked order must beat the server's own fused order on the valid queries.
source "$R/tools/server_lib.sh"
serve_ndcg() {  # $1 = --ranker or --noranker; prints the API NDCG@10 on the valid split
  local port_file="$D/run/port$1"
  mkdir -p "$D/run"
  # Explicit returns: errexit does not reach into the $(...) this runs in.
  start_server "$R" "$D" "$port_file" "$D/run/server$1.log" "$1" --log_impressions=false || return 1
  "$R/jobs/evaluate_search" --target="127.0.0.1:$(cat "$port_file")" --data_dir="$D" \
    --split=valid --bench_lines > "$D/run/eval$1.txt" || { stop_server; return 1; }
  stop_server
  awk '$1 == "BENCH" && $2 == "e2e_ndcg10" {print $3}' "$D/run/eval$1.txt"
}
printf '\n== through the gRPC API (valid split)\n'
api_fused=$(serve_ndcg --noranker)
api_ranked=$(serve_ndcg --ranker)
echo "API NDCG@10: fused $api_fused  ranked $api_ranked"
"$PY" -c "import sys; f, r = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if r > f + 0.005 else 'FAIL: through the API the ranker does not beat the fused order')" \
  "$api_fused" "$api_ranked"

# The fusion tune_fusion chose on the valid split (tools/pipeline.sh step 7) is the one the
# ranker's features were exported with and the one the server fuses with.
printf '\n== the deployment fusion\n'
[ -f "$D/fusion.textproto" ] || { echo "FAIL: tools/pipeline.sh wrote no $D/fusion.textproto"; exit 1; }
method=$(sed -n 's/^method: "\(.*\)"$/\1/p' "$D/fusion.textproto")
echo "chosen: $(grep -E '^(method|ann_weight|ndcg10|default_ndcg10):' "$D/fusion.textproto" | tr '\n' ' ')"
grep -qx "fusion=$method" "$D/ranking_training/meta.txt" ||
  { echo "FAIL: export_ranking_data did not use the deployment fusion ($method)"; exit 1; }
grep -q "retrieval legs fused by $method ann_weight=.*fusion.textproto" "$D/run/server--ranker.log" ||
  { echo "FAIL: the server did not fuse with $D/fusion.textproto"; grep fused "$D/run/server--ranker.log"; exit 1; }
# A fusion file that does not parse stops the start, naming the field; it never falls back.
printf 'method: "rrf" ann_weight: 1.5\n' > "$D/bad_fusion.textproto"
set +e
timeout 120 "$R/serving/server" --data_dir="$D" --port=0 --fusion_config="$D/bad_fusion.textproto" \
  --log_impressions=false > "$D/run/bad_fusion.log" 2>&1
rc=$?
set -e
grep -q "ann_weight: 1.5 is outside \[0, 1\]" "$D/run/bad_fusion.log" && [ "$rc" = 2 ] ||
  { echo "FAIL: a bad --fusion_config gave exit $rc:"; cat "$D/run/bad_fusion.log"; exit 1; }
echo "bad fusion file refused: $(grep fusion_config "$D/run/bad_fusion.log")"
echo "PASS"
