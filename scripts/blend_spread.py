"""How steady is the stack's level-2 blend? Its weights in every outer fold of the
leave-group-out benchmark (GroupKFold(10), seed 0, as ``bench_loo.py``), under each blend
rule, from the same out-of-fold base predictions.

    python scripts/blend_spread.py [--store URL] [--kinds classification regression]

Prints each fold's weights per rule and the mean L1 distance of the folds' weights to their
mean (lower = steadier).
"""

from __future__ import annotations

import sys

import numpy as np
from _kb_args import parse_kb_args

from autometa.meta._level2 import BLEND_RULES, fit_blend
from autometa.meta.data import build_metadata
from autometa.meta.evaluation import outer_folds
from autometa.meta.stack import StackedMetaLearner


def main() -> None:
    args, kb = parse_kb_args(__doc__, "store URL (default: the shipped snapshot)")
    for kind in args.kinds:
        data = build_metadata(kb, "lightgbm", kind)
        weights: dict[str, list[np.ndarray]] = {rule: [] for rule in BLEND_RULES}
        for fold, (train, _) in enumerate(outer_folds(data, 10, 0)):
            stack = StackedMetaLearner().fit(data, train)
            _, calibrated = stack._score_columns()
            scores = stack.oof_features_[:, :, np.flatnonzero(calibrated)]
            Y = data.normalised[data.rows(train)]
            for rule in BLEND_RULES:
                weights[rule].append(fit_blend(scores, Y, rule=rule))
            row = "  ".join(f"{r} {np.round(w[-1], 1)}" for r, w in weights.items())
            print(f"{kind} fold {fold}: {row}", file=sys.stderr, flush=True)
        names = [m.name for m in stack.base_models_ if m.calibrated]
        print(f"\n### {kind}: blend weights ({' / '.join(names)}) over the outer folds\n")
        print("| rule | mean weights | mean L1 distance to the mean |")
        print("|---|---|---:|")
        for rule, ws in weights.items():
            w = np.array(ws)
            spread = np.abs(w - w.mean(axis=0)).sum(axis=1).mean()
            print(f"| {rule} | {np.round(w.mean(axis=0), 2)} | {spread:.3f} |")


if __name__ == "__main__":
    main()
