"""Checks the tensors export_training wrote: shapes, id ranges, offsets, pair and click rows."""
import os
import sys

import numpy as np


def main(d):
    meta = dict(line.strip().split("=", 1) for line in open(os.path.join(d, "meta.txt")) if "=" in line)
    meta = {k: int(v) for k, v in meta.items()}
    n = meta["listings"]
    load = lambda name: np.load(os.path.join(d, name + ".npy"))
    ids, tok, off = load("listing_ids"), load("listing_tok"), load("listing_off")
    assert ids.dtype == np.uint64 and ids.shape == (n,)
    assert np.all(np.diff(ids.astype(np.float64)) > 0), "listings in id order"
    assert off.shape == (n + 1,) and off[0] == 0 and off[-1] == len(tok)
    assert np.all(np.diff(off) > 0), "every listing has features"
    assert tok.min() >= 0 and tok.max() < meta["text_vocab"]
    dense = load("listing_dense")
    assert dense.shape == (n, meta["dense_dim"]) and dense.dtype == np.float32
    assert np.all(np.isfinite(dense))
    cat = load("listing_cat")
    assert cat.min() >= 0 and cat.max() < meta["category_buckets"]
    for split in ("train", "valid", "test"):
        nq = meta["queries_" + split]
        qoff = load("q_%s_off" % split)
        assert qoff.shape == (nq + 1,)
        pairs = load("pairs_" + split)
        assert pairs.shape[1] == 3 and pairs.shape[0] == meta["pairs_" + split] > 0
        assert pairs[:, 0].max() < nq and pairs[:, 1].max() < n
        assert set(np.unique(pairs[:, 2])) <= {0, 1, 2, 3}
        assert (pairs[:, 2] == 3).any(), "Exact pairs present"
    clicks = load("clicks_train")
    assert clicks.shape == (meta["clicks_train"], 4) and clicks.shape[0] > 0
    assert clicks[:, 0].max() < meta["queries_train"] and clicks[:, 1].max() < n
    assert set(np.unique(clicks[:, 3])) <= {0, 1} and clicks[:, 3].sum() > 0
    print("training tensors ok: %d listings, %d train pairs, %d click rows" % (
        n, meta["pairs_train"], clicks.shape[0]))


if __name__ == "__main__":
    main(sys.argv[1])
