#!/usr/bin/env python3
"""Writes a small, untrained but valid ranker artifact (the real exporter's write_artifact,
with parity fixtures of random features) for the C++ tests of ranking/ranker.

usage: make_test_ranker.py --models_dir DIR --version V --featurizer_version F
           [--feature_dim 117] [--ranking_feature_version 2] [--seed 0] [--format torchscript]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ranker_model import RankerModel, flops_per_candidate  # noqa: E402
from train_ranker import model_artifact, ranker_export, write_artifact  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models_dir", required=True)
    ap.add_argument("--version", type=int, required=True)
    ap.add_argument("--featurizer_version", type=int, required=True)
    # Defaults: ranking/ranking_features.h kRankingFeatureDim and kRankingFeatureVersion (the
    # takedown e2e test relies on them; ranking/ranker_test passes the C++ constants).
    ap.add_argument("--feature_dim", type=int, default=117)
    ap.add_argument("--ranking_feature_version", type=int, default=2)
    ap.add_argument("--listing_tower_version", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=["aoti", "torchscript"], default="torchscript",
                    help="aoti adds the AOTInductor package (about 20 s of compiling)")
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = RankerModel(args.feature_dim, cross_layers=2, hidden=[32, 16])
    sample = rng.normal(size=(500, args.feature_dim)).astype(np.float32) * 3 + 1
    model.set_standardization(torch.from_numpy(sample))
    # Random cross weights well away from 0, so every layer matters in the parity check.
    with torch.no_grad():
        for layer in model.cross:
            layer.linear.weight.normal_(std=0.2)
    model.eval()
    x = rng.normal(size=(300, args.feature_dim)).astype(np.float32) * 3 + 1
    with torch.no_grad():
        scores = model(torch.from_numpy(x))[:, 0].numpy().astype(np.float32)
    extra = {
        "parity_query_ids.npy": np.array([1, 2], dtype=np.uint64),
        "parity_offsets.npy": np.array([0, 120, 300], dtype=np.int64),
        "parity_listing_ids.npy": np.arange(1, 301, dtype=np.uint64),
        "parity_features.npy": x,
        "parity_scores.npy": scores,
    }
    metrics = {"ranking_feature_version": float(args.ranking_feature_version),
               "listing_tower_version": float(args.listing_tower_version),
               "mflops_per_candidate": flops_per_candidate(model) / 1e6}
    aoti = ranker_export(model, x[:64]) if args.format == "aoti" else None
    path = write_artifact(args.models_dir, torch.jit.script(model), args.feature_dim,
                          args.featurizer_version, 64, metrics, extra, version=args.version, aoti=aoti)
    print(path)
    return 0


if __name__ == "__main__":
    model_artifact.run_main("make_test_ranker", main)  # an I/O error: one line naming the step and file
