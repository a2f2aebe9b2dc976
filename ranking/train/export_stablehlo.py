#!/usr/bin/env python3
"""The TPU path of the ranker, as far as a CPU-only machine goes: exports a ranker artifact to
StableHLO through JAX for the platforms `cpu` and `tpu`, and checks on XLA:CPU that the exported
program scores the artifact's parity fixture as eager PyTorch did (within 1e-4).

    third_party/python ranking/train/export_stablehlo.py --data_dir=var/demo   (make tpu-parity)

Why not torchax: torchax 0.0.13 (the release on PyPI) does not import beside torch 2.13
(`aten.prod.dim_Dimname` is gone). So the ranker's forward (ranking/train/ranker_model.py:
standardise and clip, the q(.)l bottleneck, DCN-V2 cross layers, MLP) is written once more in
jax.numpy over the artifact's own weights (read from its TorchScript file), and exported with
`jax.export` with a symbolic number of candidates. The parity check is what keeps the two
definitions equal.

Writes <out_dir>/ranker_v<V>.jax_export (jax.export serialization: StableHLO + calling
convention, loadable by jax.export.deserialize on a TPU host, which runs it with `.call`) and
<out_dir>/ranker_v<V>.stablehlo.mlir (the module as text). A TPU host would deserialize the
first and call it on features assembled exactly as the C++ server assembles them
(ranking/ranking_features.h).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from common import versions  # noqa: E402

TOLERANCE = 1e-4


def ranker_params(scripted):
    """The weights and shape of a RankerModel (TorchScript module or eager) as numpy arrays."""
    sd = {k: v.detach().cpu().numpy() for k, v in scripted.state_dict().items()}
    cross = []
    i = 0
    while "cross.%d.linear.weight" % i in sd:
        cross.append((sd["cross.%d.linear.weight" % i], sd["cross.%d.linear.bias" % i]))
        i += 1
    mlp = []
    for j in sorted({int(k.split(".")[1]) for k in sd if k.startswith("mlp.") and k.endswith(".weight")}):
        mlp.append((sd["mlp.%d.weight" % j], sd["mlp.%d.bias" % j]))
    return {
        "mean": sd["mean"], "inv_std": sd["inv_std"], "clip": float(scripted.clip),
        "product_begin": int(scripted.product_begin), "project": bool(scripted.project),
        "proj_dim": int(scripted.proj_dim), "proj": sd.get("proj.weight"),
        "cross": cross, "mlp": mlp, "out": (sd["out.weight"], sd["out.bias"]),
    }


def jax_forward(p):
    """RankerModel.forward in jax.numpy over the weights `p` (constants of the program)."""
    import jax.numpy as jnp

    def forward(features):
        z = jnp.clip((features - p["mean"]) * p["inv_std"], -p["clip"], p["clip"])
        b = p["product_begin"]
        if p["project"]:
            x0 = jnp.concatenate([z[:, :b], z[:, b:] @ p["proj"].T], axis=1) if p["proj_dim"] > 0 else z[:, :b]
        else:
            x0 = z
        x = x0
        for w, bias in p["cross"]:
            x = x0 * (x @ w.T + bias) + x
        for w, bias in p["mlp"]:  # Linear + ReLU per hidden size (no dropout at inference)
            x = jnp.maximum(x @ w.T + bias, 0.0)
        return x @ p["out"][0].T + p["out"][1]
    return forward


def export(scripted, feature_dim):
    """jax.export of the ranker for cpu and tpu, with a symbolic candidate count."""
    import jax
    from jax import export as jexport
    (n,) = jexport.symbolic_shape("n")
    spec = jax.ShapeDtypeStruct((n, feature_dim), np.float32)
    return jexport.export(jax.jit(jax_forward(ranker_params(scripted))), platforms=("cpu", "tpu"))(spec)


def check_parity(exported, features, want):
    """Runs the exported program on XLA:CPU; returns max |xla - eager|."""
    got = np.asarray(exported.call(features.astype(np.float32)))[:, 0]
    return float(np.abs(got - want).max()) if len(want) else 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data_dir", default="var")
    ap.add_argument("--ranker_dir", default="", help="default: the newest <data_dir>/models/ranker/<v>")
    ap.add_argument("--out_dir", default="", help="default <data_dir>/tpu")
    args = ap.parse_args(argv)
    import jax
    import torch
    from jax import export as jexport

    root = os.path.join(args.data_dir, "models", "ranker")
    rdir = args.ranker_dir or os.path.join(root, str(versions.newest_version(root)))
    scripted = torch.jit.load(os.path.join(rdir, "model.pt"))
    x = np.load(os.path.join(rdir, "parity_features.npy"))
    want = np.load(os.path.join(rdir, "parity_scores.npy"))
    exported = export(scripted, x.shape[1])
    version = os.path.basename(os.path.normpath(rdir))
    out = args.out_dir or os.path.join(args.data_dir, "tpu")
    os.makedirs(out, exist_ok=True)
    blob = os.path.join(out, "ranker_v%s.jax_export" % version)
    with open(blob, "wb") as f:
        f.write(exported.serialize())
    with open(os.path.join(out, "ranker_v%s.stablehlo.mlir" % version), "w") as f:
        f.write(exported.mlir_module())
    # What a TPU host does: deserialize and call (here on XLA:CPU).
    with open(blob, "rb") as f:
        loaded = jexport.deserialize(bytearray(f.read()))
    diff = check_parity(loaded, x, want)
    ok = diff <= TOLERANCE
    print("export_stablehlo summary")
    print("  ranker               %s" % rdir)
    print("  jax                  %s (devices here: %s)" % (jax.__version__, ", ".join(str(d) for d in jax.devices())))
    print("  platforms            %s" % ", ".join(loaded.platforms))
    print("  written              %s (+ .stablehlo.mlir)" % blob)
    print("  XLA:CPU vs eager     max |diff| %.3g over %d candidates (tolerance %g): %s" % (
        diff, len(want), TOLERANCE, "OK" if ok else "FAILED"))
    print("BENCH tpu_path_xla_cpu_max_abs_diff %.3g" % diff)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
