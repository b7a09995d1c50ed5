"""The OpenML harvest: tasks, qualities, translated setups and per-fold evaluations."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autometa.exceptions import HarvestError
from autometa.harvest.openml._client import Client, NoResult
from autometa.harvest.openml._inferred import SPACE_VERSION, openml_family, raw_configuration
from autometa.harvest.openml._tasks import OpenMLTask
from autometa.harvest.openml._translate import (
    Untranslatable,
    estimator_parameters,
    match_flow,
    translate,
)

if TYPE_CHECKING:
    import pandas as pd

    from autometa.store.sql import Store

#: OpenML evaluation function -> autometa metric.
FUNCTIONS: dict[str, str] = {
    "area_under_roc_curve": "roc_auc",
    "predictive_accuracy": "accuracy",
    "root_mean_squared_error": "rmse",
    "mean_absolute_error": "mae",
}
#: The function harvested for a task kind when none is given (autometa's default metrics).
DEFAULT_FUNCTIONS = {
    "classification": "area_under_roc_curve",
    "regression": "root_mean_squared_error",
}
#: OpenML's largest evaluation page.
PAGE_SIZE = 10_000
#: Setup ids per setup listing (openml-python's own chunk; keeps the URL short).
SETUP_CHUNK = 100
#: The fold of a run OpenML reports only as a whole (no per-fold scores).
WHOLE_RUN_FOLD = -1


@dataclass
class OpenMLSummary:
    """What one OpenML harvest added and left out."""

    tasks_added: int = 0
    tasks_stored: int = 0
    tasks_skipped: int = 0
    evaluations_added: int = 0
    evaluations_known: int = 0
    runs: int = 0
    setups_translated: int = 0
    setups_clipped: int = 0
    setups_skipped: int = 0
    setups_own_family: int = 0
    unmapped_flows: Counter[str] = field(default_factory=Counter)
    requests_retried: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts."""
        out = dict(vars(self))
        out["unmapped_flows"] = dict(self.unmapped_flows)
        return out


@dataclass
class _Setups:
    """Setup id -> (family, configuration id), or None when the setup was skipped."""

    store: Store
    client: Client
    summary: OpenMLSummary
    known: dict[tuple[int, int], int | None] = field(default_factory=dict)

    def resolve(self, page: pd.DataFrame, task: OpenMLTask) -> None:
        """Fetch and translate the page's setups not seen yet for this task's type."""
        import openml

        missing = sorted(
            {int(s) for s in page["setup_id"]} - {s for s, t in self.known if t == task.task_id}
        )
        for start in range(0, len(missing), SETUP_CHUNK):
            chunk = missing[start : start + SETUP_CHUNK]
            setups = self.client.call(
                f"setups {chunk[0]}..{chunk[-1]}",
                openml.setups.list_setups,
                setup=chunk,
                output_format="object",
            )
            names = dict(zip(page["setup_id"].astype(int), page["flow_name"], strict=False))
            for setup_id in chunk:
                setup = setups.get(setup_id)
                self.known[setup_id, task.task_id] = self._store(setup, names[setup_id], task)

    def _store(self, setup: Any, flow_name: str, task: OpenMLTask) -> int | None:
        from autometa.spaces import get_space

        match = match_flow(flow_name)
        if setup is None:
            return None
        triples = [
            (p.flow_name, p.parameter_name, p.value) for p in (setup.parameters or {}).values()
        ]
        if match is None:
            return self._store_own(triples, flow_name)
        try:
            config, clipped = translate(
                match.family,
                estimator_parameters(triples, match.estimator),
                task.task_type,
                task.n_features,
            )
        except Untranslatable:
            self.summary.setups_skipped += 1
            return None
        self.summary.setups_clipped += int(clipped)
        space = get_space(match.family)
        self.summary.setups_translated += 1
        return self.store.add_configuration(
            match.family, config, space.version, space.config_hash(config)
        )

    def _store_own(self, triples: list[tuple[str, str, Any]], flow_name: str) -> int:
        """A setup of a flow without a family, as a configuration of ``openml:<class>``."""
        from autometa.spaces import generic_config_hash

        family = openml_family(flow_name)
        config = raw_configuration(triples, flow_name)
        self.summary.setups_own_family += 1
        return self.store.add_configuration(
            family, config, SPACE_VERSION, generic_config_hash(family, config)
        )


def _rows(row: Any, task: OpenMLTask, config_id: int, metric: str) -> list[Any]:
    from autometa.store import EvaluationRecord

    note = (
        f"openml run {int(row['run_id'])} setup {int(row['setup_id'])} flow {int(row['flow_id'])}"
    )
    values = row.get("values")
    if isinstance(values, list) and values and all(isinstance(r, list) for r in values):
        folds = [
            (r * len(repeat) + k, v)
            for r, repeat in enumerate(values)
            for k, v in enumerate(repeat)
        ]
    else:
        folds = [(WHOLE_RUN_FOLD, row.get("value"))]
    return [
        EvaluationRecord(
            task_id=task.task_id,
            config_id=config_id,
            fold=fold,
            metric=metric,
            value=None if value is None else float(value),
            status="ok" if value is not None and math.isfinite(float(value)) else "error",
            message=note,
            source="openml",
        )
        for fold, value in folds
    ]


@dataclass
class _Job:
    """One harvest's settings and running state."""

    store: Store
    client: Client
    setups: _Setups
    summary: OpenMLSummary
    flows: list[int] | None
    function: str | None
    page_size: int
    budget: float
    progress: Any = None
    download: bool = False  # --download-data: tasks typed and described from their data

    def task(self, task: OpenMLTask) -> None:
        """Page through the task's evaluations; each page is stored in one transaction."""
        kind = "regression" if task.task_type == "regression" else "classification"
        function = self.function or DEFAULT_FUNCTIONS[kind]
        what = f"evaluations of task {task.openml_task_id}"
        for page in self._pages(what, function, [task.openml_task_id]):
            self._page(page, task, FUNCTIONS[function])

    def flows_everywhere(self, tasks: Callable[[int], OpenMLTask | None]) -> None:
        """Page through the evaluations of the flows on every task OpenML lists (with each
        default function unless one is given); ``tasks`` gives the stored task of an
        OpenML task id, registering it when new, or None to skip it."""
        functions = [self.function] if self.function else list(DEFAULT_FUNCTIONS.values())
        for function in functions:
            for page in self._pages(f"evaluations of flows {self.flows}", function, None):
                for openml_id, rows in page.groupby("task_id", sort=False):
                    task = tasks(int(openml_id))
                    if task is None:
                        self.summary.runs += len(rows)
                    else:
                        self._page(rows, task, FUNCTIONS[function])
                if self.progress is not None:
                    self.progress.update(len(page))

    def _pages(
        self, what: str, function: str, task_ids: list[int] | None
    ) -> Iterator[pd.DataFrame]:
        """Pages of evaluations (at most ``page_size`` runs) until none is left or the
        budget of runs is spent."""
        import openml

        offset = 0
        while self.budget > 0:
            size = int(min(self.page_size, self.budget))
            try:
                page = self.client.call(
                    f"{what} (offset {offset})",
                    openml.evaluations.list_evaluations,
                    function,
                    offset=offset,
                    size=size,
                    tasks=task_ids,
                    flows=self.flows,
                    per_fold=True,
                    sort_order="asc",
                    output_format="dataframe",
                )
            except NoResult:
                return
            if len(page) == 0:
                return
            self.budget -= len(page)
            offset += len(page)
            yield page
            if len(page) < size:
                return

    def _page(self, page: pd.DataFrame, task: OpenMLTask, metric: str) -> None:
        for name in page["flow_name"]:
            if match_flow(name) is None:
                self.summary.unmapped_flows[name] += 1
        if len(page):
            self.setups.resolve(page, task)
        rows = []
        for _, row in page.iterrows():
            config_id = self.setups.known.get((int(row["setup_id"]), task.task_id))
            if config_id is not None:
                rows.extend(_rows(row, task, config_id, metric))
        added = self.store.add_evaluations(rows)
        self.summary.runs += len(page)
        self.summary.evaluations_added += added
        self.summary.evaluations_known += len(rows) - added
        if self.progress is not None:
            self.progress.set_postfix(added=self.summary.evaluations_added, refresh=False)


def resolve_flows(client: Client, flows: Iterable[int | str]) -> list[int]:
    """Flow ids for ids and names (a name stands for every version of the flow)."""
    ids = [int(f) for f in flows if isinstance(f, int) or str(f).isdigit()]
    names = [str(f) for f in flows if not (isinstance(f, int) or str(f).isdigit())]
    if names:
        import openml

        listing = client.call("flow list", openml.flows.list_flows, output_format="dataframe")
        for name in names:
            found = listing.loc[listing["name"] == name, "id"].astype(int).tolist()
            if not found:
                raise HarvestError(f"no flow named {name!r} on {client.server}")
            ids.extend(found)
    return sorted(set(ids))


def resolve_tasks(client: Client, tasks: Iterable[int], suite: int | str | None) -> list[int]:
    """The task ids asked for: ``tasks`` plus the tasks of ``suite`` (id or alias)."""
    ids = [int(t) for t in tasks]
    if suite is not None:
        import openml

        found = client.call(f"suite {suite}", openml.study.get_suite, suite)
        ids.extend(int(t) for t in found.tasks or ())
    return list(dict.fromkeys(ids))
