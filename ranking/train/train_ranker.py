#!/usr/bin/env python3
"""Trains the deep ranker on tensors written by `export_ranking_data` (the C++ serving path's
features of every query's hybrid candidates) and exports it (common/model_artifact.py): a
torch.export + AOTInductor package the server runs (format "aoti"), TorchScript beside it as
the fallback, fixtures and the manifest:

    <data_dir>/models/ranker/<v>/{model.pt2, model.pt, MANIFEST, parity_*.npy, load_check_*.npy,
                                  calibration_*.npy}

Model: ranker_model.RankerModel (DCN-V2 cross layers + MLP, standardisation baked in).
Loss: listwise softmax cross-entropy per query: the target distribution over the query's
candidates is proportional to their ESCI gains (Exact 1, Substitute 0.1, Complement 0.01,
Irrelevant/unjudged 0), i.e. the NDCG gains; queries without any positive gain among their
candidates carry no signal and are skipped. `--loss=lambdarank` uses pairwise logistic losses
weighted by |delta NDCG@10| instead.
Plus (--pointwise_weight, default 0.5) a logistic loss of each candidate being Exact, so that
scores mean the same across queries, not only within one.
Calibration: an isotonic map score -> P(Exact) fitted on each validation query's top 10 and
the "no good match" threshold (the best result's probability below which at most 1% of the
validation queries would be flagged) go into the artifact (calibration_scores.npy,
calibration_probabilities.npy, metric no_match_threshold; ranking/relevance_calibration.h).
Click log (train queries only): with --click_gain g > 0, a candidate that was shown and
clicked on the simulated results page gets g added to its target gain (see --help).
Early stopping on validation NDCG@10, computed exactly as experiments/metrics.h: linear ESCI
gains, log2(rank + 1) discount, ideal DCG over ALL judged listings of the query (from the
export's *_idcg.npy, so queries whose candidates miss Exact listings score < 1 even when
perfectly ordered), unjudged = 0, every query of the split counted.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The repo root (or the Bazel runfiles root), for common/versions.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from common import model_artifact, versions  # noqa: E402
from ranker_model import RankerModel, flops_per_candidate, num_parameters  # noqa: E402

GAINS = np.array([0.0, 0.01, 0.1, 1.0], dtype=np.float64)  # by grade I, C, S, E


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                try:
                    meta[k] = int(v)
                except ValueError:
                    try:
                        meta[k] = float(v)
                    except ValueError:
                        meta[k] = v  # e.g. fusion=rrf
    return meta


class Split:
    """One split's rows grouped by query, plus a padded [G, L, D] view for batching."""

    def __init__(self, d, name):
        def npy(suffix):
            return np.load(os.path.join(d, "%s_%s.npy" % (name, suffix)))

        self.name = name
        self.features = npy("features").astype(np.float32)
        self.offsets = npy("offsets").astype(np.int64)
        self.labels = npy("labels").astype(np.int64)
        self.clicks = npy("clicks").astype(np.int64)
        self.idcg = npy("idcg").astype(np.float64)
        self.query_ids = npy("query_ids")
        self.listing_ids = npy("listing_ids")
        self.num_groups = len(self.offsets) - 1
        sizes = np.diff(self.offsets)
        self.max_len = int(sizes.max()) if len(sizes) else 0

    @staticmethod
    def synthetic(features, offsets, labels, idcg, clicks=None, name="synthetic"):
        s = Split.__new__(Split)
        s.name = name
        s.features = features.astype(np.float32)
        s.offsets = offsets.astype(np.int64)
        s.labels = labels.astype(np.int64)
        s.clicks = clicks if clicks is not None else -np.ones(len(labels), dtype=np.int64)
        s.idcg = idcg.astype(np.float64)
        s.query_ids = np.arange(len(offsets) - 1, dtype=np.uint64)
        s.listing_ids = np.arange(len(labels), dtype=np.uint64)
        s.num_groups = len(offsets) - 1
        sizes = np.diff(s.offsets)
        s.max_len = int(sizes.max()) if len(sizes) else 0
        return s

    def exact_padded(self, groups, L):
        """[B, L] float: 1 where the row is an Exact listing of its query (padding 0)."""
        out = np.zeros((len(groups), L), dtype=np.float32)
        for i, g in enumerate(groups):
            a, b = self.offsets[g], self.offsets[g + 1]
            out[i, :b - a] = self.labels[a:b] == 3
        return torch.from_numpy(out)

    def padded(self, groups, click_gain=0.0):
        """x [B, L, D], target gains [B, L], mask [B, L] (True = real row)."""
        lens = [int(self.offsets[g + 1] - self.offsets[g]) for g in groups]
        L = max(max(lens), 1)
        D = self.features.shape[1]
        x = np.zeros((len(groups), L, D), dtype=np.float32)
        gain = np.zeros((len(groups), L), dtype=np.float64)
        mask = np.zeros((len(groups), L), dtype=bool)
        for i, g in enumerate(groups):
            a, b = self.offsets[g], self.offsets[g + 1]
            n = b - a
            x[i, :n] = self.features[a:b]
            gain[i, :n] = GAINS[self.labels[a:b]]
            if click_gain > 0:
                gain[i, :n] += click_gain * (self.clicks[a:b] == 1)
            mask[i, :n] = True
        return torch.from_numpy(x), torch.from_numpy(gain), torch.from_numpy(mask)


def ndcg_at_10(scores, split, groups=None):
    """Mean NDCG@10 over the split's groups, ordering each group by score descending (ties
    keep the stored fused order, like a stable sort in C++)."""
    groups = range(split.num_groups) if groups is None else groups
    discount = 1.0 / np.log2(np.arange(2, 12))
    total = 0.0
    n = 0
    for g in groups:
        a, b = split.offsets[g], split.offsets[g + 1]
        n += 1
        if split.idcg[g] <= 0 or b == a:
            continue
        order = np.argsort(-scores[a:b], kind="stable")[:10]
        dcg = float(np.sum(GAINS[split.labels[a:b][order]] * discount[:len(order)]))
        total += dcg / split.idcg[g]
    return total / max(n, 1)


def fused_order_scores(split):
    """Scores that reproduce the stored (fused) order: -position within the group."""
    s = np.zeros(len(split.labels), dtype=np.float64)
    for g in range(split.num_groups):
        a, b = split.offsets[g], split.offsets[g + 1]
        s[a:b] = -np.arange(b - a)
    return s


def score_split(model, split, batch_rows=65536):
    model.eval()
    out = np.empty(len(split.labels), dtype=np.float32)
    with torch.no_grad():
        for i in range(0, len(out), batch_rows):
            out[i:i + batch_rows] = model(torch.from_numpy(split.features[i:i + batch_rows]))[:, 0].numpy()
    return out


def listwise_softmax_loss(scores, gain, mask):
    """Cross-entropy between softmax(scores) and gain-proportional targets, per query; queries
    without positive gain are skipped. scores/gain/mask: [B, L]."""
    s = scores.masked_fill(~mask, -1e9)
    logp = torch.log_softmax(s, dim=1)
    total = gain.sum(1, keepdim=True)
    keep = total[:, 0] > 0
    if not bool(keep.any()):
        return scores.sum() * 0.0
    target = (gain / total.clamp(min=1e-12)).to(scores.dtype)
    loss = -(target * logp.masked_fill(~mask, 0.0)).sum(1)
    return loss[keep].mean()


def lambdarank_loss(scores, gain, mask, idcg, k=10):
    """Pairwise logistic loss over pairs with different gains, weighted by |delta NDCG@k| of
    swapping them in the current order (LambdaRank, Burges 2010)."""
    B, L = scores.shape
    s = scores.masked_fill(~mask, -1e9)
    with torch.no_grad():
        order = torch.argsort(s, dim=1, descending=True)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(L).expand(B, L))
        disc = torch.where(rank < k, 1.0 / torch.log2(rank.double() + 2.0), torch.zeros_like(rank, dtype=torch.float64))
        g = gain
        delta = (g[:, :, None] - g[:, None, :]).abs() * (disc[:, :, None] - disc[:, None, :]).abs()
        delta = delta / idcg.clamp(min=1e-12)[:, None, None]
        pair = (g[:, :, None] > g[:, None, :]) & mask[:, :, None] & mask[:, None, :]
        w = (delta * pair).to(scores.dtype)
    diff = scores[:, :, None] - scores[:, None, :]
    loss = torch.nn.functional.softplus(-diff) * w
    denom = pair.sum().clamp(min=1)
    return loss.sum() / denom * 100.0


def train(train_split, valid_split, args, log=print):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    D = train_split.features.shape[1]
    model = RankerModel(D, cross_layers=args.cross_layers, hidden=args.hidden, dropout=args.dropout,
                        product_begin=getattr(train_split, "product_begin", -1),
                        product_proj=args.product_proj)
    model.set_standardization(torch.from_numpy(train_split.features))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    # Groups with some positive gain carry the listwise signal; with the pointwise term, every
    # group with candidates does (one whose candidates hold no Exact listing is exactly the
    # page "no good match" is for).
    useful = [g for g in range(train_split.num_groups)
              if (args.pointwise_weight > 0 and train_split.offsets[g + 1] > train_split.offsets[g]) or
              GAINS[train_split.labels[train_split.offsets[g]:train_split.offsets[g + 1]]].sum() > 0]
    best, best_state, bad, history = -1.0, None, 0, []
    batches = (len(useful) + args.batch - 1) // args.batch
    evals = max(1, args.evals_per_epoch)
    eval_at = set(int(round(batches * (i + 1) / evals)) for i in range(evals))
    t0 = time.time()
    stop = False
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(useful)
        total, steps = 0.0, 0
        for bi, b in enumerate(range(0, len(order), args.batch), start=1):
            model.train()
            groups = order[b:b + args.batch]
            x, gain, mask = train_split.padded(groups, click_gain=args.click_gain)
            B, L, _ = x.shape
            scores = model(x.reshape(B * L, D)).reshape(B, L)
            if args.loss == "lambdarank":
                idcg = torch.from_numpy(train_split.idcg[groups])
                loss = lambdarank_loss(scores, gain, mask, idcg)
            else:
                loss = listwise_softmax_loss(scores, gain, mask)
            if args.pointwise_weight > 0:
                # Listwise losses fix only the order within a query; this term gives the score
                # an absolute meaning (sigmoid(score) ~ P(Exact)), which the calibration and the
                # no-match threshold compare across queries.
                exact = train_split.exact_padded(groups, L)
                loss = loss + args.pointwise_weight * torch.nn.functional.binary_cross_entropy_with_logits(
                    scores[mask], exact[mask])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss)
            steps += 1
            if bi not in eval_at:
                continue
            valid = ndcg_at_10(score_split(model, valid_split), valid_split)
            history.append(valid)
            elapsed = time.time() - t0
            done = (epoch - 1) + bi / batches
            log("  epoch %5.2f/%d  loss %.4f  valid NDCG@10 %.4f  %.0fs (ETA %.0fs)" % (
                done, args.epochs, total / max(steps, 1), valid, elapsed,
                elapsed / done * (args.epochs - done)))
            sys.stdout.flush()
            if valid > best + 1e-4:
                best, bad = valid, 0
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                bad += 1
                if bad >= args.patience:
                    log("  early stop: no validation gain in %d evaluations" % args.patience)
                    stop = True
                    break
        if stop:
            break
    model.load_state_dict(best_state)
    model.eval()
    return model, best, history


def ranker_export(model, example_features):
    """What torch.export needs of the ranker: real feature rows (the load-check fixture too)
    and the dynamic dimension, the number of candidates."""
    from torch.export import Dim
    x = torch.as_tensor(example_features, dtype=torch.float32)
    return model, (x,), ({0: Dim("candidates", min=1, max=1 << 16)},)


def write_artifact(models_dir, scripted, feature_dim, featurizer_version, embedding_dim, metrics,
                   extra, name="ranker", version=None, aoti=None):
    """Writes <models_dir>/<name>/<version>/ (common/model_artifact.py: atomic, checksummed):
    model.pt (TorchScript), with `aoti` (ranker_export) also model.pt2 (format "aoti"), the
    `extra` .npy fixtures and the MANIFEST."""
    root = os.path.join(models_dir, name)
    version = version or versions.next_version(root)
    lines = [
        "featurizer_version: %d" % featurizer_version,
        "embedding_dim: %d" % embedding_dim,
        'device: "cpu"',
        'inputs { name: "features" dtype: "float32" shape: -1 shape: %d }' % feature_dim,
    ]
    for k, v in sorted(metrics.items()):
        lines.append('metrics { key: "%s" value: %.6f }' % (k, v))
    return model_artifact.write_artifact(models_dir, name, version, lines, scripted=scripted,
                                         aoti=aoti, extra=extra)


def parity_fixture(model, scripted, split, min_rows=300):
    """The eager model's scores of whole groups (the first non-empty valid queries until
    min_rows rows), for ranker_parity_check to reproduce in C++. Checks TorchScript == eager."""
    groups = []
    rows = 0
    for g in range(split.num_groups):
        n = int(split.offsets[g + 1] - split.offsets[g])
        if n == 0:
            continue
        groups.append(g)
        rows += n
        if rows >= min_rows:
            break
    feats, offs, lids = [], [0], []
    for g in groups:
        a, b = split.offsets[g], split.offsets[g + 1]
        feats.append(split.features[a:b])
        lids.append(split.listing_ids[a:b])
        offs.append(offs[-1] + (b - a))
    x = np.concatenate(feats) if feats else np.zeros((0, split.features.shape[1]), np.float32)
    with torch.no_grad():
        eager = model(torch.from_numpy(x)).numpy().astype(np.float32)
        script = scripted(torch.from_numpy(x)).numpy()
    diff = float(np.abs(eager - script).max()) if len(x) else 0.0
    return {
        "parity_query_ids.npy": split.query_ids[groups].astype(np.uint64),
        "parity_offsets.npy": np.array(offs, dtype=np.int64),
        "parity_listing_ids.npy": np.concatenate(lids).astype(np.uint64) if lids else np.zeros(0, np.uint64),
        "parity_features.npy": x.astype(np.float32),
        "parity_scores.npy": eager[:, 0].copy(),
    }, diff


def top_rows(scores, split, k):
    """Row indexes of each group's k best rows by score (ties keep the stored order), as
    [(group, rows)]; groups without rows are left out."""
    out = []
    for g in range(split.num_groups):
        a, b = split.offsets[g], split.offsets[g + 1]
        if b > a:
            out.append((g, a + np.argsort(-scores[a:b], kind="stable")[:k]))
    return out


def isotonic_knots(x, y):
    """Isotonic regression of y on x by pool-adjacent-violators: returns knots (block mean x,
    strictly increasing; block mean y, non-decreasing). Equal x values are pooled first so
    knots never share a score. Written here (20 lines) rather than adding scikit-learn to
    the environment for one function."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order].astype(np.float64), y[order].astype(np.float64)
    blocks = []  # [sum_x, sum_y, weight]
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[i]:
            j += 1
        blocks.append([xs[i] * (j - i + 1), ys[i:j + 1].sum(), float(j - i + 1)])
        while len(blocks) >= 2 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            for t in range(3):
                blocks[-1][t] += last[t]
        i = j + 1
    kx = np.array([b[0] / b[2] for b in blocks], dtype=np.float32)
    ky = np.array([b[1] / b[2] for b in blocks], dtype=np.float32)
    # float32 may merge centroids that differed in float64: keep the last of equal scores.
    keep = np.append(kx[1:] > kx[:-1], True)
    return kx[keep], np.maximum.accumulate(ky[keep])


def calibrated(knots, scores):
    """The C++ RelevanceCalibration::Probability (linear between knots, flat beyond)."""
    return np.interp(scores, knots[0], knots[1]).astype(np.float32)


def expected_calibration_error(prob, label, bins=10):
    """Equal-width bins over [0, 1]: sum over bins of share x |mean predicted - observed|."""
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(float(prob[m].mean()) - float(label[m].mean()))
    return ece


def fit_calibration(scores, split, top_k, fire_share):
    """P(Exact) of a result from its ranker score, fitted on each validation query's top_k
    results (the rows a buyer sees: the unjudged rows there are not Exact, since every Exact
    listing is judged), and the no-match threshold: the best result's probability below which
    at most fire_share of the validation queries (each of which has an Exact listing in the
    catalog) would be flagged."""
    tops = top_rows(scores, split, top_k)
    rows = np.concatenate([r for _, r in tops]) if tops else np.zeros(0, np.int64)
    if len(rows) == 0:
        raise SystemExit("train_ranker: no validation candidates to calibrate on")
    exact = (split.labels[rows] == 3).astype(np.float64)
    knots = isotonic_knots(scores[rows], exact)
    prob = calibrated(knots, scores[rows])
    best = np.sort(np.array([calibrated(knots, scores[r[:1]])[0] for _, r in tops]))
    # Fire when best < threshold: at most floor(fire_share * n) validation queries lie below.
    threshold = float(best[int(np.floor(fire_share * len(best)))]) if len(best) else 0.0
    return knots, threshold, {
        "calibration_rows_valid": float(len(rows)),
        "calibration_ece_valid": expected_calibration_error(prob, exact),
        "calibration_knots": float(len(knots[0])),
        "no_match_threshold": threshold,
        "no_match_fire_valid": float(np.mean(best < threshold)) if len(best) else 0.0,
        "calibration_top_k": float(top_k),
    }


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data_dir", default="var")
    ap.add_argument("--training_dir", default="", help="default <data_dir>/ranking_training")
    ap.add_argument("--format", choices=["aoti", "torchscript"], default="aoti",
                    help="what the artifact serves: an AOTInductor package (model.pt2, exported "
                         "with torch.export) beside the TorchScript fallback (model.pt), or "
                         "TorchScript alone (no compile step: quick tests)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--patience", type=int, default=8, help="evaluations without validation gain")
    ap.add_argument("--evals_per_epoch", type=int, default=4, help="validation NDCG@10 evaluations per epoch")
    ap.add_argument("--batch", type=int, default=32, help="queries per step")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight_decay", type=float, default=1e-5)
    ap.add_argument("--cross_layers", type=int, default=2)
    ap.add_argument("--hidden", type=str, default="128,64", help="MLP sizes, comma-separated")
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--product_proj", type=int, default=8,
                    help="bottleneck width for the q (.) l feature block (-1 = none, 0 = drop it)")
    ap.add_argument("--loss", choices=["softmax", "lambdarank"], default="softmax")
    ap.add_argument("--click_gain", type=float, default=0.0,
                    help="added to the target gain of clicked (query, listing) pairs of the click "
                         "log; 0 = labels only")
    ap.add_argument("--pointwise_weight", type=float, default=0.5,
                    help="weight of a pointwise term (logistic loss of each candidate being Exact) "
                         "added to the listwise loss, so scores mean the same across queries; 0 = "
                         "listwise only")
    ap.add_argument("--calibration_top_k", type=int, default=10,
                    help="the calibration is fitted on each validation query's top k results")
    ap.add_argument("--no_match_fire_share", type=float, default=0.01,
                    help="the no-match threshold flags at most this share of validation queries")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--summary_json", default="", help="also write the summary as JSON here")
    args = ap.parse_args(argv)
    args.hidden = [int(h) for h in args.hidden.split(",") if h]
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    training_dir = args.training_dir or os.path.join(args.data_dir, "ranking_training")
    meta = read_meta(os.path.join(training_dir, "meta.txt"))
    splits = {s: Split(training_dir, s) for s in ("train", "valid", "test")}
    D = splits["train"].features.shape[1]
    for sp in splits.values():
        sp.product_begin = int(meta.get("product_begin", -1))
    if D != meta["feature_dim"]:
        raise SystemExit("train_ranker: features have %d columns, meta.txt says %d" % (D, meta["feature_dim"]))
    print("train_ranker: %d/%d/%d train/valid/test queries, %d/%d/%d rows, %d features (v%d), "
          "listing tower v%d" % (
              splits["train"].num_groups, splits["valid"].num_groups, splits["test"].num_groups,
              len(splits["train"].labels), len(splits["valid"].labels), len(splits["test"].labels),
              D, meta["ranking_feature_version"], meta["listing_tower_version"]), flush=True)

    # Baselines, and a check that this NDCG is the C++ one (experiments/metrics.h).
    base = {}
    for s, sp in splits.items():
        base[s] = ndcg_at_10(fused_order_scores(sp), sp)
        cpp = meta.get("ndcg10_hybrid_%s" % s)
        if cpp is not None and abs(cpp - base[s]) > 1e-4:
            raise SystemExit("train_ranker: NDCG@10 of the fused order on %s is %.6f here but %.6f "
                             "in C++ (meta.txt): the metric implementations disagree" % (s, base[s], cpp))
    print("  hybrid (fused) order NDCG@10: valid %.4f  test %.4f  (oracle on these candidates: "
          "valid %.4f)" % (base["valid"], base["test"], meta.get("ndcg10_oracle_valid", float("nan"))),
          flush=True)

    t0 = time.time()
    model, best_valid, history = train(splits["train"], splits["valid"], args)
    train_s = time.time() - t0
    test = ndcg_at_10(score_split(model, splits["test"]), splits["test"])
    scripted = torch.jit.script(model)
    extra, parity_diff = parity_fixture(model, scripted, splits["valid"])
    if parity_diff > 1e-5:
        raise SystemExit("train_ranker: TorchScript differs from eager by %.3g" % parity_diff)

    valid_scores = score_split(model, splits["valid"])
    knots, threshold, calib = fit_calibration(valid_scores, splits["valid"], args.calibration_top_k,
                                              args.no_match_fire_share)
    extra["calibration_scores.npy"] = knots[0]
    extra["calibration_probabilities.npy"] = knots[1]
    test_scores = score_split(model, splits["test"])
    test_tops = top_rows(test_scores, splits["test"], args.calibration_top_k)
    if test_tops:
        rows = np.concatenate([r for _, r in test_tops])
        calib["calibration_ece_test"] = expected_calibration_error(
            calibrated(knots, test_scores[rows]), (splits["test"].labels[rows] == 3).astype(np.float64))

    flops = flops_per_candidate(model)
    metrics = {
        "valid_ndcg10": best_valid,
        "test_ndcg10": test,
        "valid_ndcg10_hybrid": base["valid"],
        "test_ndcg10_hybrid": base["test"],
        "valid_ndcg10_oracle": float(meta.get("ndcg10_oracle_valid", 0.0)),
        "ranking_feature_version": float(meta["ranking_feature_version"]),
        "listing_tower_version": float(meta["listing_tower_version"]),
        "index_version": float(meta["index_version"]),
        "mflops_per_candidate": flops / 1e6,
        "parameters": float(num_parameters(model)),
        "evaluations": float(len(history)),
        "click_gain": args.click_gain,
    }
    metrics.update(calib)
    aoti = ranker_export(model, extra["parity_features.npy"][:64]) if args.format == "aoti" else None
    path = write_artifact(os.path.join(args.data_dir, "models"), scripted, D, meta["featurizer_version"],
                          int(meta.get("embedding_dim", 64)), metrics, extra, aoti=aoti)
    summary = {
        "artifact": path,
        "valid_ndcg10_ranked": best_valid,
        "valid_ndcg10_hybrid": base["valid"],
        "test_ndcg10_ranked": test,
        "test_ndcg10_hybrid": base["test"],
        "mflops_per_candidate": flops / 1e6,
        "evaluations": len(history),
    }
    print("train_ranker summary")
    print("  model                DCN-V2: %d features (q.l block %s) -> %d cross layers (full rank, %d "
          "wide) + MLP %s, %d parameters" % (
              D, "dropped" if model.project and model.proj_dim == 0 else
              ("projected to %d" % model.proj_dim if model.project else "kept"),
              args.cross_layers, model.width, "-".join(str(h) for h in args.hidden), num_parameters(model)))
    print("  loss                 %s%s%s" % (
        args.loss, " + clicks (gain %.3g)" % args.click_gain if args.click_gain > 0 else "",
        " + %.3g x pointwise logistic (Exact)" % args.pointwise_weight if args.pointwise_weight > 0 else ""))
    print("  evaluations          %d, %d per epoch (best valid NDCG@10 %.4f)" % (
        len(history), args.evals_per_epoch, best_valid))
    print("  NDCG@10 valid        hybrid %.4f -> ranked %.4f (%+.4f)" % (
        base["valid"], best_valid, best_valid - base["valid"]))
    print("  NDCG@10 test         hybrid %.4f -> ranked %.4f (%+.4f)" % (
        base["test"], test, test - base["test"]))
    print("  FLOPs per candidate  %.3f MFLOP" % (flops / 1e6))
    print("  TorchScript vs eager max |diff| %.3g on %d parity rows" % (
        parity_diff, len(extra["parity_scores.npy"])))
    print("  calibration          P(Exact) isotonic on %d valid top-%d rows, %d knots; ECE valid %.4f, "
          "test %.4f" % (calib["calibration_rows_valid"], args.calibration_top_k, calib["calibration_knots"],
                         calib["calibration_ece_valid"], calib.get("calibration_ece_test", float("nan"))))
    print("  no-match threshold   best result P(Exact) < %.4f (flags %.1f%% of valid queries)" % (
        threshold, 100 * calib["no_match_fire_valid"]))
    print("  training time        %.1f s" % train_s)
    print("  artifact             %s" % path)
    if args.summary_json:
        with open(args.summary_json, "w") as f:
            json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    model_artifact.run_main("train_ranker", main)  # an I/O error: one line naming the step and file
