"""The deep ranking model: DCN-V2-style cross layers followed by an MLP (the "stacked" variant
of Wang et al., DCN V2, 2020), one score per candidate.

    z = clamp((features - mean) * inv_std, -clip, clip)       standardisation, baked in
    x0 = [z[:, :p], P z[:, p:]]                                 the q (.) l block (columns p..)
                                                                through a k-dim bottleneck P
    x_{l+1} = x0 * (W_l x_l + b_l) + x_l                        cross layer l (full rank W_l)
    h = MLP(x_L)  (Linear + ReLU per hidden size)               deep part
    score = w . h + b

The standardisation statistics are buffers of the module, so the exported TorchScript model
takes the raw features the C++ featurizer assembles (ranking/ranking_features.h) and no
caller repeats the scaling. Columns that were constant in the training data get inv_std 0:
they cannot influence a score until the model is retrained on data where they vary (the
engagement counters are all zero until logs are aggregated).

The bottleneck: the 64 columns of q (.) l (ranking/ranking_features.h) let a wide model
memorise the training queries' embedding regions; projecting them to k dims (k = 0 drops them)
generalised better to new queries on the demo catalog and makes the cross layers cheaper.

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
                 dropout: float = 0.0, clip: float = 8.0, product_begin: int = -1,
                 product_proj: int = -1):
        """product_begin: first column of the q (.) l block (-1: no block); product_proj: its
        bottleneck width k (-1: keep the block as it is, 0: drop it)."""
        super().__init__()
        self.feature_dim = feature_dim
        self.clip = clip
        self.register_buffer("mean", torch.zeros(feature_dim))
        self.register_buffer("inv_std", torch.ones(feature_dim))
        if product_begin < 0 or product_proj < 0:
            product_begin, product_proj = feature_dim, feature_dim  # identity: no split
        self.product_begin = product_begin
        self.product_width = feature_dim - product_begin
        self.project = product_proj < self.product_width
        self.proj_dim = product_proj if self.project else self.product_width
        self.proj = nn.Linear(max(self.product_width, 1), max(self.proj_dim, 1), bias=False)
        width = product_begin + self.proj_dim
        self.width = width
        self.cross = nn.ModuleList([CrossLayer(width) for _ in range(cross_layers)])
        layers = []
        prev = width
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
        z = torch.clamp((features - self.mean) * self.inv_std, -self.clip, self.clip)
        if self.project:
            if self.proj_dim > 0:
                x0 = torch.cat([z[:, :self.product_begin], self.proj(z[:, self.product_begin:])], dim=1)
            else:
                x0 = z[:, :self.product_begin]
        else:
            x0 = z
        x = x0
        for layer in self.cross:
            x = layer(x0, x)
        return self.out(self.mlp(x))


def flops_per_candidate(model: RankerModel) -> int:
    """Floating-point operations of one candidate's forward, counted analytically
    (a multiply-add = 2 FLOPs; bias adds, elementwise ops and ReLUs counted once each)."""
    d = model.width
    flops = 3 * model.feature_dim  # subtract mean, scale, clamp
    if model.project and model.proj_dim > 0:
        flops += 2 * model.product_width * model.proj_dim
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
