"""The answer's ``warnings`` and ``notes`` lines: what the recommender did to a ranking, and
why."""

from __future__ import annotations

from typing import Any

from autometa.recommendation.results import MAX_HGB_LEVELS


def saturated(auc: float, threshold: float) -> str:
    """The meta-learner put the library default first on a saturated task."""
    return (
        f"the LightGBM landmarker scores ROC AUC {auc:.3f} here (at least {threshold:g}): "
        "configurations score alike on such tasks, so the meta-learner ranks the library "
        "default first"
    )


def wide_categoricals(wide: tuple[tuple[str, int], ...]) -> str:
    """HistGradientBoosting's ``params`` cannot fit this data as it is."""
    columns = ", ".join(f"'{name}' ({levels} levels)" for name, levels in wide)
    return (
        f"HistGradientBoosting reads at most {MAX_HGB_LEVELS} levels per categorical column "
        f"and cannot fit this data as it is: {columns}; group or encode those levels first "
        "(e.g. sklearn's OrdinalEncoder(max_categories=255)) or use model lightgbm"
    )


def left_out_of_auto() -> str:
    """Appended to the algorithm selection's line when HistGradientBoosting cannot compete."""
    return (
        f"; hist_gradient_boosting left out: a categorical column has more than "
        f"{MAX_HGB_LEVELS} levels"
    )


def infeasible(n_rows: int) -> str:
    return f"skipped configurations whose minimum leaf size does not fit {n_rows} rows"


def fallback(diag: Any, margin: float, after: list[str], raced: bool) -> str:
    """The out-of-distribution guard's line; ``after``: what follows the top pick, in words
    (one entry per configuration, "robust portfolio" for unnamed members)."""
    listed = _listed(after)
    return (
        "this dataset is far from the knowledge base or the meta-models disagree "
        f"(novelty percentile {diag.novelty.percentile:.2f}, disagreement "
        f"{diag.disagreement:.3f}); favouring the library default (margin {margin:g})"
        + (f" and ranking {listed} right after the top pick" if listed and not raced else "")
    )


def sampled(n_rows: int, sample: int) -> str:
    """The meta-features other than the counts came from a row sample."""
    return (
        f"meta-features computed on a sample of {sample:,} of the {n_rows:,} rows "
        "(stratified by class; the row, missing-value and class counts on every row)"
    )


def size_scaled(n_rows: int, n_reference: int, factors: dict[str, float]) -> str:
    """The size-dependent parameters were carried beyond the largest stored tables."""
    moved = ", ".join(f"{name} x{factor:.2g}" for name, factor in factors.items())
    return (
        f"{n_rows:,} rows is beyond the knowledge base's largest tables ({n_reference:,} "
        "rows); size-dependent parameters scaled by the trend learned across table sizes "
        f"(within the search space's bounds): {moved}"
    )


def no_size_trend(n_rows: int, n_reference: int) -> str:
    """Beyond the largest stored tables, with no parameter moving with size."""
    return (
        f"{n_rows:,} rows is beyond the knowledge base's largest tables ({n_reference:,} "
        "rows); no parameter's best value moves distinguishably with the table's size "
        "there, so the configurations are as stored"
    )


def not_raced(n_rows: int, min_rows: int) -> str:
    return f"not raced: {n_rows} rows are too few to cross-validate (a race needs {min_rows})"


def fewer_than_asked(n: int, family: str, k: int) -> str:
    return (
        f"only {n} {family} configuration{'s' * (n != 1)} {'are' if n != 1 else 'is'} "
        f"feasible here (asked for {k})"
    )


def excluded(same: list[str], twins: list[str], near: Any) -> str:
    """What ``exclude_self`` left out of the knowledge base."""
    if not same and not twins:
        return (
            "exclude_self: no stored task is this dataset (none shares its fingerprint or "
            "lies at distance 0)"
        )
    parts = []
    if same:
        parts.append(f"{', '.join(same)} (same fingerprint)")
    if twins:
        names = near[near["group_key"].astype(str).isin(twins)]["name"].astype(str).unique()
        parts.append(
            f"{', '.join(twins)} (at near-zero meta-feature distance: {', '.join(names[:5])})"
        )
    return f"exclude_self: left out the stored task groups {'; '.join(parts)}"


def _listed(names: list[str]) -> str:
    """Fallback configurations in words: "robust portfolio" entries are counted."""
    plain = sum(n == "robust portfolio" for n in names)
    words = [n for n in names if n != "robust portfolio"]
    if plain:
        words.append(
            "a robust portfolio configuration"
            if plain == 1
            else f"{plain} robust portfolio configurations"
        )
    return " and ".join(words)
