#!/usr/bin/env bash
# Shared by the build_index shell tests (sourced): paths into the Bazel runfiles tree, a
# tiny marketplace + feature store + trained towers, and the checks of a published index.
set -euo pipefail

RUNFILES="${TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/marketsearch"
[ -d "$RUNFILES" ] || RUNFILES="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_INDEX="$RUNFILES/jobs/build_index"
INSPECT="$RUNFILES/jobs/index_inspect"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '\n== %s\n' "$*"; }

# make_data DIR [LISTINGS [TRAIN_FLAGS...]]: catalog → store → training tensors → towers
# (1 epoch; e.g. --format=torchscript skips the AOTInductor compile).
make_data() {
  local d="$1" n="${2:-3000}"
  shift; shift || true
  mkdir -p "$d"
  "$RUNFILES/jobs/make_marketplace" --seed=42 --listings="$n" --users=300 --queries=600 \
    --out_dir="$d/catalog" > "$d.setup.log" 2>&1
  "$RUNFILES/jobs/ingest" --data_dir="$d" >> "$d.setup.log" 2>&1
  "$RUNFILES/jobs/export_training" --data_dir="$d" >> "$d.setup.log" 2>&1
  "$RUNFILES/third_party/python" "$RUNFILES/retrieval/train/train_two_tower.py" --data_dir="$d" --epochs=1 \
    --threads=2 "$@" >> "$d.setup.log" 2>&1 || { cat "$d.setup.log" >&2; fail "training failed"; }
}

# Numbered version directories under an index root, ascending.
versions() { ls "$1" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ' || true; }

manifest_field() { sed -n "s/^$2: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$1/MANIFEST"; }

# check_intact DATA_DIR: CURRENT names a version; that version and every other numbered
# directory load (manifest, checksums, attribute table) — nothing half-written looks like
# a version.
check_intact() {
  local d="$1" root="$1/index"
  local cur
  cur="$(cat "$root/CURRENT")" || fail "no CURRENT"
  [[ "$cur" =~ ^[0-9]+$ ]] || fail "CURRENT is '$cur'"
  [ -d "$root/$cur" ] || fail "CURRENT names missing version $cur"
  "$INSPECT" --data_dir="$d" > /dev/null || fail "CURRENT version $cur does not load"
  for v in $(versions "$root"); do
    "$INSPECT" --dir="$root/$v" > /dev/null || fail "version $v does not load"
  done
}
