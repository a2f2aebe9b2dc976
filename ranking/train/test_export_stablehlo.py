"""The ranker's TPU path (export_stablehlo.py): the jax.numpy forward over a RankerModel's
weights, exported for cpu and tpu, scores as eager PyTorch does on XLA:CPU, for each shape of
the q(.)l block (kept, projected, dropped) and any candidate count (symbolic)."""
import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_stablehlo  # noqa: E402
from ranker_model import RankerModel  # noqa: E402


def make_model(product_begin, product_proj, seed=0):
    torch.manual_seed(seed)
    m = RankerModel(113, cross_layers=2, hidden=[32, 16], product_begin=product_begin,
                    product_proj=product_proj)
    m.set_standardization(torch.randn(500, 113) * 3 + 1)
    with torch.no_grad():
        for layer in m.cross:
            layer.linear.weight.normal_(std=0.2)  # every layer matters
    return m.eval()


@pytest.mark.parametrize("product_begin,product_proj", [(-1, -1), (49, 8), (49, 0)])
def test_exported_program_matches_eager_on_xla_cpu(product_begin, product_proj):
    m = make_model(product_begin, product_proj)
    scripted = torch.jit.script(m)  # what the artifact holds; the weights are read from it
    exported = export_stablehlo.export(scripted, 113)
    assert set(exported.platforms) == {"cpu", "tpu"}
    for n in (1, 7, 300):  # one symbolic candidate count serves every batch size
        x = (np.random.default_rng(n).normal(size=(n, 113)) * 3 + 1).astype(np.float32)
        with torch.no_grad():
            want = m(torch.from_numpy(x)).numpy()[:, 0]
        assert export_stablehlo.check_parity(exported, x, want) <= export_stablehlo.TOLERANCE


def test_a_different_model_is_caught():
    """The parity check can fail: another model's weights do not pass as this one's."""
    x = (np.random.default_rng(1).normal(size=(50, 113)) * 3 + 1).astype(np.float32)
    with torch.no_grad():
        want = make_model(-1, -1, seed=0)(torch.from_numpy(x)).numpy()[:, 0]
    other = export_stablehlo.export(torch.jit.script(make_model(-1, -1, seed=1)), 113)
    assert export_stablehlo.check_parity(other, x, want) > export_stablehlo.TOLERANCE
