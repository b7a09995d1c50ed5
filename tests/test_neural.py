"""The neural meta-model on the synthetic knowledge base of ``tests/test_meta.py``: it ranks
the planted structure, is deterministic and pickle-free, scores unseen encodings, adapts
its last layer to a new task's observations, learns task embeddings that follow the
planted preference, and fails cleanly without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import spearmanr

from autometa.exceptions import MetaModelError
from autometa.meta import (
    MetaModel,
    NearestTasks,
    NeuralMeta,
    StackedMetaLearner,
    build_metadata,
    load_stack,
    save_stack,
)
from autometa.meta.neural import (
    adapt_last_layer,
    rank_dissimilarity,
    rank_targets,
    torch_available,
)
from tests.test_meta import _synthetic_kb

EPOCHS = 150
HELD_OUT = ("g0", "g1")  # a large-task group and a small-task group


#: Hides torch as if it were not installed (``sys.modules["torch"] = None`` would trip
#: scipy's array-API checks on import), then imports the package and its neural model.
_WITHOUT_TORCH = """
import sys
finders = list(sys.meta_path)
class NoTorch:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] == "torch":
            return None
        return next(filter(None, (f.find_spec(name, path, target) for f in finders)), None)
sys.meta_path[:] = [NoTorch]
import autometa.meta
from autometa.meta.neural import NeuralMeta, torch_available
assert not torch_available() and "torch" not in sys.modules
assert "needs torch" in NeuralMeta.unavailable()
"""


def _cuda() -> bool:
    if not torch_available():
        return False
    import torch

    return torch.cuda.is_available()


@pytest.fixture(scope="module")
def data() -> Any:
    return build_metadata(_synthetic_kb(), "lightgbm", "classification")


@pytest.fixture(scope="module")
def split(data: Any) -> tuple[np.ndarray, np.ndarray]:
    held = np.isin(data.groups(), HELD_OUT)
    return data.task_ids[~held], data.task_ids[held]


@pytest.fixture(scope="module")
def fitted(data: Any, split: tuple[np.ndarray, np.ndarray]) -> NeuralMeta:
    pytest.importorskip("torch")
    return NeuralMeta(epochs=EPOCHS, device="cpu").fit(data, split[0])


def _large(data: Any, task_ids: np.ndarray) -> np.ndarray:
    """The planted preference: even groups hold large tasks (many trees win)."""
    groups = np.array([int(g[1:]) for g in data.groups(task_ids)])
    return groups % 2 == 0


# ---------------------------------------------------------------------- plain numpy parts
def test_rank_helpers_need_no_torch() -> None:
    Y = np.array([[0.0, 0.5, 1.0, 0.2], [1.0, 0.5, 0.0, 0.8], [0.1, 0.6, 0.9, np.nan]])
    dissimilarity, pairs = rank_dissimilarity(Y)
    assert dissimilarity[0, 1] == pytest.approx(2.0)  # opposite orders
    assert dissimilarity[0, 2] < 0.05  # the same order on the three common configurations
    assert pairs[0, 1] and pairs[0, 2] and not pairs[1, 0] and not pairs[0, 0]
    np.testing.assert_allclose(rank_targets([3.0, -1.0, 10.0]), [0.5, 0.25, 0.75])
    np.testing.assert_allclose(rank_targets([2.0, 2.0]), [0.5, 0.5])


# ---------------------------------------------------------------------- fit and predict
def test_fits_and_ranks_better_than_the_single_best(
    data: Any, split: tuple[np.ndarray, np.ndarray], fitted: NeuralMeta
) -> None:
    train, held = split
    assert not set(fitted.train_task_ids_) & set(held)
    Y = data.normalised[data.rows(held)]
    pred = fitted.predict_batch(data.metafeatures.loc[held]).score
    assert pred.shape == Y.shape and np.isfinite(pred).all()
    top1 = Y[np.arange(len(Y)), np.argmax(pred, axis=1)]
    single_best = np.nanargmax(np.nanmean(data.normalised[data.rows(train)], axis=0))
    assert top1.mean() > 0.9
    assert top1.mean() > np.nanmean(Y[:, single_best]) + 0.1
    rho = [spearmanr(p[np.isfinite(y)], y[np.isfinite(y)])[0] for p, y in zip(pred, Y, strict=True)]
    assert np.mean(rho) > 0.7
    frame = fitted.predict(data.metafeatures.loc[held[0]])
    assert list(frame["config_id"]) == list(data.config_ids)
    assert len(fitted.loss_history_) == EPOCHS
    assert fitted.loss_history_[-1] < fitted.loss_history_[0]


def test_same_seed_same_predictions(
    data: Any, split: tuple[np.ndarray, np.ndarray], fitted: NeuralMeta
) -> None:
    import torch

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    again = fitted.clone().fit(data, split[0])
    assert torch.get_num_threads() == threads  # the fit's settings are scoped
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    mf = data.metafeatures
    np.testing.assert_array_equal(again.predict_batch(mf).score, fitted.predict_batch(mf).score)
    other = NeuralMeta(epochs=EPOCHS, device="cpu", seed=1).fit(data, split[0])
    assert not np.array_equal(other.predict_batch(mf).score, fitted.predict_batch(mf).score)


def test_configuration_batches_are_seeded(data: Any) -> None:
    pytest.importorskip("torch")
    model = NeuralMeta(epochs=20, batch_configs=4, device="cpu")
    a, b = model.clone().fit(data), model.clone().fit(data)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)


def test_state_round_trip_is_exact_and_pickle_free(data: Any, fitted: NeuralMeta) -> None:
    state = fitted.get_state()
    assert all(a.dtype != object for a in state.arrays.values())
    assert "net.task.0.weight" in state.arrays and "net.out.weight" in state.arrays
    assert state.config["architecture"]["embed_dim"] == fitted.embed_dim
    loaded = MetaModel.from_state(state)
    assert isinstance(loaded, NeuralMeta)
    mf = data.metafeatures
    np.testing.assert_array_equal(loaded.predict_batch(mf).score, fitted.predict_batch(mf).score)
    np.testing.assert_array_equal(loaded.embed(mf), fitted.embed(mf))
    np.testing.assert_array_equal(loaded.last_layer()[0], fitted.last_layer()[0])


def test_stack_with_a_neural_base_model_saves_and_loads(data: Any, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    bases = [NearestTasks(k=5), NeuralMeta(epochs=40, device="cpu")]
    stack = StackedMetaLearner(base_models=bases, n_splits=3).fit(data)
    loaded = load_stack(save_stack(stack, tmp_path / "model"))
    assert isinstance(loaded.base_models_[1], NeuralMeta)
    mf = data.metafeatures.iloc[:6]
    a, b = stack.predict_batch(mf), loaded.predict_batch(mf)
    for key in ("score", "priority", "order"):
        np.testing.assert_array_equal(a[key], b[key])


def test_scores_encodings_no_task_evaluated(data: Any, fitted: NeuralMeta) -> None:
    a, b = data.encodings[0], data.encodings[-1]
    new = np.vstack([(a + b) / 2, a * 0.9 + b * 0.1])
    frame = fitted.predict(data.metafeatures.iloc[0], candidates=new)
    assert list(frame["config_id"]) == [-1, -1]
    assert np.isfinite(frame["score"]).all()
    phi = fitted.phi(data.metafeatures.iloc[[0, 1]], new)
    assert phi.shape == (2, 2, fitted.embed_dim)
    w, b0 = fitted.last_layer()
    np.testing.assert_allclose(phi[0] @ w + b0, frame["score"], rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- adaptation
def test_adapt_without_observations_is_the_prediction(data: Any, fitted: NeuralMeta) -> None:
    mf = data.metafeatures.iloc[0]
    mean, std = fitted.adapt(mf, [], [])
    np.testing.assert_allclose(mean, fitted.predict(mf)["score"], rtol=1e-5, atol=1e-5)
    assert (std > 0).all()
    with pytest.raises(MetaModelError, match="2 observed configurations but 1 values"):
        fitted.adapt(mf, data.config_ids[:2], [0.5])


def test_adapt_moves_the_ranking_toward_a_surprising_task(
    data: Any, split: tuple[np.ndarray, np.ndarray], fitted: NeuralMeta
) -> None:
    """A held-out large task's meta-features with a held-out small task's scores: the plain
    prediction ranks it the wrong way; five observed scores turn the ranking around."""
    held = split[1]
    large = _large(data, held)
    mf = data.metafeatures.loc[held[large][0]]
    truth = data.normalised[data.rows([held[~large][0]])[0]]
    ok = np.isfinite(truth)
    observed = np.flatnonzero(ok)[::2][:5]
    before = spearmanr(fitted.predict(mf)["score"][ok], truth[ok])[0]
    mean, std = fitted.adapt(mf, data.config_ids[observed], truth[observed] * 7 - 3)
    after = spearmanr(mean[ok], truth[ok])[0]
    assert after > before + 0.3
    _, prior_std = fitted.adapt(mf, [], [])
    assert (std[observed] < prior_std[observed]).all()  # observing narrows the posterior


def test_adapt_last_layer_matches_adapt(data: Any, fitted: NeuralMeta) -> None:
    mf = data.metafeatures.iloc[3]
    observed, values = data.config_ids[[1, 4, 6]], np.array([0.2, 0.9, 0.4])
    mean, std = fitted.adapt(mf, observed, values, prior_precision=2.0, noise=0.2)
    w, b = fitted.last_layer()
    phi_c, phi_o = fitted.phi(mf)[0], fitted.phi(mf, observed)[0]
    m2, s2 = adapt_last_layer(phi_c, phi_o, rank_targets(values), w, b, 2.0, 0.2)
    np.testing.assert_allclose(mean, m2, rtol=1e-12)
    np.testing.assert_allclose(std, s2, rtol=1e-12)
    with pytest.raises(MetaModelError, match="positive"):
        adapt_last_layer(phi_c, phi_o, values, w, b, 0.0, 0.2)


# ---------------------------------------------------------------------- metric learning
def test_embeddings_of_tasks_with_the_same_preference_are_closer(
    data: Any, fitted: NeuralMeta
) -> None:
    z = fitted.embed(data.metafeatures)
    assert z.shape == (len(data.task_ids), fitted.embed_dim)
    large = _large(data, data.task_ids)
    dist = ((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=-1)
    same = large[:, None] == large[None, :]
    off_diagonal = ~np.eye(len(z), dtype=bool)
    assert dist[same & off_diagonal].mean() * 2 < dist[~same].mean()


# ---------------------------------------------------------------------- devices and torch
def test_unknown_or_missing_device_is_refused(data: Any) -> None:
    pytest.importorskip("torch")
    with pytest.raises(MetaModelError, match="device must be"):
        NeuralMeta(epochs=1, device="tpu").fit(data)
    if not _cuda():
        with pytest.raises(MetaModelError, match="no CUDA device"):
            NeuralMeta(epochs=1, device="cuda").fit(data)


def test_without_torch_fit_names_the_extra_and_the_package_imports(
    data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    assert not torch_available()
    with pytest.raises(MetaModelError, match=r"pip install 'autometa\[torch\]'"):
        NeuralMeta(epochs=1).fit(data)
    subprocess.run([sys.executable, "-c", _WITHOUT_TORCH], check=True)  # a fresh import


@pytest.mark.skipif(not _cuda(), reason="no CUDA device on this machine")
def test_cuda_fit_is_close_to_the_cpu_fit(
    data: Any, split: tuple[np.ndarray, np.ndarray], fitted: NeuralMeta
) -> None:
    gpu = NeuralMeta(epochs=EPOCHS, device="cuda").fit(data, split[0])
    assert gpu.device_.type == "cuda"
    mf = data.metafeatures
    np.testing.assert_allclose(
        gpu.predict_batch(mf).score, fitted.predict_batch(mf).score, atol=0.05
    )
    loaded = MetaModel.from_state(gpu.get_state())
    np.testing.assert_allclose(
        loaded.predict_batch(mf).score, gpu.predict_batch(mf).score, rtol=1e-6, atol=1e-6
    )
