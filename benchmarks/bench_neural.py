"""Fit time and inference latency of the neural meta-model (``autometa.meta.NeuralMeta``).

    python benchmarks/bench_neural.py [--json neural.json] [--threads 1] [--epochs 300]

Rows: the shipped knowledge base's LightGBM meta-data per task kind (trained, as in the
stack, on each task's ranks), and a synthetic meta-data of the size the speed budget is set
for (350 tasks x 128 configurations, 100 meta-feature columns, 12 encoding dimensions).
Per row: the fit's wall-clock and CPU seconds on the CPU with ``--threads`` torch threads,
the median latency over tasks of ``predict_batch`` for one task x every candidate (the
inference target) and of ``adapt`` with five observations; with a CUDA device, the same fit
on the GPU in the same run and the CPU/GPU ratio. Needs torch (``pip install -e ".[torch]"``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd


def synthetic_metadata(
    n_tasks: int = 350, n_configs: int = 128, n_features: int = 100, n_enc: int = 12
) -> Any:
    """A MetaData of the budget's size: scores follow a low-rank task x configuration
    structure driven by the meta-features, plus noise."""
    from autometa.meta.data import MetaData, training_target

    rng = np.random.default_rng(0)
    mf = rng.normal(size=(n_tasks, n_features))
    enc = rng.uniform(size=(n_configs, n_enc))
    task_factors = np.tanh(mf[:, :4] @ rng.normal(size=(4, 4)))
    scores = task_factors @ rng.normal(size=(4, n_enc)) @ enc.T + 0.3 * rng.normal(
        size=(n_tasks, n_configs)
    )
    ids = np.arange(1, n_tasks + 1)
    tasks = pd.DataFrame(
        {"name": [f"t{i}" for i in ids], "group_key": [f"g{i // 3}" for i in ids]},
        index=pd.Index(ids, name="task_id"),
    ).assign(task_type="binary", n_rows=1000, n_features=10)
    return MetaData(
        family="lightgbm",
        task_kind="classification",
        metric="roc_auc",
        direction=1,
        tasks=tasks,
        metafeatures=pd.DataFrame(
            mf, index=tasks.index, columns=[f"q{j}" for j in range(n_features)]
        ),
        config_ids=np.arange(1, n_configs + 1),
        encodings=enc,
        encoding_names=tuple(f"e{j}" for j in range(n_enc)),
        scores=scores,
        normalised=training_target(scores, "rank"),
        default_config_id=None,
    )


def _fit(data: Any, device: str, args: argparse.Namespace) -> tuple[Any, float, float]:
    from autometa.meta import NeuralMeta

    model = NeuralMeta(epochs=args.epochs, device=device, n_threads=args.threads)
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(data)  # the loss history is read back at the end: the GPU is synchronised
    return model, time.perf_counter() - wall, time.process_time() - cpu


def _latency_ms(model: Any, data: Any, n_tasks: int) -> tuple[float, float]:
    """Median ms over tasks: ``predict_batch`` for one task x every candidate, and
    ``adapt`` after five observations."""
    predict, adapt = [], []
    rng = np.random.default_rng(0)
    for i in range(min(n_tasks, len(data.task_ids))):
        mf = data.metafeatures.iloc[[i]]
        start = time.perf_counter()
        model.predict_batch(mf)
        predict.append(time.perf_counter() - start)
        observed = rng.choice(data.config_ids, size=5, replace=False)
        start = time.perf_counter()
        model.adapt(mf, observed, rng.uniform(size=5))
        adapt.append(time.perf_counter() - start)
    return 1e3 * statistics.median(predict), 1e3 * statistics.median(adapt)


def bench_row(name: str, data: Any, args: argparse.Namespace) -> dict[str, Any]:
    """One table row: CPU fit, latencies, and the GPU fit when CUDA is there."""
    import torch

    model, wall, cpu = _fit(data, "cpu", args)
    predict_ms, adapt_ms = _latency_ms(model, data, args.latency_tasks)
    row: dict[str, Any] = {
        "data": name,
        "tasks": len(data.task_ids),
        "configs": len(data.config_ids),
        "features": len(model.transform_.columns),
        "encoding": data.encodings.shape[1],
        "cpu_fit_s": round(wall, 2),
        "cpu_fit_cpu_s": round(cpu, 2),
        "predict_ms": round(predict_ms, 2),
        "adapt_ms": round(adapt_ms, 2),
    }
    if torch.cuda.is_available():
        _fit(data, "cuda", args)  # warm-up: CUDA context and kernels
        gpu, gpu_wall, _ = _fit(data, "cuda", args)
        gpu_predict_ms, _ = _latency_ms(gpu, data, args.latency_tasks)
        row |= {
            "gpu_fit_s": round(gpu_wall, 2),
            "cpu_gpu_ratio": round(wall / gpu_wall, 2),
            "gpu_predict_ms": round(gpu_predict_ms, 2),
        }
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a markdown table (the union of their columns, in order)."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    import torch

    from autometa.meta import build_metadata
    from autometa.meta.data import training_target
    from autometa.store.knowledge import knowledge_base

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="save the rows and the machine to this file")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--latency-tasks", type=int, default=50, help="tasks timed per row")
    args = parser.parse_args()
    kb = knowledge_base()
    rows = []
    for kind in ("classification", "regression"):
        data = build_metadata(kb, "lightgbm", kind)
        data = dataclasses.replace(data, normalised=training_target(data.normalised))
        rows.append(bench_row(f"shipped {kind}", data, args))
    rows.append(bench_row("synthetic budget size", synthetic_metadata(), args))
    print(markdown(rows))
    if args.json:
        machine = {
            "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "threads": args.threads,
            "epochs": args.epochs,
        }
        with open(args.json, "w") as fh:
            json.dump({"machine": machine, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
