#!/usr/bin/env python3
"""Layering check: derives the folder dependency graph from Bazel and fails on a cycle
between folders or on an arrow from a lower layer to a higher one.

usage: tools/check_layering.py [--graph] [--query_output FILE]
  Runs `bazel query` over //... (or reads its saved output) and prints the folder graph.
  Exit 0 when the graph respects LAYERS, 1 with one line per offending edge otherwise.

Every target's dependencies count: libraries, binaries, tests and data (`deps`, `data`,
`srcs` referring to other packages), since a test in a library folder that runs another
folder's binary ties the two folders together as much as a #include does.
"""
import argparse
import collections
import subprocess
import sys

# Lowest first. A folder may depend only on folders in lower layers (or its own).
# Folders in one layer must not depend on each other at all.
LAYERS = [
    ["third_party"],
    ["proto"],
    ["common"],
    ["datasets"],
    ["features"],
    ["index"],
    ["retrieval"],
    ["ranking"],
    ["experiments"],
    ["serving"],
    ["jobs"],
    ["tools"],  # scripts (pipeline.sh, server_lib.sh) that bench/ and tests/ run
    ["bench", "tests", "fuzz"],  # fuzz/: the libFuzzer targets and their replay tests
]

# Folder of a label: the first path component of its package ("//index/train:x" -> index).
def folder(label):
    if not label.startswith("//"):
        return None  # external repositories (@rules_cc, ...) and source files outside
    pkg = label[2:].split(":", 1)[0]
    return pkg.split("/", 1)[0] if pkg else "<root>"


def query_edges(query_output):
    if query_output:
        text = open(query_output).read()
    else:
        text = subprocess.run(
            ["bazel", "query", "--noshow_progress", "--output=graph", "--nograph:factored",
             "kind(rule, //...) + deps(kind(rule, //...), 1)"],
            check=True, capture_output=True, text=True).stdout
    edges = collections.defaultdict(set)  # (from folder, to folder) -> example target pairs
    for line in text.splitlines():
        line = line.strip()
        if "->" not in line:
            continue
        a, b = [x.strip().strip('"') for x in line.split("->", 1)]
        fa, fb = folder(a), folder(b)
        if fa and fb and fa != fb:
            edges[(fa, fb)].add((a, b))
    return edges


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", action="store_true", help="print every folder edge")
    ap.add_argument("--query_output", help="read `bazel query --output=graph` from this file")
    args = ap.parse_args(argv)
    layer_of = {f: i for i, layer in enumerate(LAYERS) for f in layer}
    edges = query_edges(args.query_output)
    problems = []
    for (a, b), examples in sorted(edges.items()):
        example = sorted(examples)[0]
        la, lb = layer_of.get(a), layer_of.get(b)
        if la is None or lb is None:
            problems.append("%s -> %s: folder not in LAYERS (tools/check_layering.py), e.g. %s -> %s"
                            % (a, b, *example))
        elif lb >= la:
            kind = "same layer" if lb == la else "upward"
            problems.append("%s -> %s (%s), e.g. %s -> %s" % (a, b, kind, *example))
    if args.graph or problems:
        print("folder dependencies (%d edges):" % len(edges))
        for a, b in sorted(edges):
            print("  %s -> %s" % (a, b))
    if problems:
        print("\nlayering violations:")
        for p in problems:
            print("  " + p)
        return 1
    print("layering check: %d folder edges, all downward" % len(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
