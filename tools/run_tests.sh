#!/usr/bin/env bash
# Runs the layering check (tools/check_layering.py: the folder dependency graph from
# `bazel query` has no cycle and no upward arrow) and every Bazel test, and prints the real
# case counts: one case for the layering check, plus the sum of test cases in each target's
# test.xml (gtest cases, pytest cases, one case per plain sh_test), plus one failed case for
# every test target that produced no test.xml (e.g. it failed to build).
# The counts are also written to bazel-testlogs-summary.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
echo "== layering check (tools/check_layering.py)"
third_party/python tools/check_layering.py
layering_rc=$?
bazel test //... "$@"
rc=$?
targets=$(bazel query 'tests(//...)' 2>/dev/null)
third_party/python - "$rc" "$layering_rc" $targets <<'PYEOF'
import os, sys
import xml.etree.ElementTree as ET
rc, layering_rc, targets = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
passed = failed = 0
for t in targets:
    pkg, name = t.lstrip("/").split(":")
    xml = os.path.join("bazel-testlogs", pkg, name, "test.xml")
    if not os.path.exists(xml):
        failed += 1
        print("no test.xml for %s (counted as failed)" % t)
        continue
    root = ET.parse(xml).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is None and case.get("status", "run") in ("run", ""):
            passed += 1
if rc != 0 and failed == 0:
    failed = 1  # bazel failed without a failing case: count the run itself
# The layering check is one more case.
if layering_rc == 0:
    passed += 1
else:
    failed += 1
    print("layering check failed (see its output above; counted as one failed case)")
line = "%d passed, %d failed" % (passed, failed)
open("bazel-testlogs-summary.txt", "w").write(line + "\n")
print(line)
PYEOF
[ "$rc" -ne 0 ] && exit "$rc"
exit "$layering_rc"
