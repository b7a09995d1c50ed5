"""Do the meta-features share fold noise with the stored scores they are judged on?

The LightGBM landmarkers are cross-validated on the same seeded 3-fold splits as the first
CV repeat of every stored evaluation (seed 0), so a task's meta-features and its repeat-0
scores share split luck; the second repeat (seed 1) shares none. For each outer fold of the
leave-group-out benchmark (GroupKFold(10), seed 0, synthetic tables unscored) the default
stack is fitted three times on the same training tasks, on the scores of repeat 0, of
repeat 1 and of both, and each ranking is scored on each of the three sticks. Only tasks
with distinct scores in all three views take part (training and scoring).

    python scripts/split_coupling.py [--store URL] [--kinds classification regression]
"""

from __future__ import annotations

import numpy as np
from _kb_args import parse_kb_args
from _repeats import fit_and_score, print_grid, print_paired, repeat_view

from autometa.benchmark.loo import scored_task_ids
from autometa.meta.data import build_metadata


def main() -> None:
    args, kb = parse_kb_args(__doc__, "store URL holding both repeats (default: shipped)")
    views = {"repeat 0": 0, "repeat 1": 1, "both repeats": None}
    for kind in args.kinds:
        data = {k: build_metadata(repeat_view(kb, r), "lightgbm", kind) for k, r in views.items()}
        common = data["repeat 0"].task_ids
        for d in data.values():
            common = np.intersect1d(common, d.task_ids)
        scored = np.intersect1d(scored_task_ids(data["repeat 0"], "^synthetic/"), common)
        res = fit_and_score(data, data["repeat 0"], common)
        res = res[res["task_id"].isin(scored)]
        print(f"\n### {kind} ({len(scored)} scored tasks)\n")
        print_grid(res)
        print_paired(res, "repeat 0", ("repeat 1", "both repeats"))


if __name__ == "__main__":
    main()
