"""The deep ranking model: DCN-V2-style cross layers followed by an MLP (the "stacked" variant
of Wang et al., DCN V2, 2020), one score per candidate.

    x0 = clamp((features - mean) * inv_std, -clip, clip)      standardisation, baked in
    x_{l+1} = x0 * (W_l x_l + b_l) + x_l                        cross layer l (full rank W_l)
    h = MLP(x_L)  (Linear + ReLU per hidden size)               deep part
    score = w . h + b

The standardisation statistics are buffers of the module, so the exported TorchScript model
takes the raw features the C++ featurizer assembles (ranking/ranking_features.h) and no
caller repeats the scaling. Columns that were constant in the training data get inv_std 0:
they cannot influence a score until the model is retrained on data where they vary (the
engagement counters are all zero until logs are aggregated).

forward: float32 [n, feature_dim] -> float32 [n, 1] (ModelRunner wants a 2-D output).
"""
from typing import List

import torch
import torch.nn as nn


class CrossLayer(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, dim)
        # Start close to the identity map x_{l+1} = x_l (DCN-V2 initialises W small).
        nn.init.normal_(self.linear.weight, std=0.01)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return x0 * self.linear(x) + x


class RankerModel(nn.Module):
    def __init__(self, feature_dim: int, cross_layers: int = 2, hidden: List[int] = (256, 128),
                 dropout: float = 0.0, clip: float = 8.0):
        super().__init__()
        self.feature_dim = feature_dim
        self.clip = clip
        self.register_buffer("mean", torch.zeros(feature_dim))
        self.register_buffer("inv_std", torch.ones(feature_dim))
        self.cross = nn.ModuleList([CrossLayer(feature_dim) for _ in range(cross_layers)])
        layers = []
        prev = feature_dim
        for h in hidden:
            layers.append(nn.Linear(prev, h))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            prev = h
        self.mlp = nn.Sequential(*layers)
        self.out = nn.Linear(prev, 1)
        self.hidden = list(hidden)

    def set_standardization(self, features: torch.Tensor, eps: float = 1e-6):
        """Sets mean / inv_std from a [N, D] sample of training rows."""
        mean = features.double().mean(0)
        std = features.double().std(0, unbiased=False)
        inv = torch.where(std > eps, 1.0 / std.clamp(min=eps), torch.zeros_like(std))
        self.mean.copy_(mean.float())
        self.inv_std.copy_(inv.float())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x0 = torch.clamp((features - self.mean) * self.inv_std, -self.clip, self.clip)
        x = x0
        for layer in self.cross:
            x = layer(x0, x)
        return self.out(self.mlp(x))


def flops_per_candidate(model: RankerModel) -> int:
    """Floating-point operations of one candidate's forward, counted analytically
    (a multiply-add = 2 FLOPs; bias adds, elementwise ops and ReLUs counted once each)."""
    d = model.feature_dim
    flops = 3 * d  # subtract mean, scale, clamp
    for _ in model.cross:
        flops += 2 * d * d + d  # W x + b
        flops += 2 * d          # x0 * (.) + x
    prev = d
    for h in model.hidden:
        flops += 2 * prev * h + h + h  # matmul, bias, ReLU
        prev = h
    flops += 2 * prev + 1
    return flops


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
