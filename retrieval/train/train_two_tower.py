#!/usr/bin/env python3
"""Trains the two-tower retriever on tensors written by `export_training` and exports both
towers (common/model_artifact.py): torch.export + AOTInductor packages that the server runs
(model.pt2, format "aoti"), TorchScript beside them as the fallback, fixtures and manifests:

    <data_dir>/models/query_tower/<v>/{model.pt2,model.pt,*.npy,MANIFEST}
    <data_dir>/models/listing_tower/<v>/{model.pt2,model.pt,*.npy,MANIFEST}

Loss: in-batch softmax over (query, Exact listing) pairs with a learned temperature, plus
one mined hard negative per query (a judged Substitute/Complement/Irrelevant listing that
the current model scores highest). Early stopping on validation Recall@100.
Typo augmentation (--typo_share): a share of each batch's train queries is read through its
typo'd copy from export_training (swapped, dropped or doubled letter), with the same positives.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The repo root (or the Bazel runfiles root), for common/versions.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from common import model_artifact, versions  # noqa: E402
from two_tower import ListingTower, QueryTower, bag_slice, text_bag  # noqa: E402

EXACT = 3


def load(training_dir):
    def npy(name):
        return np.load(os.path.join(training_dir, name + ".npy"))

    meta = {}
    with open(os.path.join(training_dir, "meta.txt")) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                meta[k] = int(v)
    data = {
        "meta": meta,
        "listing_tok": torch.from_numpy(npy("listing_tok")),
        "listing_off": torch.from_numpy(npy("listing_off")),
        "listing_cat": torch.from_numpy(npy("listing_cat")),
        "listing_dense": torch.from_numpy(npy("listing_dense")),
    }
    data["listing_ids"] = npy("listing_ids")
    for split in ("train", "valid", "test"):
        data["q_%s_ids" % split] = npy("q_%s_ids" % split)
        data["q_%s_tok" % split] = torch.from_numpy(npy("q_%s_tok" % split))
        data["q_%s_off" % split] = torch.from_numpy(npy("q_%s_off" % split))
        data["pairs_%s" % split] = torch.from_numpy(npy("pairs_%s" % split))
    # Typo'd copies of the train queries (export_training), stacked after the clean bags: row
    # r's copy is bag r + N of q_train_all.
    if os.path.exists(os.path.join(training_dir, "q_train_typo_tok.npy")):
        typo_tok = torch.from_numpy(npy("q_train_typo_tok"))
        typo_off = torch.from_numpy(npy("q_train_typo_off"))
        clean_tok, clean_off = data["q_train_tok"], data["q_train_off"]
        data["q_train_all_tok"] = torch.cat([clean_tok, typo_tok])
        data["q_train_all_off"] = torch.cat([clean_off, typo_off[1:] + clean_off[-1]])
    return data


def encode_listings(tower, d, rows=None, batch=4096):
    n = d["listing_cat"].shape[0]
    rows = torch.arange(n) if rows is None else rows
    out = []
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            r = rows[i:i + batch]
            tok, off = bag_slice(d["listing_tok"], d["listing_off"], r)
            out.append(tower(tok, off, d["listing_cat"][r], d["listing_dense"][r]))
    return torch.cat(out)


def encode_queries(tower, tok, off_full, rows, batch=4096):
    out = []
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            t, o = bag_slice(tok, off_full, rows[i:i + batch])
            out.append(tower(t, o))
    return torch.cat(out)


def exact_sets(pairs):
    sets = {}
    for q, l, g in pairs.tolist():
        if g == EXACT:
            sets.setdefault(q, set()).add(l)
    return sets


def recall_at_k(qt, lt, d, split, k=100, listing_emb=None):
    """Capped Recall@k of Exact listings: hits / min(|Exact|, k), averaged over queries."""
    exact = exact_sets(d["pairs_" + split])
    if not exact:
        return 0.0
    if listing_emb is None:
        listing_emb = encode_listings(lt, d)
    qrows = torch.tensor(sorted(exact), dtype=torch.long)
    q_emb = encode_queries(qt, d["q_%s_tok" % split], d["q_%s_off" % split], qrows)
    top = torch.topk(q_emb @ listing_emb.T, k=min(k, listing_emb.shape[0]), dim=1).indices
    total = 0.0
    for i, q in enumerate(qrows.tolist()):
        hits = len(exact[q].intersection(top[i].tolist()))
        total += hits / min(len(exact[q]), k)
    return total / len(qrows)


def next_version(models_dir):
    """The version both towers are written as: the next one free under each of them."""
    return max(versions.next_version(os.path.join(models_dir, name))
               for name in ("query_tower", "listing_tower"))


def tower_manifest(meta, dim, inputs, metrics):
    """The tower's ModelManifest fields (common/model_artifact.py writes the rest)."""
    lines = [
        "featurizer_version: %d" % meta["featurizer_version"],
        "embedding_dim: %d" % dim,
        'device: "cpu"',
        "dense_dim: %d" % meta["dense_dim"],
    ]
    for iname, dtype, shape in inputs:
        lines.append('inputs { name: "%s" dtype: "%s" %s }' % (
            iname, dtype, " ".join("shape: %d" % s for s in shape)))
    for k, v in sorted(metrics.items()):
        lines.append('metrics { key: "%s" value: %.6f }' % (k, v))
    return lines


def tower_exports(qt, lt, d, n=8):
    """What torch.export needs of each tower: real inputs of n validation queries / listings
    (also the artifact's load-check fixture) and their dynamic dimensions: the batch (bags) and,
    independently, the number of n-gram ids; 0 ids is a legal input (a bag of nothing)."""
    from torch.export import Dim
    rows = torch.arange(min(n, len(d["q_valid_ids"])))
    q_tok, q_off = bag_slice(d["q_valid_tok"], d["q_valid_off"], rows)
    lrows = torch.arange(min(n, d["listing_cat"].shape[0]))
    l_tok, l_off = bag_slice(d["listing_tok"], d["listing_off"], lrows)
    bags, q_ids, l_ids = Dim("bags", min=1, max=1 << 20), Dim("q_ids", min=0), Dim("l_ids", min=0)
    query = (qt, (q_tok, q_off), ({0: q_ids}, {0: bags}))
    listing = (lt, (l_tok, l_off, d["listing_cat"][lrows], d["listing_dense"][lrows]),
               ({0: l_ids}, {0: bags}, {0: bags}, {0: bags}))
    return query, listing


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data_dir", default="var")
    ap.add_argument("--training_dir", default="", help="default <data_dir>/training")
    ap.add_argument("--dim", type=int, default=64, help="embedding size")
    ap.add_argument("--emb_dim", type=int, default=64, help="n-gram embedding size")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--patience", type=int, default=4, help="epochs without validation gain")
    ap.add_argument("--hard_negatives", type=int, default=1, help="per query; 0 disables mining")
    ap.add_argument("--click_positives", type=int, default=1,
                    help="1: clicked listings of the click log are positives too")
    ap.add_argument("--positives_per_query", type=int, default=8,
                    help="Exact listings sampled per query per epoch (without replacement)")
    ap.add_argument("--typo_share", type=float, default=0.15,
                    help="share of each batch's train queries read through their typo'd copy "
                         "(swap / deletion / doubling, export_training); 0 = clean queries only")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--format", choices=["aoti", "torchscript"], default="aoti",
                    help="what the artifacts serve: an AOTInductor package (model.pt2, exported "
                         "with torch.export) beside the TorchScript fallback (model.pt), or "
                         "TorchScript alone (no compile step: quick tests)")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    training_dir = args.training_dir or os.path.join(args.data_dir, "training")
    d = load(training_dir)
    meta = d["meta"]
    vocab, cats, dense_dim = meta["text_vocab"], meta["category_buckets"], meta["dense_dim"]
    print("train_two_tower: %d listings, %d/%d/%d train/valid/test queries, featurizer v%d" % (
        meta["listings"], meta["queries_train"], meta["queries_valid"], meta["queries_test"],
        meta["featurizer_version"]), flush=True)

    text = text_bag(vocab, args.emb_dim)
    qt = QueryTower(vocab, args.emb_dim, args.dim, text)
    lt = ListingTower(vocab, args.emb_dim, args.dim, cats, dense_dim, text)
    log_temp = torch.nn.Parameter(torch.tensor(np.log(0.05), dtype=torch.float32))
    params = {id(p): p for p in list(qt.parameters()) + list(lt.parameters())}  # shared table once
    dense_params = [p for p in params.values() if p is not text.weight]
    opts = [torch.optim.SparseAdam([text.weight], lr=args.lr),
            torch.optim.Adam(dense_params + [log_temp], lr=args.lr)]

    pairs = d["pairs_train"]
    exact = exact_sets(pairs)
    others = {}
    for q, l, g in pairs.tolist():
        if g != EXACT:
            others.setdefault(q, []).append(l)
    # The click log: a clicked listing is a positive for its query unless the judgments say
    # it is Irrelevant (a position-biased click is weaker evidence than a judgment).
    n_click_pos = 0
    clicks_path = os.path.join(training_dir, "clicks_train.npy")
    if args.click_positives and os.path.exists(clicks_path):
        judged = {(q, l): g for q, l, g in pairs.tolist()}
        for q, l, _, clicked in np.load(clicks_path).tolist():
            if clicked and judged.get((q, l), 3) != 0 and l not in exact.get(q, set()):
                exact.setdefault(q, set()).add(l)
                n_click_pos += 1
    others = {q: [l for l in v if l not in exact.get(q, set())] for q, v in others.items()}
    others = {q: v for q, v in others.items() if v}
    others_t = {q: torch.tensor(v, dtype=torch.long) for q, v in others.items()}
    print("  positives: %d judged Exact pairs + %d from clicks" % (
        sum(len(v) for v in exact.values()) - n_click_pos, n_click_pos), flush=True)
    train_q = sorted(exact)
    exact_lists = {q: sorted(s) for q, s in exact.items()}
    n_listings = meta["listings"]
    exact_keys = torch.tensor(sorted(q * n_listings + l for q, s in exact.items() for l in s),
                              dtype=torch.long)
    rng = np.random.default_rng(args.seed)

    best, best_state, bad_epochs = -1.0, None, 0
    history = []
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        qt.train()
        lt.train()
        # Each epoch visits every query with up to --positives_per_query of its Exact
        # listings, so the listing tower sees most of the catalog, not one listing a query.
        epoch_pairs = []
        for q in train_q:
            ex = exact_lists[q]
            take = min(len(ex), args.positives_per_query)
            for l in rng.choice(len(ex), size=take, replace=False):
                epoch_pairs.append((q, ex[int(l)]))
        order = rng.permutation(len(epoch_pairs))
        # Hard negatives: among each query's judged non-Exact listings, the one the current
        # model scores highest (computed once per epoch).
        hard = {}
        if args.hard_negatives > 0 and epoch > 1:
            qt.eval()
            lt.eval()
            cand_q = [q for q in train_q if q in others]
            if cand_q:
                q_emb = encode_queries(qt, d["q_train_tok"], d["q_train_off"], torch.tensor(cand_q))
                all_emb = encode_listings(lt, d)
                for i, q in enumerate(cand_q):
                    judged = others_t[q]
                    hard[q] = int(judged[int(torch.argmax(all_emb[judged] @ q_emb[i]))])
            qt.train()
            lt.train()
        total_loss, steps = 0.0, 0
        for b in range(0, len(order), args.batch):
            qs = [epoch_pairs[i][0] for i in order[b:b + args.batch]]
            pos = [epoch_pairs[i][1] for i in order[b:b + args.batch]]
            negs = sorted({hard[q] for q in qs if q in hard})
            cand = torch.tensor(pos + negs, dtype=torch.long)
            qrows = torch.tensor(qs, dtype=torch.long)
            if args.typo_share > 0 and "q_train_all_tok" in d:
                # Some queries as a buyer who mistyped one word would send them: the same
                # positives, so the tower learns to put the typo'd text where the clean one is.
                typo = torch.from_numpy(rng.random(len(qs)) < args.typo_share)
                bag_rows = qrows + typo.long() * len(d["q_train_ids"])
                qtok, qoff = bag_slice(d["q_train_all_tok"], d["q_train_all_off"], bag_rows)
            else:
                qtok, qoff = bag_slice(d["q_train_tok"], d["q_train_off"], qrows)
            ltok, loff = bag_slice(d["listing_tok"], d["listing_off"], cand)
            q_emb = qt(qtok, qoff)
            l_emb = lt(ltok, loff, d["listing_cat"][cand], d["listing_dense"][cand])
            logits = (q_emb @ l_emb.T) / torch.exp(log_temp).clamp(min=0.01)
            # Another query's positive that is also Exact for this query is not a negative.
            keys = qrows[:, None] * n_listings + cand[None, :]
            # exact_keys is sorted: a binary search is much faster than torch.isin here.
            pos_in = torch.searchsorted(exact_keys, keys).clamp(max=len(exact_keys) - 1)
            false_neg = exact_keys[pos_in] == keys
            target = torch.arange(len(qs))
            false_neg[target, target] = False
            logits = logits.masked_fill(false_neg, -1e4)
            loss = F.cross_entropy(logits, target)
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
            total_loss += float(loss)
            steps += 1
        qt.eval()
        lt.eval()
        rec = recall_at_k(qt, lt, d, "valid")
        history.append(rec)
        elapsed = time.time() - t0
        eta = elapsed / epoch * (args.epochs - epoch)
        print("  epoch %2d/%d  loss %.4f  temp %.3f  valid Recall@100 %.4f  %.0fs (ETA %.0fs)" % (
            epoch, args.epochs, total_loss / max(steps, 1), float(torch.exp(log_temp)), rec,
            elapsed, eta), flush=True)
        if rec > best + 1e-4:
            best, bad_epochs = rec, 0
            best_state = ({k: v.clone() for k, v in qt.state_dict().items()},
                          {k: v.clone() for k, v in lt.state_dict().items()})
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                print("  early stop: no validation gain for %d epochs" % args.patience)
                break
    qt.load_state_dict(best_state[0])
    lt.load_state_dict(best_state[1])
    qt.eval()
    lt.eval()
    listing_emb = encode_listings(lt, d)
    test_rec = recall_at_k(qt, lt, d, "test", listing_emb=listing_emb)

    # Parity fixtures: the eager model's outputs on a few validation queries and listings,
    # for the C++ side (jobs/parity_check) to reproduce from raw text within 1e-5.
    n_par = 32
    par_q = torch.arange(min(n_par, len(d["q_valid_ids"])))
    par_l = torch.arange(min(n_par, meta["listings"]))
    q_extra = {"parity_query_ids.npy": d["q_valid_ids"][:len(par_q)].astype(np.uint64),
               "parity_query_emb.npy": encode_queries(qt, d["q_valid_tok"], d["q_valid_off"], par_q).numpy()}
    l_extra = {"parity_listing_ids.npy": d["listing_ids"][:len(par_l)].astype(np.uint64),
               "parity_listing_emb.npy": encode_listings(lt, d, par_l).numpy()}

    models_dir = os.path.join(args.data_dir, "models")
    version = next_version(models_dir)
    metrics = {"valid_recall_at_100": best, "test_recall_at_100": test_rec,
               "temperature": float(torch.exp(log_temp))}
    q_inputs = [("tok", "int64", [-1]), ("off", "int64", [-1])]
    l_inputs = q_inputs + [("category", "int64", [-1]), ("dense", "float32", [-1, dense_dim])]
    q_export, l_export = tower_exports(qt, lt, d) if args.format == "aoti" else (None, None)
    qpath = model_artifact.write_artifact(models_dir, "query_tower", version,
                                          tower_manifest(meta, args.dim, q_inputs, metrics),
                                          scripted=torch.jit.script(qt), aoti=q_export, extra=q_extra)
    lpath = model_artifact.write_artifact(models_dir, "listing_tower", version,
                                          tower_manifest(meta, args.dim, l_inputs, metrics),
                                          scripted=torch.jit.script(lt), aoti=l_export, extra=l_extra)
    print("train_two_tower summary")
    print("  epochs run           %d (best valid Recall@100 %.4f)" % (len(history), best))
    print("  test Recall@100      %.4f (exact search over all listings)" % test_rec)
    print("  training time        %.1f s" % (time.time() - t0))
    print("  query tower          %s" % qpath)
    print("  listing tower        %s" % lpath)
    return 0


if __name__ == "__main__":
    model_artifact.run_main("train_two_tower", main)  # an I/O error: one line naming the step and file
