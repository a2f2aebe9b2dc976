#!/usr/bin/env bash
# The demo's A/B experiment, against a running server started with --experiment_qa_overrides:
#   1. a pilot: simulated buyers search and click with no experiment running (a pre-period);
#   2. the power calculation on the pilot's per-user CTR variance fixes the users per arm;
#   3. the experiment (fused order vs fused + ranker) is written to <data_dir>/experiments.textproto
#      and picked up by the server without a restart;
#   4. exactly that population of simulated buyers searches through it;
#   5. experiment_report prints the report (and replays the judged test queries through each
#      arm) and writes the dashboard's JSON.
#   6. with ADMIN_URL: the dashboard's address, and the page loaded in headless Chromium
#      (tests/dashboard_check.py: rendered, charts drawn, arms table equal to the JSON API), its
#      screenshot saved in <data_dir>/run/dashboard.png.
# Usage: tools/demo_experiment.sh BIN_DIR DATA_DIR TARGET [ADMIN_URL]
# env: EXPERIMENT_SEED (7), EXPERIMENT_QPS (300), EXPERIMENT_MDE (relative CTR effect, 0.05),
#      EXPERIMENT_SEARCHES_PER_USER (7)
set -euo pipefail
BIN="$1"
DATA="$2"
TARGET="$3"
ADMIN_URL="${4:-}"
SEED="${EXPERIMENT_SEED:-7}"
QPS="${EXPERIMENT_QPS:-300}"
MDE="${EXPERIMENT_MDE:-0.05}"
PER_USER="${EXPERIMENT_SEARCHES_PER_USER:-7}"
# Simulated buyers: the catalog's users with valid/test queries, 8 people per catalog user,
# ids far from the catalog's (the evaluation above searched as the catalog's users).
SIM=(--target="$TARGET" --data_dir="$DATA" --seed="$SEED" --rate_qps="$QPS"
     --user_replicas=8 --user_id_offset=1000000000000)
RUN="$DATA/run"
mkdir -p "$RUN"

printf '  pilot (pre-period, no experiment): 2,000 simulated buyers, 3 searches each\n'
PILOT_START_MS=$(( $(date +%s%N) / 1000000 ))
"$BIN/jobs/simulate_traffic" "${SIM[@]}" --users=2000 --searches=6000 > "$RUN/pilot.txt" 2> "$RUN/pilot.log" ||
  { tail -20 "$RUN/pilot.log"; exit 1; }
sed 's/^/    /' "$RUN/pilot.txt" | head -1
sleep 1  # the impression queue writes behind the requests
"$BIN/jobs/experiment_report" --data_dir="$DATA" --plan --plan_metric=ctr \
  --plan_relative_mde="$MDE" --plan_since_unix_ms="$PILOT_START_MS" > "$RUN/plan.txt"
sed -n 's/^plan: /  power calculation: /p' "$RUN/plan.txt"
N=$(awk '/^planned_users_per_arm/ {print $2}' "$RUN/plan.txt")

cat > "$DATA/experiments.textproto.tmp" <<EOF
# Written by tools/demo_experiment.sh: the ranking layer's experiment, sized by the power
# calculation on the pilot (experiment_report --plan).
layers {
  name: "ranking"
  experiments {
    key: "ranker-vs-fused"
    description: "DCN-V2 ranker on the fused retrieval order, against the fused order alone"
    range_begin: 0
    range_end: 1
    start_unix_s: $(date +%s)
    primary_metric: "ctr"
    planned_users_per_arm: $N
    arms { name: "fused" weight: 0.5 overrides { use_ranker: false } }
    arms { name: "ranker" weight: 0.5 overrides { use_ranker: true } }
  }
}
EOF
mv "$DATA/experiments.textproto.tmp" "$DATA/experiments.textproto"
sleep 3  # the server's reload loop polls every 2 s
# Each buyer lands in an arm by a fair coin: recruit 2N + 3 sqrt(2N) so that both arms reach N
# (the report shows "below planned sample" until they do).
USERS=$(awk -v n="$N" 'BEGIN { printf "%d", 2 * n + 3 * sqrt(2 * n) + 1 }')
printf '  experiment "ranker-vs-fused": %d simulated buyers (%d per arm planned), %d searches each on average\n' \
  "$USERS" "$N" "$PER_USER"
"$BIN/jobs/simulate_traffic" "${SIM[@]}" --users="$USERS" --searches=$(( USERS * PER_USER )) \
  > "$RUN/experiment_traffic.txt" 2> "$RUN/experiment_traffic.log" ||
  { tail -20 "$RUN/experiment_traffic.log"; exit 1; }
sed 's/^/    /' "$RUN/experiment_traffic.txt" | head -1
sleep 1
printf '\n== the experiment report (experiment_report; JSON for the dashboard in %s)\n' \
  "$RUN/experiment_report.json"
"$BIN/jobs/experiment_report" --data_dir="$DATA" --replay_target="$TARGET" \
  --json_out="$RUN/experiment_report.json" | sed 's/^/  /'
if [ -n "$ADMIN_URL" ]; then
  printf '\n== the dashboard: %s/experiments (while this server runs)\n' "$ADMIN_URL"
  if command -v chromium > /dev/null; then
    third_party/python tests/dashboard_check.py "$ADMIN_URL" "$RUN/dashboard.png" ranker-vs-fused |
      sed 's/^/  /'
  fi
fi
