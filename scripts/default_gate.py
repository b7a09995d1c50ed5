"""Does a learned gate beat the constant default margin? (exploratory)

The stack's top pick is replaced by the library default when a logistic regression, trained
on the training tasks' cross-fitted level-2 predictions, says the pick is likely worse than
the default (features: the predicted gap, both base-model disagreements, both predicted
scores, the gap over the disagreements). Same outer folds as ``bench_loo.py``
(GroupKFold(10), seed 0, synthetic tables unscored); prints top-1 regret and % of tasks worse
than the default for constant margins and for gate thresholds.

    python scripts/default_gate.py classification
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _kb_args import add_kind
from sklearn.linear_model import LogisticRegression

from autometa.benchmark.loo import outer_folds, scored_task_ids
from autometa.meta.data import build_metadata
from autometa.meta.stack import StackedMetaLearner
from autometa.store.knowledge import knowledge_base

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
add_kind(parser)
kind = parser.parse_args().kind
kb = knowledge_base(user=False)
data = build_metadata(kb, "lightgbm", kind, None)
scored = set(scored_task_ids(data, "^synthetic/"))
d = data.default_position


def gate_features(
    score: np.ndarray, unc: np.ndarray, Y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gate inputs per task and the top pick (over the evaluated candidates)."""
    s = np.where(np.isnan(Y), -np.inf, score)
    top = np.argmax(s, axis=1)
    r = np.arange(len(Y))
    gap = score[r, top] - score[:, d]
    ut = np.nan_to_num(unc[r, top])
    ud = np.nan_to_num(unc[:, d])
    F = np.column_stack([gap, ut, ud, score[:, d], score[r, top], gap / (ut + ud + 1e-3)])
    return F, top


rows = []
for fold, (train, test) in enumerate(outer_folds(data, 10, 0)):
    st = StackedMetaLearner().fit(data, train)
    Ytr = data.normalised[data.rows(train)]
    unc_tr = st._disagreement(st.oof_features_)
    Ftr, toptr = gate_features(st.oof_level2_, unc_tr, Ytr)
    ok = np.isfinite(Ytr[:, d])
    lab = Ytr[np.arange(len(Ytr)), toptr] < Ytr[:, d] - 1e-12
    gate = LogisticRegression(C=1.0, max_iter=1000).fit(Ftr[ok], lab[ok])
    mf = data.metafeatures.loc[test]
    out = st.predict_batch(mf, default_margin=0.0)
    Yte = data.normalised[data.rows(test)]
    Fte, topte = gate_features(out["score"], out["uncertainty"], Yte)
    p = gate.predict_proba(Fte)[:, 1]
    for i, tid in enumerate(test):
        rows.append(
            {
                "task_id": tid,
                "fold": fold,
                "p": p[i],
                "gap": Fte[i, 0],
                "y_top": Yte[i, topte[i]],
                "y_def": Yte[i, d],
            }
        )
    print("fold", fold, flush=True)

r = pd.DataFrame(rows)
r = r[r["task_id"].isin(scored) & r["y_def"].notna()]


def curve(pick_default: np.ndarray) -> tuple[float, float]:
    y = np.where(pick_default, r["y_def"], r["y_top"])
    return 1 - y.mean(), 100 * (y < r["y_def"] - 1e-12).mean()


print("default regret", 1 - r["y_def"].mean())
for m in (0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3):
    print("margin", m, "{:.4f} {:.1f}".format(*curve(r["gap"] < m)))
for q in (0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1):
    print("gate p>", q, "{:.4f} {:.1f}".format(*curve(r["p"] > q)))
