"""Tests for the two-tower model and trainer: bag slicing, learning on a small synthetic
problem, and the exported TorchScript artifacts (manifest, checksum, identical outputs)."""
import hashlib
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_two_tower  # noqa: E402
from two_tower import bag_slice  # noqa: E402


def test_bag_slice_gathers_rows_in_order():
    tok = torch.tensor([10, 11, 20, 30, 31, 32])
    off = torch.tensor([0, 2, 3, 6])  # bags: [10 11] [20] [30 31 32]
    t, o = bag_slice(tok, off, torch.tensor([2, 0]))
    assert t.tolist() == [30, 31, 32, 10, 11]
    assert o.tolist() == [0, 3]


def write_problem(d, n_listings=300, vocab=2000, seed=0):
    """Listing i has 4 private tokens; query i (for listing i) uses 2 of them, so a model
    that learns token identity retrieves it."""
    rng = np.random.default_rng(seed)
    os.makedirs(d, exist_ok=True)
    ltok, loff = [], [0]
    private = rng.choice(vocab, size=(n_listings, 4), replace=False if vocab >= 4 * n_listings else True)
    for i in range(n_listings):
        ltok.extend(private[i].tolist())
        loff.append(len(ltok))
    np.save(os.path.join(d, "listing_tok.npy"), np.array(ltok, dtype=np.int64))
    np.save(os.path.join(d, "listing_off.npy"), np.array(loff, dtype=np.int64))
    np.save(os.path.join(d, "listing_cat.npy"), (np.arange(n_listings) % 5).astype(np.int64))
    np.save(os.path.join(d, "listing_dense.npy"), rng.random((n_listings, 8), dtype=np.float32))
    np.save(os.path.join(d, "listing_ids.npy"), np.arange(1, n_listings + 1, dtype=np.uint64))
    splits = {"train": range(0, 200), "valid": range(200, 250), "test": range(250, 300)}
    meta = {"featurizer_version": 1, "text_vocab": vocab, "category_buckets": 8, "dense_dim": 8,
            "listings": n_listings}
    for split, rows in splits.items():
        qtok, qoff, pairs = [], [0], []
        for qi, li in enumerate(rows):
            qtok.extend(private[li][:2].tolist())
            qoff.append(len(qtok))
            pairs.append([qi, li, 3])
            pairs.append([qi, (li + 1) % n_listings, 0])
        np.save(os.path.join(d, "q_%s_tok.npy" % split), np.array(qtok, dtype=np.int64))
        np.save(os.path.join(d, "q_%s_off.npy" % split), np.array(qoff, dtype=np.int64))
        np.save(os.path.join(d, "q_%s_ids.npy" % split), np.arange(len(rows), dtype=np.uint64))
        np.save(os.path.join(d, "pairs_%s.npy" % split), np.array(pairs, dtype=np.int64))
        meta["queries_" + split] = len(rows)
    with open(os.path.join(d, "meta.txt"), "w") as f:
        for k, v in meta.items():
            f.write("%s=%d\n" % (k, v))


def test_typo_copies_stack_after_the_clean_train_bags(tmp_path):
    d = str(tmp_path / "training")
    write_problem(d)
    clean = train_two_tower.load(d)
    assert "q_train_all_tok" not in clean  # no typo'd copies: clean queries only
    # Typo'd copy of train query r: its first token + 5000 (bags of one token each).
    n = len(clean["q_train_ids"])
    first = [int(clean["q_train_tok"][int(clean["q_train_off"][r])]) for r in range(n)]
    np.save(os.path.join(d, "q_train_typo_tok.npy"), np.array([t + 5000 for t in first], dtype=np.int64))
    np.save(os.path.join(d, "q_train_typo_off.npy"), np.arange(n + 1, dtype=np.int64))
    data = train_two_tower.load(d)
    for r in (0, 7, n - 1):
        tok, off = bag_slice(data["q_train_all_tok"], data["q_train_all_off"], torch.tensor([r, r + n]))
        clean_tok, _ = bag_slice(data["q_train_tok"], data["q_train_off"], torch.tensor([r]))
        assert tok[:int(off[1])].tolist() == clean_tok.tolist()
        assert tok[int(off[1]):].tolist() == [first[r] + 5000]


def test_trains_and_exports_verifiable_artifacts(tmp_path):
    data = str(tmp_path / "data")
    write_problem(os.path.join(data, "training"))
    assert train_two_tower.main(["--data_dir", data, "--epochs", "15", "--batch", "64",
                                 "--dim", "16", "--emb_dim", "16", "--patience", "15"]) == 0
    for name in ("query_tower", "listing_tower"):
        art = os.path.join(data, "models", name, "1")
        manifest = open(os.path.join(art, "MANIFEST")).read()
        assert 'model_name: "%s"' % name in manifest
        assert "featurizer_version: 1" in manifest
        digest = hashlib.sha256(open(os.path.join(art, "model.pt"), "rb").read()).hexdigest()
        assert digest in manifest
    # Training beats chance by far: 50 test queries among 300 listings, chance R@100 ≈ 0.33.
    manifest = open(os.path.join(data, "models", "query_tower", "1", "MANIFEST")).read()
    recall = float(manifest.split('key: "test_recall_at_100" value: ')[1].split()[0])
    assert recall > 0.8, recall
    # A second run publishes version 2 and leaves version 1 untouched.
    assert train_two_tower.main(["--data_dir", data, "--epochs", "1", "--dim", "16",
                                 "--emb_dim", "16"]) == 0
    assert os.path.isdir(os.path.join(data, "models", "query_tower", "2"))
    assert open(os.path.join(data, "models", "query_tower", "1", "MANIFEST")).read() == manifest


def test_torchscript_matches_eager(tmp_path):
    from two_tower import ListingTower, QueryTower
    torch.manual_seed(0)
    qt = QueryTower(100, 8, 4).eval()
    lt = ListingTower(100, 8, 4, 8, 8).eval()
    tok = torch.tensor([1, 2, 3, 4, 5])
    off = torch.tensor([0, 2])
    path = str(tmp_path / "q.pt")
    torch.jit.script(qt).save(path)
    loaded = torch.jit.load(path)
    assert torch.allclose(loaded(tok, off), qt(tok, off), atol=1e-6)
    cat = torch.tensor([1, 2])
    dense = torch.rand(2, 8)
    out = torch.jit.script(lt)(tok, off, cat, dense)
    assert out.shape == (2, 4)
    assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)
