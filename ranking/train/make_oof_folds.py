#!/usr/bin/env python3
"""Out-of-fold retrieval models for the ranker's training data.

Why: the two-tower retriever is trained on the train queries, so on those queries its
candidates and similarities are far better than on unseen ones (on the 20k demo catalog the
hybrid order reaches NDCG@10 0.95 on train vs 0.74 on valid). A ranker trained on such
features learns to trust the embedding features far more than they deserve on live traffic.
The standard remedy for stacked models: compute the train queries' features with a retriever
that did not see them.

This tool splits the train queries into --folds folds and, for each fold k, trains a two-tower
model on the OTHER folds' judged pairs (retrieval/train/train_two_tower.py,
unchanged) and builds its FAISS index (jobs/build_index), in

    <data_dir>/ranking_oof/<k>/{training/, models/, index/, store -> ../../store, lexical -> ../../lexical}

and writes <data_dir>/ranking_oof/{folds.txt, fold_of_query.tsv}. export_ranking_data then
computes the features of a train query with the query tower and index of its own fold (the
model that never saw it); valid and test queries (and live traffic) use the served retriever.
The fold models are never served.

Queries are assigned to folds by their set of lowercase words (like the generator's splits), so
two train queries with the same words ("iphone 12 128gb" / "128gb iphone 12") share a fold:
with a per-query assignment, 7% of the demo's train queries had a twin in the other fold and
the out-of-fold ANN order still reached NDCG@10 0.94 on them.
"""
import argparse
import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# The folds are valid for exactly the training tensors they were made from.
FINGERPRINT_FILES = ("listing_ids.npy", "q_train_ids.npy", "pairs_train.npy")


def fingerprint(training):
    return {name: sha256(os.path.join(training, name)) for name in FINGERPRINT_FILES}


def read_folds_txt(path):
    out = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = v
    return out


def word_set_fold(text, folds):
    words = sorted(set(w for w in re.split(r"[^0-9a-z]+", text.lower()) if w))
    return int(hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:12], 16) % folds


def train_query_folds(catalog_dir, folds):
    """query_id -> fold for every train query of queries.tsv."""
    out = {}
    with open(os.path.join(catalog_dir, "queries.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["split"] == "train":
                out[int(row["query_id"])] = word_set_fold(row["text"], folds)
    return out


def link(src, dst):
    if os.path.lexists(dst):
        os.remove(dst)
    os.symlink(os.path.abspath(src), dst)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data_dir", default="var")
    ap.add_argument("--bin_dir", default="bazel-bin", help="where jobs/build_index is (bazel-bin or runfiles root)")
    ap.add_argument("--src_dir", default="", help="root of the Python sources (default: this file's repo)")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=40, help="two-tower epochs per fold")
    ap.add_argument("--extra_two_tower_args", default="", help="passed to train_two_tower.py")
    ap.add_argument("--if_stale", action="store_true",
                    help="do nothing when <data_dir>/ranking_oof was made from the current training tensors")
    args = ap.parse_args(argv)
    if args.folds < 2:
        raise SystemExit("make_oof_folds: --folds must be >= 2")
    src = args.src_dir or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    trainer = os.path.join(src, "retrieval", "train", "train_two_tower.py")
    build_index = os.path.join(args.bin_dir, "jobs", "build_index")
    data = os.path.abspath(args.data_dir)
    training = os.path.join(data, "training")
    for need in (os.path.join(training, "pairs_train.npy"), trainer, build_index):
        if not os.path.exists(need):
            raise SystemExit("make_oof_folds: %s does not exist" % need)

    root = os.path.join(data, "ranking_oof")
    fp = fingerprint(training)
    folds_txt = os.path.join(root, "folds.txt")
    if args.if_stale and os.path.exists(folds_txt):
        have = read_folds_txt(folds_txt)
        if have.get("folds") == str(args.folds) and all(have.get("sha256_" + k) == v for k, v in fp.items()):
            print("make_oof_folds: %s is up to date (%d folds); nothing to do" % (root, args.folds))
            return 0
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    q_ids = np.load(os.path.join(training, "q_train_ids.npy")).astype(np.int64)
    pairs = np.load(os.path.join(training, "pairs_train.npy"))
    fold_of = train_query_folds(os.path.join(data, "catalog"), args.folds)
    missing = [q for q in q_ids.tolist() if q not in fold_of]
    if missing:
        raise SystemExit("make_oof_folds: train query %d of the tensors is not in queries.tsv" % missing[0])
    fold_of_row = np.array([fold_of[q] for q in q_ids.tolist()], dtype=np.int64)
    os.makedirs(root, exist_ok=True)
    t0 = time.time()
    for k in range(args.folds):
        fold = os.path.join(root, str(k))
        os.makedirs(os.path.join(fold, "training"))
        for name in os.listdir(training):
            if name != "pairs_train.npy":
                link(os.path.join(training, name), os.path.join(fold, "training", name))
        keep = fold_of_row[pairs[:, 0]] != k
        np.save(os.path.join(fold, "training", "pairs_train.npy"), pairs[keep])
        for name in ("store", "lexical", "catalog"):
            if os.path.exists(os.path.join(data, name)):
                link(os.path.join(data, name), os.path.join(fold, name))
        held_out = int(np.sum(fold_of_row == k))
        print("== fold %d/%d: two-tower on %d train queries (%d held out), then its index" % (
            k + 1, args.folds, len(q_ids) - held_out, held_out), flush=True)
        # Fold retrievers are read offline only (export_ranking_data), never served: TorchScript
        # alone spares the AOTInductor compile of both towers per fold.
        cmd = [sys.executable, trainer, "--data_dir=" + fold, "--epochs=%d" % args.epochs,
               "--format=torchscript"]
        cmd += [a for a in args.extra_two_tower_args.split() if a]
        subprocess.run(cmd, check=True)
        subprocess.run([build_index, "--data_dir=" + fold], check=True)
    with open(os.path.join(root, "fold_of_query.tsv"), "w") as f:
        f.write("query_id\tfold\n")
        for q in sorted(fold_of):
            f.write("%d\t%d\n" % (q, fold_of[q]))
    with open(os.path.join(root, "folds.txt.tmp"), "w") as f:
        f.write("folds=%d\nassignment=fold_of_query.tsv (word set)\n" % args.folds)
        for k, v in sorted(fp.items()):
            f.write("sha256_%s=%s\n" % (k, v))
    os.rename(os.path.join(root, "folds.txt.tmp"), os.path.join(root, "folds.txt"))
    print("make_oof_folds summary")
    sizes = np.bincount(fold_of_row, minlength=args.folds)
    print("  folds                %d (train queries per fold: %s; assigned by word set)" % (
        args.folds, " ".join(str(int(x)) for x in sizes)))
    print("  written to           %s" % root)
    print("  time                 %.1f s" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
