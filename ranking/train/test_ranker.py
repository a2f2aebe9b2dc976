"""Tests for the deep ranker and its trainer: the NDCG used for early stopping (same definition
as experiments/metrics.h), the listwise loss, FLOP counting, baked-in standardisation,
learning on a small synthetic problem, and the exported TorchScript artifact (manifest,
checksums, parity fixtures, TorchScript == eager)."""
import hashlib
import math
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_ranker  # noqa: E402
from ranker_model import RankerModel, flops_per_candidate  # noqa: E402
from train_ranker import GAINS, Split, listwise_softmax_loss, lambdarank_loss, ndcg_at_10  # noqa: E402


def test_ndcg_matches_hand_computed_case_with_full_judged_ideal():
    # One query; its judged set holds 2 Exact (one of them NOT among the candidates) and 1
    # Substitute. Candidates: [S, unjudged, E]; scores put E first.
    labels = np.array([2, 0, 3])
    idcg = 1.0 + 1.0 / math.log2(3) + 0.1 / math.log2(4)  # E, E, S over the whole judged set
    sp = Split.synthetic(np.zeros((3, 2)), np.array([0, 3]), labels, np.array([idcg]))
    scores = np.array([0.5, 0.1, 0.9])
    dcg = 1.0 + 0.1 / math.log2(3)
    assert abs(ndcg_at_10(scores, sp) - dcg / idcg) < 1e-12
    # Ties keep the stored order (stable), like the C++ bench.
    assert abs(ndcg_at_10(np.zeros(3), sp) - (0.1 + 1.0 / math.log2(4)) / idcg) < 1e-12


def test_ndcg_counts_empty_and_zero_gain_queries_as_zero():
    sp = Split.synthetic(np.zeros((2, 1)), np.array([0, 2, 2, 3]), np.array([3, 0, 0]),
                         np.array([1.0, 1.0, 0.0]))
    # q0 perfect (1.0), q1 has no candidates (0), q2 has no positive judgment (0).
    assert abs(ndcg_at_10(np.array([1.0, 0.0, 0.0]), sp) - 1.0 / 3) < 1e-12


def test_only_top_10_count():
    labels = np.array([0] * 10 + [3])
    sp = Split.synthetic(np.zeros((11, 1)), np.array([0, 11]), labels, np.array([1.0]))
    assert ndcg_at_10(-np.arange(11.0), sp) == 0.0


def test_listwise_softmax_loss_prefers_gain_order_and_skips_no_gain_queries():
    gain = torch.tensor([[1.0, 0.1, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    good = torch.tensor([[3.0, 1.0, -2.0], [0.0, 5.0, 0.0]])
    bad = torch.tensor([[-2.0, 1.0, 3.0], [0.0, -5.0, 0.0]])
    lg, lb = listwise_softmax_loss(good, gain, mask), listwise_softmax_loss(bad, gain, mask)
    assert float(lg) < float(lb)
    # The second query has no gain: changing its scores changes nothing.
    other = good.clone()
    other[1] = torch.tensor([9.0, -9.0, 4.0])
    assert abs(float(listwise_softmax_loss(other, gain, mask)) - float(lg)) < 1e-9
    # A padded row (mask False) never gets probability mass.
    pad = good.clone()
    pad[0, 2] = 100.0
    mask2 = mask.clone()
    mask2[0, 2] = False
    gain2 = gain.clone()
    gain2[0, 2] = 0
    ref = listwise_softmax_loss(good[:, :2], gain2[:, :2], mask2[:, :2])
    assert abs(float(listwise_softmax_loss(pad, gain2, mask2)) - float(ref)) < 1e-6


def test_lambdarank_loss_is_zero_for_no_pairs_and_positive_for_misordered():
    mask = torch.ones(1, 3, dtype=torch.bool)
    gain = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    idcg = torch.tensor([1.0], dtype=torch.float64)
    mis = torch.tensor([[-1.0, 2.0, 1.0]], requires_grad=True)
    loss = lambdarank_loss(mis, gain, mask, idcg)
    loss.backward()
    assert float(loss) > 0
    assert float(mis.grad[0, 0]) < 0  # gradient descent raises the Exact listing's score
    flat = torch.zeros(1, 3, dtype=torch.float64)
    assert float(lambdarank_loss(torch.zeros(1, 3), flat, mask, idcg)) == 0.0


def test_flops_per_candidate_hand_count():
    m = RankerModel(10, cross_layers=1, hidden=[4])
    # standardise 3*10; cross 2*10*10 + 10 + 2*10; hidden 2*10*4 + 4 + 4; out 2*4 + 1
    assert flops_per_candidate(m) == 30 + 230 + 88 + 9


def test_standardization_is_baked_in_and_constant_columns_are_ignored():
    torch.manual_seed(0)
    m = RankerModel(3, cross_layers=1, hidden=[8])
    x = torch.tensor([[1.0, 5.0, 7.0], [3.0, 5.0, 9.0], [5.0, 5.0, 11.0]])
    m.set_standardization(x)
    assert torch.allclose(m.mean, torch.tensor([3.0, 5.0, 9.0]))
    assert float(m.inv_std[1]) == 0.0  # constant column
    m.eval()
    a = m(torch.tensor([[1.0, 5.0, 7.0]]))
    b = m(torch.tensor([[1.0, 1e6, 7.0]]))  # the constant column cannot move the score
    assert torch.allclose(a, b)


def synthetic_split(name, groups, dim=12, size=30, seed=0):
    """Label depends on an interaction (x0 * x1) and x2, which a linear order of any single
    column cannot recover; the stored 'fused' order is random."""
    rng = np.random.default_rng(seed)
    feats, labels, offs, idcg = [], [], [0], []
    for _ in range(groups):
        x = rng.normal(size=(size, dim)).astype(np.float32)
        u = x[:, 0] * x[:, 1] + 0.5 * x[:, 2]
        lab = np.zeros(size, dtype=np.int64)
        order = np.argsort(-u)
        lab[order[:3]] = 3
        lab[order[3:8]] = 2
        lab[order[8:12]] = 1
        feats.append(x)
        labels.append(lab)
        offs.append(offs[-1] + size)
        g = np.sort(GAINS[lab])[::-1][:10]
        idcg.append(float(np.sum(g / np.log2(np.arange(2, 2 + len(g))))))
    return Split.synthetic(np.concatenate(feats), np.array(offs), np.concatenate(labels),
                           np.array(idcg), name=name)


def write_training_dir(d, dim=12):
    os.makedirs(d, exist_ok=True)
    for i, (name, groups) in enumerate([("train", 300), ("valid", 60), ("test", 60)]):
        sp = synthetic_split(name, groups, dim=dim, seed=i)
        np.save(os.path.join(d, name + "_features.npy"), sp.features)
        np.save(os.path.join(d, name + "_offsets.npy"), sp.offsets)
        np.save(os.path.join(d, name + "_labels.npy"), sp.labels)
        np.save(os.path.join(d, name + "_clicks.npy"), -np.ones(len(sp.labels), dtype=np.int64))
        np.save(os.path.join(d, name + "_idcg.npy"), sp.idcg.astype(np.float32))
        np.save(os.path.join(d, name + "_query_ids.npy"), np.arange(1, groups + 1, dtype=np.uint64) + 1000 * i)
        np.save(os.path.join(d, name + "_listing_ids.npy"), np.arange(1, len(sp.labels) + 1, dtype=np.uint64))
    with open(os.path.join(d, "meta.txt"), "w") as f:
        f.write("ranking_feature_version=1\nfeature_dim=%d\nfeaturizer_version=2\nembedding_dim=64\n"
                "index_version=1\nlisting_tower_version=1\n" % dim)


def test_learns_a_nonlinear_synthetic_problem():
    tr, va = synthetic_split("train", 300, seed=0), synthetic_split("valid", 60, seed=1)
    args = train_ranker.parse_args(["--epochs", "12", "--patience", "12", "--batch", "16",
                                    "--hidden", "32,16", "--lr", "3e-3"])
    model, best, history = train_ranker.train(tr, va, args, log=lambda *a: None)
    random_order = ndcg_at_10(train_ranker.fused_order_scores(va), va)
    linear_best = max(ndcg_at_10(va.features[:, c], va) for c in range(3))
    assert best > random_order + 0.3, (best, random_order)
    assert best > linear_best + 0.15, (best, linear_best)
    assert best == max(history)


def test_lambdarank_also_learns():
    tr, va = synthetic_split("train", 200, seed=0), synthetic_split("valid", 60, seed=1)
    args = train_ranker.parse_args(["--epochs", "8", "--patience", "8", "--batch", "16",
                                    "--hidden", "32,16", "--lr", "3e-3", "--loss", "lambdarank"])
    _, best, _ = train_ranker.train(tr, va, args, log=lambda *a: None)
    assert best > ndcg_at_10(train_ranker.fused_order_scores(va), va) + 0.25


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_trains_and_exports_verifiable_artifact(tmp_path, capsys):
    data = str(tmp_path / "data")
    write_training_dir(os.path.join(data, "ranking_training"))
    summary = str(tmp_path / "summary.json")
    assert train_ranker.main(["--data_dir", data, "--epochs", "4", "--hidden", "32,16",
                              "--summary_json", summary]) == 0
    out = capsys.readouterr().out
    assert "train_ranker summary" in out
    art = os.path.join(data, "models", "ranker", "1")
    manifest = open(os.path.join(art, "MANIFEST")).read()
    assert 'model_name: "ranker"' in manifest
    assert 'inputs { name: "features" dtype: "float32" shape: -1 shape: 12 }' in manifest
    assert "featurizer_version: 2" in manifest
    for key in ("valid_ndcg10", "test_ndcg10", "valid_ndcg10_hybrid", "mflops_per_candidate",
                "ranking_feature_version", "listing_tower_version"):
        assert 'key: "%s"' % key in manifest, key
    # Every listed file exists with the recorded checksum; model.pt is among them.
    files = re.findall(r'files \{ name: "([^"]+)" sha256: "([0-9a-f]+)" bytes: (\d+) \}', manifest)
    names = {f for f, _, _ in files}
    assert {"model.pt", "parity_features.npy", "parity_scores.npy", "parity_offsets.npy",
            "parity_query_ids.npy", "parity_listing_ids.npy", "calibration_scores.npy",
            "calibration_probabilities.npy"} <= names
    assert 'key: "no_match_threshold"' in manifest
    knots = np.load(os.path.join(art, "calibration_scores.npy"))
    probs = np.load(os.path.join(art, "calibration_probabilities.npy"))
    assert knots.dtype == np.float32 and probs.dtype == np.float32 and len(knots) == len(probs)
    assert np.all(np.diff(knots) > 0) and np.all(np.diff(probs) >= 0)
    for name, digest, size in files:
        p = os.path.join(art, name)
        assert sha256(p) == digest and os.path.getsize(p) == int(size)
    # TorchScript (what C++ loads) reproduces the eager parity scores; groups are whole queries.
    scripted = torch.jit.load(os.path.join(art, "model.pt"))
    x = np.load(os.path.join(art, "parity_features.npy"))
    want = np.load(os.path.join(art, "parity_scores.npy"))
    offs = np.load(os.path.join(art, "parity_offsets.npy"))
    assert x.shape[1] == 12 and len(want) == len(x) and offs[-1] == len(x) and len(x) >= 300
    with torch.no_grad():
        got = scripted(torch.from_numpy(x))[:, 0].numpy()
    assert np.abs(got - want).max() <= 1e-5
    # Raw features in: standardisation lives inside the model.
    assert "mean" in dict(scripted.named_buffers())
    # A second run publishes version 2 and leaves version 1 untouched.
    before = {n: sha256(os.path.join(art, n)) for n in os.listdir(art)}
    assert train_ranker.main(["--data_dir", data, "--epochs", "1", "--hidden", "8"]) == 0
    assert os.path.isdir(os.path.join(data, "models", "ranker", "2"))
    assert before == {n: sha256(os.path.join(art, n)) for n in os.listdir(art)}
    assert not [e for e in os.listdir(os.path.join(data, "models", "ranker")) if e.startswith(".tmp")]


def test_isotonic_knots_pool_violators_and_merge_equal_scores():
    x = np.array([1.0, 2.0, 3.0, 4.0, 4.0, 5.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    kx, ky = train_ranker.isotonic_knots(x, y)
    # (2, 1) and (3, 0) violate: pooled to (2.5, 0.5); the two 4s pool first to (4, 0.5), an
    # equal mean, which is not a violation, so it stays a knot of its own.
    assert kx.tolist() == [1.0, 2.5, 4.0, 5.0]
    assert ky.tolist() == [0.0, 0.5, 0.5, 1.0]
    # Probability between knots is linear and flat beyond them, as the C++ map.
    p = train_ranker.calibrated((kx, ky), np.array([0.0, 1.75, 4.5, 9.0]))
    assert np.allclose(p, [0.0, 0.25, 0.75, 1.0])


def test_no_match_threshold_flags_at_most_the_share_of_valid_queries():
    # 200 queries of 3 rows; the first row of query g scores g / 10, and is Exact when g >= 20.
    n = 200
    scores = np.zeros(3 * n, dtype=np.float32)
    labels = np.zeros(3 * n, dtype=np.int64)
    for g in range(n):
        scores[3 * g] = g / 10.0
        scores[3 * g + 1:3 * g + 3] = -5.0
        labels[3 * g] = 3 if g >= 20 else 0
    split = Split.synthetic(np.zeros((3 * n, 1)), np.arange(0, 3 * n + 1, 3), labels, np.ones(n))
    for share in (0.01, 0.05):
        knots, threshold, m = train_ranker.fit_calibration(scores, split, 10, share)
        best = train_ranker.calibrated(knots, scores[0::3])
        assert np.mean(best < threshold) <= share
        assert m["no_match_fire_valid"] <= share
        assert m["calibration_ece_valid"] < 0.05


def test_refuses_metric_disagreement_with_cpp(tmp_path):
    data = str(tmp_path / "data")
    d = os.path.join(data, "ranking_training")
    write_training_dir(d)
    with open(os.path.join(d, "meta.txt"), "a") as f:
        f.write("ndcg10_hybrid_valid=0.999\n")
    try:
        train_ranker.main(["--data_dir", data, "--epochs", "1"])
    except SystemExit as e:
        assert "disagree" in str(e)
    else:
        raise AssertionError("expected SystemExit")


def test_product_block_bottleneck_and_drop_script_like_eager():
    torch.manual_seed(1)
    x = torch.randn(50, 20)
    for k in (0, 3):
        m = RankerModel(20, cross_layers=2, hidden=[8], product_begin=12, product_proj=k)
        m.set_standardization(torch.randn(100, 20))
        m.eval()
        assert m.width == 12 + k
        s = torch.jit.script(m)
        with torch.no_grad():
            assert torch.allclose(s(x), m(x), atol=1e-6)
            if k == 0:  # the block is ignored entirely
                y = x.clone()
                y[:, 12:] = 1e3
                assert torch.allclose(m(y), m(x))
    # standardise 3*20; projection 2*8*3; cross 2x (2*15*15 + 15 + 2*15); hidden 2*15*8 + 8 + 8; out 2*8 + 1
    m = RankerModel(20, cross_layers=2, hidden=[8], product_begin=12, product_proj=3)
    assert flops_per_candidate(m) == 60 + 48 + 2 * (450 + 15 + 30) + 256 + 17
