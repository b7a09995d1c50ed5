"""The ranking steps of a recommendation, in the order they run.

Each step takes the ranking so far (a frame of ``config_id``, ``score`` and the stack's
columns, best first) and returns it with the note that says what the step did (``None``
when it did nothing); the note is written where the decision is made.

1. :func:`meta_ranking`: the stack's ranking, with the saturation gate's note, re-ranked
   with the cautious margin when the out-of-distribution guard trips;
2. :func:`drop_infeasible`: configurations whose leaves this many rows cannot fill go;
3. :func:`fallback_order`: on a guarded task, the library default and the robust
   portfolio right after the top pick;
4. :func:`race`: the first N and the default cross-validated on the data itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.metrics import METRIC_DIRECTION
from autometa.recommendation import notes
from autometa.recommendation.request import Request, feasible

Step = tuple[pd.DataFrame, str | None]
Sample = tuple[pd.DataFrame, pd.Series]


def meta_ranking(
    stack: Any, metafeatures: pd.Series, default_margin: float | None
) -> tuple[pd.DataFrame, Any, float | None, str | None]:
    """The stack's ranking (its base models run once), its diagnostics, the guard's margin
    (None unless the guard tripped) and the saturation gate's note."""
    from autometa.meta._fallback import guard_margin
    from autometa.meta.stack import SATURATION_FEATURE

    feats = stack.level2_features(metafeatures)
    ranking = stack.rank(metafeatures, default_margin=default_margin, features=feats)
    diag = stack.diagnose(metafeatures, n_neighbours=10, ranking=ranking)
    note = None
    if stack.saturated(metafeatures)[0]:
        note = notes.saturated(metafeatures[SATURATION_FEATURE], stack.saturation)
    margin = None
    if diag.fallback:  # towards the library default: at least the cautious margin
        margin = guard_margin(stack.default_margin_, default_margin)
        ranking = stack.rank(metafeatures, default_margin=margin, features=feats)
    return ranking[ranking["config_id"] >= 0], diag, margin, note


def drop_infeasible(ranking: pd.DataFrame, family: str, configs: pd.DataFrame, n_rows: int) -> Step:
    """``ranking`` without the configurations whose minimum leaf size ``n_rows`` rows
    cannot fill."""
    mask = [feasible(family, configs.loc[c, "params"], n_rows) for c in ranking["config_id"]]
    if all(mask):
        return ranking, None
    return ranking[mask], notes.infeasible(n_rows)


def fallback_order(
    ranking: pd.DataFrame,
    stack: Any,
    metafeatures: pd.Series,
    diag: Any,
    margin: float,
    default_id: int | None,
    raced: bool,
) -> tuple[pd.DataFrame, str, set[int]]:
    """On a task the guard flagged: the robust configurations (library default, robust
    portfolio) moved right after the top pick, the note, and the ids it offered."""
    from autometa.meta._fallback import offered_fallback, soft_fallback

    order = stack.fallback_order(metafeatures)
    ids = [int(c) for c in ranking["config_id"]]
    new = soft_fallback(ids, order)
    safe = set(offered_fallback(ids, order))
    first = next((c for c in order if c != default_id), None)
    names = {first: "the robust portfolio's first configuration"}
    names[default_id] = "the library default"
    after = [names.get(c, "robust portfolio") for c in new[1:] if c in safe]
    return in_order(ranking, new), notes.fallback(diag, margin, after, raced=raced), safe


def race(
    ranking: pd.DataFrame,
    request: Request,
    sample: Sample | None,
    *,
    default_id: int | None,
    task_type: str,
    configs: pd.DataFrame,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, str | None, dict[int, float | None]]:
    """``ranking`` with its first ``request.race`` rows and the default re-ordered by a
    race on ``sample`` (none without a sample or on too few rows), the note, the scores."""
    from autometa.recommendation.race import MIN_ROWS, race_note, race_scores, run_race

    if not request.race or sample is None:
        return ranking, None, {}
    if len(sample[0]) < MIN_ROWS:
        return ranking, notes.not_raced(len(sample[0]), MIN_ROWS), {}
    family, metric = request.family, request.metric

    def score(raced: list[int]) -> dict[int, float | None]:
        chosen = {c: configs.loc[c, "params"] for c in raced}
        if progress is None:
            return race_scores(sample, task_type, family, chosen, metric)
        progress(
            f"racing {len(raced)} configuration{'s' * (len(raced) != 1)} on "
            f"{len(sample[0]):,} rows of the data"
        )
        with _fit_bar() as on_fit:
            return race_scores(sample, task_type, family, chosen, metric, on_fit=on_fit)

    ids = [int(c) for c in ranking["config_id"]]
    order, scores = run_race(ids, request.race, default_id, score, METRIC_DIRECTION[metric])
    note = race_note(scores, request.race, metric, sample, task_type)
    return in_order(ranking, order), note, scores


def select_family(
    neighbours: pd.DataFrame,
    families: list[str],
    metadata_of: Callable[[str], Any],
) -> tuple[str, str]:
    """Algorithm selection: the family whose best configurations did best on the
    ``neighbours`` (nearest stored tasks; scores normalised per task across families),
    and the note that says so."""
    best: dict[str, pd.Series] = {}
    for family in families:
        try:
            data = metadata_of(family)
        except MetaModelError:
            continue
        raw = pd.DataFrame(data.scores, index=data.task_ids).reindex(neighbours["task_id"])
        best[family] = raw.max(axis=1) if data.direction > 0 else -raw.min(axis=1)
    table = pd.DataFrame(best).dropna()
    if table.empty:
        return "lightgbm", "model auto: too few shared evaluations; chose lightgbm"
    span = (table.max(axis=1) - table.min(axis=1)).replace(0, 1.0)
    relative = table.sub(table.min(axis=1), axis=0).div(span, axis=0).mean()
    family = str(relative.idxmax())
    return family, (
        f"model auto: chose {family} (best on the {len(table)} nearest stored tasks; "
        + ", ".join(f"{f} {v:.2f}" for f, v in relative.sort_values().items())
        + ")"
    )


def in_order(ranking: pd.DataFrame, config_ids: list[int]) -> pd.DataFrame:
    """The rows of ``ranking`` re-ordered by config id (every id once)."""
    return (
        ranking.set_index(ranking["config_id"].astype(int)).loc[config_ids].reset_index(drop=True)
    )


#: A stored task is the same dataset when its meta-feature distance is below this share of
#: the median distance from a stored task to its nearest one of another group (2.40 for
#: LightGBM classification; the closest two such tasks are 0.97 apart, 0.41 of it). The
#: same table with its rows shuffled and columns renamed lies at 0.08 of it, a 500-row
#: sample of breast cancer's 569 at 0.14.
NEAR_ZERO = 0.2


def near_duplicates(stack: Any, metafeatures: pd.DataFrame) -> pd.DataFrame:
    """Stored tasks at (near) zero meta-feature distance from this dataset (task_id,
    name, group_key, distance), by the stack's nearest-task model."""
    knn = stack.novelty_model_
    near = knn.neighbours(metafeatures, 10)
    scale = max(float(np.median(knn.reference_)), 1e-12)
    return near[near["distance"] <= NEAR_ZERO * scale]


def source(config_id: int, default_id: int | None, safe: set[int] | Mapping[int, Any]) -> str:
    """Where a recommendation comes from: the default, the robust portfolio or the stack."""
    if config_id == default_id:
        return "default"
    return "portfolio" if config_id in safe else "stack"


@contextmanager
def _fit_bar() -> Iterator[Callable[[int, int], None]]:
    """A progress bar of the race's fits on stderr (on a terminal, after half a second)."""
    from tqdm.auto import tqdm

    with tqdm(desc="race", unit="fit", leave=False, disable=None, delay=0.5) as bar:

        def on_fit(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield on_fit
