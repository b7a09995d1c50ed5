"""The best-so-far curve of a search, as a PNG (matplotlib: ``pip install autometa[plot]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from autometa.exceptions import SearchError


def plot_best_so_far(result: Any, path: str | Path) -> Path:
    """Write the best value after each finished trial of a :class:`TuneResult` to ``path``
    (each trial's own value as a dot); returns the path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise SearchError("plotting needs matplotlib: pip install 'autometa[plot]'") from exc
    values = np.array([np.nan if t["value"] is None else t["value"] for t in result.trials])
    sign = 1.0 if result.direction == "maximize" else -1.0
    best = sign * np.fmax.accumulate(sign * values)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    trials = np.arange(1, len(values) + 1)
    ax.plot(trials, values, "o", color="0.7", markersize=3, label="trial")
    ax.step(trials, best, where="post", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{result.metric} ({result.n_folds}-fold CV)")
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
