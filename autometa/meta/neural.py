"""Neural meta-model: task and configuration encoders, a scoring head, few-shot adaptation.

One network joins the two families of neural meta-learning. Metric-based: a task encoder
maps meta-features to an embedding ``z`` trained (a Siamese / metric loss) so that two
tasks lie as far apart as they rank the configurations differently. Optimisation-based,
closed form (FSBO, Wistuba & Grabocka 2021; ABLR, Perrone et al. 2018): a head on
``[z, h, z * h]`` (``h`` the configuration embedding) gives features ``phi`` and a final
linear layer ``w · phi + b``; :meth:`NeuralMeta.adapt` updates that last layer by Bayesian
linear regression on a new task's first observations. Training loss on the training tasks'
targets: MSE + ``rank_weight`` × ListNet per task + ``siamese_weight`` × metric loss.

torch is optional (``pip install 'autometa[torch]'``): this module imports without it, and
fitting, predicting or loading a NeuralMeta raise MetaModelError naming the extra.
:func:`adapt_last_layer` and :func:`rank_targets` are plain numpy.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.meta._base import (
    BasePrediction,
    Candidates,
    MetaFeatures,
    MetaModel,
    _one_task,
    register_model,
)
from autometa.meta.data import MetaData

_EXTRA = "pip install 'autometa[torch]'"
_ARCH = ("n_features", "n_encoding", "embed_dim", "hidden")


def torch_available() -> bool:
    """Whether torch can be imported (checked without importing it)."""
    return importlib.util.find_spec("torch") is not None


def _torch() -> ModuleType:
    """The torch module, or MetaModelError naming the extra that installs it."""
    try:
        import torch
    except ImportError as exc:
        raise MetaModelError(f"the neural meta-model needs torch: {_EXTRA}") from exc
    return torch


def _net() -> ModuleType:
    """:mod:`autometa.meta._neural_net` (imports torch), after checking torch is there."""
    _torch()
    from autometa.meta import _neural_net

    return _neural_net


def rank_dissimilarity(Y: np.ndarray, min_common: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """1 - rank correlation of every pair of task rows of ``Y`` (NaN = not evaluated), and
    which pairs (i < j) count: at least ``min_common`` common configurations and a defined
    correlation. Spearman over the common configurations, approximated (exact without NaN)
    by the Pearson correlation of each row's ranks among all its evaluated configurations."""
    mask = np.isfinite(Y).astype(float)
    R = np.nan_to_num(pd.DataFrame(Y).rank(axis=1).to_numpy(dtype=float)) * mask
    n = mask @ mask.T
    sx = R @ mask.T  # row i's sum over the configurations it shares with row j
    sxx = (R**2) @ mask.T
    cov = n * (R @ R.T) - sx * sx.T
    var = (n * sxx - sx**2) * (n * sxx.T - sx.T**2)
    ok = (n >= min_common) & (var > 1e-12)
    rho = np.divide(cov, np.sqrt(np.where(ok, var, 1.0)), out=np.zeros_like(cov), where=ok)
    return 1.0 - np.clip(rho, -1.0, 1.0), ok & np.triu(np.ones_like(ok), k=1).astype(bool)


def rank_targets(values: np.ndarray | Sequence[float]) -> np.ndarray:
    """Observed values (higher is better, any units) on the model's [0, 1] target scale: the
    i-th lowest of k values maps to i / (k + 1), the expected quantile of the i-th of k
    random configurations (ties share their mean rank)."""
    v = np.asarray(values, dtype=float).ravel()
    below = (v[:, None] > v[None, :]).sum(axis=1)
    ties = (v[:, None] == v[None, :]).sum(axis=1)
    return (below + (ties + 1) / 2.0) / (len(v) + 1.0)


def adapt_last_layer(
    phi_candidates: np.ndarray,
    phi_observed: np.ndarray,
    targets: np.ndarray,
    w: np.ndarray,
    b: float,
    prior_precision: float = 1.0,
    noise: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and std of the candidates' scores after Bayesian linear regression of
    the last layer on observations (plain numpy: the Optuna sampler calls it with the
    ``phi`` arrays and ``last_layer()`` it carries, without torch).

    The score is ``[w, b] · [phi, 1]``; prior ``N([w, b], I / prior_precision)`` (the
    meta-trained layer), likelihood ``targets ~ N(phi_observed · w + b, noise²)``. With no
    observations the mean is the plain prediction. The std is the score's (no noise term).
    """
    if prior_precision <= 0 or noise <= 0:
        raise MetaModelError(
            f"prior_precision and noise must be positive, got {prior_precision}, {noise}"
        )
    pc = np.asarray(phi_candidates, dtype=float)
    po = np.asarray(phi_observed, dtype=float).reshape(-1, pc.shape[1])
    y = np.asarray(targets, dtype=float).ravel()
    if len(po) != len(y):
        raise MetaModelError(f"{len(po)} observed features but {len(y)} targets")
    pc = np.hstack([pc, np.ones((len(pc), 1))])
    po = np.hstack([po, np.ones((len(po), 1))])
    prior = np.append(np.asarray(w, dtype=float).ravel(), float(b))
    A = prior_precision * np.eye(len(prior)) + po.T @ po / noise**2
    L = np.linalg.cholesky(A)
    rhs = prior_precision * prior + po.T @ y / noise**2
    weights = np.linalg.solve(L.T, np.linalg.solve(L, rhs))
    V = np.linalg.solve(L, pc.T)
    return pc @ weights, np.sqrt((V**2).sum(axis=0))


@register_model
class NeuralMeta(MetaModel):
    """Task encoder + configuration encoder + scoring head, trained on all tasks at once.

    Args:
        embed_dim: size of the task embedding, the configuration embedding and ``phi``.
        hidden: width of every hidden layer.
        epochs: Adam steps, each on every training task (all task pairs for the metric
            loss) against ``batch_configs`` configurations drawn at random.
        batch_configs: configurations per step (0 or at least their number: all, full
            batch). Per-pair work dominates the cost, so this sets the fit time.
        learning_rate, weight_decay: Adam's (cosine-decayed learning rate, L2 decay).
        rank_weight: weight of the listwise (ListNet) loss per task.
        siamese_weight: weight of the metric loss: squared embedding distance of two tasks
            regressed on 1 - their rank correlation.
        features: meta-feature columns or set name (default: all covering half the tasks).
        device: "auto" (CUDA when available), "cpu" or "cuda". A saved model loads on the
            CPU where CUDA is missing.
        n_threads: torch threads while fitting and predicting (restored after).
        seed: initialisation seed; a CPU fit is deterministic given it.
    """

    name = "neural"
    calibrated = True
    stack_extras = ()

    def __init__(
        self,
        embed_dim: int = 32,
        hidden: int = 64,
        epochs: int = 300,
        batch_configs: int = 32,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        rank_weight: float = 1.0,
        siamese_weight: float = 0.5,
        features: str | Sequence[str] | None = None,
        device: str = "auto",
        n_threads: int = 1,
        seed: int = 0,
    ) -> None:
        self.embed_dim = embed_dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_configs = batch_configs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.rank_weight = rank_weight
        self.siamese_weight = siamese_weight
        self.features = features
        self.device = device
        self.n_threads = n_threads
        self.seed = seed

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this model cannot be fitted here (torch is missing), or None."""
        return None if torch_available() else f"it needs torch: {_EXTRA}"

    # ------------------------------------------------------------------ fit / predict
    def _fit(self, data: MetaData, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        net = _net()
        self.device_ = self._device(net, strict=True)
        self.enc_mean_ = self.encodings_.mean(axis=0)
        std = self.encodings_.std(axis=0)
        self.enc_std_ = np.where(std > 1e-12, std, 1.0)
        dissimilarity, pairs = rank_dissimilarity(Y)
        sizes = (X.shape[1], self.encodings_.shape[1], self.embed_dim, self.hidden)
        self.arch_ = dict(zip(_ARCH, sizes, strict=True))
        with net.session(self.n_threads, deterministic=self.device_.type == "cpu"):
            self.net_ = net.build(**self.arch_, seed=self.seed).to(self.device_)
            objective = net.Objective.build(
                Y, dissimilarity, pairs, self.rank_weight, self.siamese_weight, self.device_
            )
            x, e = self._tensors(X, self.encodings_)
            self.loss_history_ = net.train(self.net_, x, e, objective, self._settings(), self.seed)

    def _settings(self) -> dict[str, float]:
        names = ("epochs", "batch_configs", "learning_rate", "weight_decay")
        return {n: float(getattr(self, n)) for n in names}

    def _device(self, net: ModuleType, strict: bool) -> Any:
        """The torch device of ``self.device``; a loaded model (``strict=False``) falls
        back to the CPU where CUDA is missing."""
        try:
            return net.resolve_device(self.device)
        except ValueError as exc:
            if not strict and self.device == "cuda":
                return net.resolve_device("cpu")
            raise MetaModelError(str(exc)) from exc

    def _tensors(self, X: np.ndarray, enc: np.ndarray) -> tuple[Any, Any]:
        torch = _torch()
        e = (np.asarray(enc, dtype=float) - self.enc_mean_) / self.enc_std_
        return tuple(
            torch.as_tensor(np.asarray(a, dtype=np.float32), device=self.device_) for a in (X, e)
        )

    def _outputs(self, X: np.ndarray, enc: np.ndarray, what: str) -> np.ndarray:
        """``"score"`` (tasks × candidates), ``"phi"`` (× embed_dim) or ``"z"`` (tasks ×
        embed_dim) of scaled meta-features ``X`` and raw encodings ``enc``."""
        net, torch = _net(), _torch()
        with net.session(self.n_threads, deterministic=False), torch.inference_mode():
            x, e = self._tensors(X, enc)
            z = self.net_.task(x)
            if what == "z":
                return net.to_numpy(z)
            phi = self.net_.phi(z, self.net_.config(e))
            if what == "phi":
                return net.to_numpy(phi)
            return net.to_numpy(self.net_.out(phi).squeeze(-1))

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        return BasePrediction(self._outputs(X, enc, "score"))

    # ------------------------------------------------------------------ representations
    def embed(self, metafeatures: MetaFeatures) -> np.ndarray:
        """Task embeddings ``z`` (tasks × embed_dim) of raw meta-features."""
        self._check_fitted()
        return self._outputs(self.transform_.transform(metafeatures), self.encodings_[:0], "z")

    def phi(self, metafeatures: MetaFeatures, candidates: Candidates = None) -> np.ndarray:
        """Penultimate features (tasks × candidates × embed_dim): score = phi · w + b."""
        _, enc = self.resolve(candidates)
        return self._outputs(self.transform_.transform(metafeatures), enc, "phi")

    def last_layer(self) -> tuple[np.ndarray, float]:
        """The final linear layer: weights ``w`` (embed_dim) and bias ``b``."""
        self._check_fitted()
        out = self.net_.out
        w = out.weight.detach().cpu().numpy().astype(float).ravel()
        return w, float(out.bias.detach().cpu().numpy()[0])

    # ------------------------------------------------------------------ few-shot
    def adapt(
        self,
        metafeatures: MetaFeatures,
        observed: Candidates,
        values: Sequence[float] | np.ndarray,
        candidates: Candidates = None,
        prior_precision: float = 1.0,
        noise: float = 0.1,
        scale: str = "rank",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std of every candidate's score for one new task, after
        observing ``values`` (higher is better) at configurations ``observed`` (ids or
        encodings, like ``candidates``); see :func:`adapt_last_layer`.

        ``scale="rank"``: values in any units, mapped by :func:`rank_targets`; ``"raw"``:
        already on the model's target scale. Non-finite values (failed trials) are dropped.
        """
        metafeatures = _one_task(metafeatures)
        v = np.asarray(values, dtype=float).ravel()
        obs = np.asarray(observed if observed is not None else [])
        if len(obs) != len(v):
            raise MetaModelError(f"{len(obs)} observed configurations but {len(v)} values")
        if scale not in ("rank", "raw"):
            raise MetaModelError(f"scale must be 'rank' or 'raw', got {scale!r}")
        keep = np.isfinite(v)
        obs, v = obs[keep], v[keep]
        phi_c = self.phi(metafeatures, candidates)[0]
        phi_o = self.phi(metafeatures, obs)[0] if len(v) else np.zeros((0, phi_c.shape[1]))
        targets = rank_targets(v) if scale == "rank" else v
        w, b = self.last_layer()
        return adapt_last_layer(phi_c, phi_o, targets, w, b, prior_precision, noise)

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        arrays = {
            f"net.{k}": v.detach().cpu().numpy().astype(np.float32)
            for k, v in self.net_.state_dict().items()
        }
        arrays |= {"enc_mean": self.enc_mean_, "enc_std": self.enc_std_}
        return {"architecture": {k: int(v) for k, v in self.arch_.items()}}, arrays, {}

    def _set_state(
        self,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> None:
        """Rebuild the network from its arrays (needs torch: the forward pass is torch's)."""
        net, torch = _net(), _torch()
        self.device_ = self._device(net, strict=False)
        self.arch_ = {k: int(config["architecture"][k]) for k in _ARCH}
        self.enc_mean_ = np.asarray(arrays["enc_mean"], dtype=float)
        self.enc_std_ = np.asarray(arrays["enc_std"], dtype=float)
        weights = {
            k[4:]: torch.as_tensor(np.asarray(v, dtype=np.float32))
            for k, v in arrays.items()
            if k.startswith("net.")
        }
        module = net.build(**self.arch_, seed=self.seed)
        try:
            module.load_state_dict(weights)
        except RuntimeError as exc:
            raise MetaModelError(f"saved neural meta-model weights do not fit: {exc}") from exc
        self.net_ = module.to(self.device_).eval()
