"""The torch network of :class:`~autometa.meta.neural.NeuralMeta` and its training loop.

Imported only when a NeuralMeta fits, predicts or loads: torch is the optional extra
``autometa[torch]``, and this module imports it at the top.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Softmax temperature of the listwise (ListNet) loss, in units of the [0, 1] target.
TEMPERATURE = 0.1
_MASKED = -1e4  # a logit whose softmax weight is 0, without the NaN gradients of -inf


class TaskConfigNet(nn.Module):
    """Task encoder, configuration encoder and a head on ``[z, h, z * h]``.

    ``task``: scaled meta-features -> hidden -> z (embed_dim); ``config``: standardised
    encoding -> hidden -> h (embed_dim); ``head``: [z, h, z*h] -> hidden -> phi (embed_dim);
    ``out``: phi -> score (weight w, bias b).
    """

    def __init__(self, n_features: int, n_encoding: int, embed_dim: int, hidden: int) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.task = nn.Sequential(
            nn.Linear(n_features, hidden), nn.SiLU(), nn.Linear(hidden, embed_dim)
        )
        self.config = nn.Sequential(
            nn.Linear(n_encoding, hidden), nn.SiLU(), nn.Linear(hidden, embed_dim)
        )
        self.head = nn.Sequential(
            nn.Linear(3 * embed_dim, hidden), nn.ReLU(), nn.Linear(hidden, embed_dim), nn.SiLU()
        )
        self.out = nn.Linear(embed_dim, 1)

    def phi(self, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Penultimate features (tasks × configs × embed_dim) of embeddings ``z`` and ``h``.

        The head's first layer on the concatenation [z, h, z*h] is split in its three
        blocks, so the task and configuration terms are computed once rather than per pair.
        """
        first = self.head[0]
        wz, wh, wzh = first.weight.split(self.embed_dim, dim=1)
        pre = (
            F.linear(z, wz, first.bias)[:, None, :]
            + F.linear(h, wh)[None, :, :]
            + F.linear(z[:, None, :] * h[None, :, :], wzh)
        )
        return self.head[1:](pre)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores (tasks × configs) and task embeddings of meta-features ``x`` and
        standardised encodings ``e``."""
        z = self.task(x)
        return self.out(self.phi(z, self.config(e))).squeeze(-1), z


@dataclass(frozen=True)
class Objective:
    """The training targets and loss weights of one fit (tensors on the fit's device)."""

    Y: torch.Tensor  # tasks × configs, 0 where not evaluated
    mask: torch.Tensor  # float, 1 where evaluated
    dissimilarity: torch.Tensor  # tasks × tasks: 1 - rank correlation
    pairs: torch.Tensor  # float, 1 for the pairs (i < j) the metric loss uses
    n_pairs: int  # kept on the host: no device sync per step
    rank_weight: float
    siamese_weight: float

    @classmethod
    def build(
        cls,
        Y: np.ndarray,
        dissimilarity: np.ndarray,
        pairs: np.ndarray,
        rank_weight: float,
        siamese_weight: float,
        device: torch.device,
    ) -> Objective:
        """From the target matrix (NaN = not evaluated) and the pairwise dissimilarities."""

        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)

        return cls(
            Y=tensor(np.nan_to_num(Y)),
            mask=tensor(np.isfinite(Y)),
            dissimilarity=tensor(dissimilarity),
            pairs=tensor(pairs),
            n_pairs=int(np.count_nonzero(pairs)),
            rank_weight=rank_weight,
            siamese_weight=siamese_weight,
        )

    def loss(
        self, pred: torch.Tensor, z: torch.Tensor, cols: torch.Tensor | None = None
    ) -> torch.Tensor:
        """MSE on evaluated entries + ListNet per task + the embeddings' metric loss;
        ``pred`` covers configurations ``cols`` (default: all)."""
        Y, mask = (self.Y, self.mask) if cols is None else (self.Y[:, cols], self.mask[:, cols])
        total = ((pred - Y) ** 2 * mask).sum() / mask.sum().clamp(min=1.0)
        if self.rank_weight:
            total = total + self.rank_weight * listnet(pred, Y, mask)
        if self.siamese_weight and self.n_pairs:
            sq = (z * z).sum(dim=1)
            dist = (sq[:, None] + sq[None, :] - 2.0 * z @ z.T).clamp(min=0.0)
            error = (dist - self.dissimilarity) ** 2 * self.pairs
            total = total + self.siamese_weight * error.sum() / self.n_pairs
        return total


def listnet(pred: torch.Tensor, Y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over tasks of the cross-entropy between softmax(Y / T) and softmax(pred / T)
    over each task's evaluated configurations (tasks with none are left out)."""
    masked = torch.full_like(pred, _MASKED)
    target = torch.softmax(torch.where(mask > 0, Y / TEMPERATURE, masked), dim=1)
    log_q = F.log_softmax(torch.where(mask > 0, pred / TEMPERATURE, masked), dim=1)
    rows = (mask.sum(dim=1) > 0).float()
    return (-(target * log_q * mask).sum(dim=1) * rows).sum() / rows.sum().clamp(min=1.0)


def train(
    net: TaskConfigNet,
    X: torch.Tensor,
    E: torch.Tensor,
    objective: Objective,
    settings: dict[str, float],
    seed: int,
) -> list[float]:
    """Adam (L2 ``weight_decay``, cosine-decayed learning rate) for ``epochs`` steps, each
    on every task against ``batch_configs`` configurations drawn by a seeded generator
    (all of them when there are no more); returns the loss of each step."""
    epochs, batch = int(settings["epochs"]), int(settings["batch_configs"])
    opt = torch.optim.Adam(
        net.parameters(), lr=settings["learning_rate"], weight_decay=settings["weight_decay"]
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    generator = torch.Generator().manual_seed(seed)
    sample = 0 < batch < len(E)
    history = []
    net.train()
    for _ in range(epochs):
        cols = torch.randperm(len(E), generator=generator)[:batch].to(E.device) if sample else None
        opt.zero_grad(set_to_none=True)
        pred, z = net(X, E if cols is None else E[cols])
        loss = objective.loss(pred, z, cols)
        loss.backward()
        opt.step()
        schedule.step()
        history.append(loss.detach())
    net.eval()
    return torch.stack(history).cpu().tolist() if history else []


def resolve_device(device: str) -> torch.device:
    """``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``; ValueError for
    anything else or for CUDA without a device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but torch sees no CUDA device")
    return torch.device(device)


@contextlib.contextmanager
def session(n_threads: int, deterministic: bool) -> Iterator[None]:
    """torch with ``n_threads`` intra-op threads (and deterministic algorithms when asked)
    inside the block; the previous settings are restored after it."""
    threads = torch.get_num_threads()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    if n_threads != threads:
        torch.set_num_threads(max(1, int(n_threads)))
    if deterministic and not was_deterministic:
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        if torch.are_deterministic_algorithms_enabled() != was_deterministic:
            torch.use_deterministic_algorithms(was_deterministic, warn_only=warn_only)


def build(
    n_features: int, n_encoding: int, embed_dim: int, hidden: int, seed: int
) -> TaskConfigNet:
    """A freshly initialised network; the seed is scoped (torch's global RNG is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TaskConfigNet(n_features, n_encoding, embed_dim, hidden)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A detached float64 numpy copy of a tensor on any device."""
    return t.detach().cpu().numpy().astype(np.float64)
