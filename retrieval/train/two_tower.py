"""Two-tower retrieval model: query tower and listing tower over hashed n-gram bags.

Inputs are produced by the C++ featurizer (features/featurizer.h): flat int64 id tensors
with offsets (EmbeddingBag layout), listing category ids and dense listing features.
Both towers output L2-normalised vectors; relevance is their inner product.
"""
import torch
import torch.nn.functional as F
from torch import nn


def text_bag(text_vocab: int, emb_dim: int) -> nn.EmbeddingBag:
    """The n-gram embedding table. The trainer shares one table between both towers, so a
    word, bigram or trigram means the same on both sides (each exported tower carries a copy)."""
    # Sparse gradients: a batch touches a few thousand of the ~260k rows.
    return nn.EmbeddingBag(text_vocab, emb_dim, mode="mean", sparse=True)


class QueryTower(nn.Module):
    def __init__(self, text_vocab: int, emb_dim: int, out_dim: int, text=None):
        super().__init__()
        self.text = text if text is not None else text_bag(text_vocab, emb_dim)
        self.proj = nn.Linear(emb_dim, out_dim)
        self.mlp = nn.Sequential(nn.Linear(emb_dim, 256), nn.ReLU(), nn.Linear(256, out_dim))

    def forward(self, tok: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
        x = self.text(tok, off)
        return F.normalize(self.proj(x) + self.mlp(x), dim=-1)


class ListingTower(nn.Module):
    def __init__(self, text_vocab: int, emb_dim: int, out_dim: int, category_buckets: int,
                 dense_dim: int, text=None):
        super().__init__()
        self.text = text if text is not None else text_bag(text_vocab, emb_dim)
        self.category = nn.Embedding(category_buckets, 16)
        width = emb_dim + 16 + dense_dim
        self.proj = nn.Linear(emb_dim, out_dim)
        self.mlp = nn.Sequential(nn.Linear(width, 256), nn.ReLU(), nn.Linear(256, out_dim))

    def forward(self, tok: torch.Tensor, off: torch.Tensor, category: torch.Tensor,
                dense: torch.Tensor) -> torch.Tensor:
        x = self.text(tok, off)
        h = torch.cat([x, self.category(category), dense], dim=1)
        return F.normalize(self.proj(x) + self.mlp(h), dim=-1)


def bag_slice(tok, off, rows):
    """Gathers the bags of `rows` (1-D LongTensor) into a new (tok, off) pair."""
    starts = off[rows]
    ends = off[rows + 1]
    lengths = ends - starts
    new_off = torch.zeros(len(rows) + 1, dtype=torch.long)
    new_off[1:] = torch.cumsum(lengths, 0)
    if int(new_off[-1]) == 0:
        return torch.zeros(0, dtype=torch.long), new_off[:-1]
    idx = torch.repeat_interleave(starts - new_off[:-1], lengths) + torch.arange(int(new_off[-1]))
    return tok[idx], new_off[:-1]
