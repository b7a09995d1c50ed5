"""How steady are the stack's learned level-2 choices? The blend weights and the default
margin in every outer fold of the leave-group-out benchmark (GroupKFold(10), seed 0, as
``bench_loo.py``), under each rule, from the same cross-fitted predictions and the stack's
own training target (ranks).

    python scripts/blend_spread.py [--store URL] [--kinds classification regression]

Prints each fold's choices per rule, then their mean and spread over the folds: the mean L1
distance of the weights to their mean, the mean absolute deviation of the margin (lower =
steadier).
"""

from __future__ import annotations

import sys

import numpy as np
from _kb_args import parse_kb_args

from autometa.benchmark.loo import outer_folds
from autometa.meta._level2 import BLEND_RULES, bagged_margin, choose_margin, fit_blend
from autometa.meta.data import build_metadata, training_target
from autometa.meta.stack import StackedMetaLearner


def main() -> None:
    args, kb = parse_kb_args(__doc__, "store URL (default: the shipped snapshot)")
    for kind in args.kinds:
        data = build_metadata(kb, "lightgbm", kind)
        weights: dict[str, list[np.ndarray]] = {rule: [] for rule in BLEND_RULES}
        margins: dict[str, list[float]] = {"auto": [], "bagged": []}
        for fold, (train, _) in enumerate(outer_folds(data, 10, 0)):
            stack = StackedMetaLearner().fit(data, train)
            _, calibrated = stack._score_columns()
            scores = stack.oof_features_[:, :, np.flatnonzero(calibrated)]
            Y = training_target(data.normalised, stack.target)[data.rows(train)]
            for rule in BLEND_RULES:
                weights[rule].append(fit_blend(scores, Y, rule=rule, seed=stack.seed))
            pred = stack.oof_level2_  # the shipped blend's cross-fitted scores (caution 0)
            worse = stack.max_worse_than_default
            margins["auto"].append(choose_margin(stack.margin_curve_, worse, 0.0))
            default = data.default_position
            margins["bagged"].append(bagged_margin(pred, Y, default, worse, 0.0, stack.seed))
            row = "  ".join(f"{r} {np.round(w[-1], 2)}" for r, w in weights.items())
            row += "  " + "  ".join(f"margin {r} {m[-1]:.3f}" for r, m in margins.items())
            print(f"{kind} fold {fold}: {row}", file=sys.stderr, flush=True)
        names = [m.name for m in stack.base_models_ if m.calibrated]
        print(f"\n### {kind}: blend weights ({' / '.join(names)}) over the outer folds\n")
        print("| rule | mean weights | mean L1 distance to the mean |")
        print("|---|---|---:|")
        for rule, ws in weights.items():
            w = np.array(ws)
            spread = np.abs(w - w.mean(axis=0)).sum(axis=1).mean()
            print(f"| {rule} | {np.round(w.mean(axis=0), 2)} | {spread:.3f} |")
        print(f"\n### {kind}: default margin over the outer folds\n")
        print("| rule | folds' margins | mean | mean absolute deviation |")
        print("|---|---|---:|---:|")
        for rule, ms in margins.items():
            m = np.array(ms)
            text = ", ".join(f"{v:.3g}" for v in m)
            print(f"| {rule} | {text} | {m.mean():.3f} | {np.abs(m - m.mean()).mean():.3f} |")


if __name__ == "__main__":
    main()
