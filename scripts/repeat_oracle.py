"""In-task oracle across CV repeats: how good can a top pick be with knowledge of the task?

For every stored task (synthetic tables left out, as in the benchmark), the configuration is
chosen by the first CV repeat's means (stored folds 0-2) and scored on the second repeat's
(folds 3-5), and the other way round; both directions are averaged. A default margin m
keeps the library default unless the best beats it by more than m (normalised units of the
choosing repeat). Reported: top-1 regret and its ratio to the default's, best-of-top-5 and
% of tasks where the pick scores below the default, all on the scoring repeat. Only stored
scores are read (a few seconds).

    python scripts/repeat_oracle.py [--store URL] [--kinds ...]
"""

from __future__ import annotations

import numpy as np
from _kb_args import parse_kb_args

from autometa.benchmark.loo import scored_task_ids
from autometa.benchmark.noise import fold_matrices
from autometa.meta._base import pick_regrets
from autometa.meta.data import build_metadata, minmax_rows

MARGINS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)


def main() -> None:
    args, kb = parse_kb_args(__doc__, "store URL (default: the shipped snapshot)")
    for kind in args.kinds:
        data = build_metadata(kb, "lightgbm", kind)
        ids = scored_task_ids(data, "^synthetic/")
        cube = fold_matrices(kb, data, ids)
        folds = sorted(cube)
        if len(folds) < 6:
            raise SystemExit(f"{kind}: needs two CV repeats (6 stored folds), found {folds}")
        first = np.mean([cube[f] for f in folds[:3]], axis=0)
        second = np.mean([cube[f] for f in folds[3:6]], axis=0)
        d = data.default_position
        print(f"\n### {kind} ({len(ids)} tasks)\n")
        print("| margin | top-1 regret | vs default | best-of-top-5 | % worse than default |")
        print("|---:|---:|---:|---:|---:|")
        for m in MARGINS:
            rows = []
            for choose, score in ((first, second), (second, first)):
                nc, okc = minmax_rows(choose)
                ns, oks = minmax_rows(score)
                key = nc.copy()
                key[:, d] += m
                ok = okc & oks
                r = pick_regrets(np.where(np.isnan(key), -np.inf, key)[ok], ns[ok], d)
                rows.append((r["top1"].mean(), 1 - ns[ok][:, d].mean(), r["topk"].mean(),
                             100 * np.nanmean(r["worse"])))  # fmt: skip
            top1, default, top5, worse = np.mean(rows, axis=0)
            print(f"| {m:.2f} | {top1:.4f} | {top1 / default:.2f} | {top5:.4f} | {worse:.1f} |")


if __name__ == "__main__":
    main()
