"""The package's shape: public names import, stages depend only on earlier stages, no import
cycle, modules and functions small enough to read in one sitting, and the README's Python
snippets run as written."""

from __future__ import annotations

import ast
import importlib
import os
import re
from pathlib import Path
from typing import Any

import lightgbm
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autometa"
#: The stages of the data flow, bottom first: a stage may import only earlier ones.
LAYERS = [
    {"exceptions"},
    {"metrics"},
    {"data", "spaces", "store", "metafeatures"},
    {"harvest"},
    {"meta"},
    {"recommendation"},
    {"optuna"},  # the warm-started search
    {"sklearn"},  # estimators that choose their own hyperparameters, MetaSearchCV
    {"benchmark"},
    {"cli", "__main__"},
]
PUBLIC_PACKAGES = [
    "autometa",
    "autometa.data",
    "autometa.metafeatures",
    "autometa.spaces",
    "autometa.store",
    "autometa.harvest",
    "autometa.meta",
    "autometa.recommendation",
    "autometa.optuna",
    "autometa.benchmark",
    "autometa.benchmark.live",
]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _imports(tree: ast.AST, top_level_only: bool) -> set[str]:
    """autometa modules named by the imports of ``tree`` (module level: not in functions
    or ``if TYPE_CHECKING`` blocks)."""
    found: set[str] = set()
    nodes = _top_level(tree) if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {n for n in found if n.startswith("autometa.")}


def _top_level(tree: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        out.append(node)
        out += _top_level(node)
    return out


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_every_public_name_imports(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, package
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_top_level_public_api_is_unchanged() -> None:
    import autometa

    assert set(autometa.__all__) == {
        "AutometaError", "DataError", "Dataset", "HarvestError", "MetaModelError",
        "RecommendationResult", "Recommender", "SchemaVersionError", "SpaceError",
        "StoreError", "__version__", "compute_metafeatures", "get_space", "harvest_local",
        "load_dataset", "open_store", "recommend",
    }  # fmt: skip
    assert callable(autometa.recommend)  # not shadowed by a subpackage of the same name


def test_moved_benchmark_names_still_resolve_from_meta_with_a_warning() -> None:
    import autometa.benchmark
    import autometa.meta

    with pytest.warns(DeprecationWarning, match="autometa.benchmark.benchmark_loo"):
        assert autometa.meta.benchmark_loo is autometa.benchmark.benchmark_loo


def test_stages_import_only_earlier_stages() -> None:
    layer = {stage: i for i, stages in enumerate(LAYERS) for stage in stages}
    upward = []
    for name, tree in _modules().items():
        own = _stage(name)
        if own == "__init__":
            continue
        for target in _imports(tree, top_level_only=False):
            other = _stage(target)
            if other in layer and other != own and layer[other] > layer[own]:
                upward.append(f"{name} imports {target}")
    assert upward == []


def test_no_import_cycle_between_modules() -> None:
    modules = _modules()
    graph = {
        name: {t if t in modules else t.rsplit(".", 1)[0] for t in _imports(tree, True)}
        & set(modules)
        for name, tree in modules.items()
    }
    for name in graph:  # a package's __init__ runs before its submodules: not an edge back
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_modules_and_functions_are_small() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    assert too_long == []


def _readme_snippets() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_readme_python_snippets_run_as_written(tmp_path: Path) -> None:
    """Every ```python block of the README, in order, in one namespace: they need nothing
    the README does not make (the quick start loads scikit-learn's diabetes table)."""
    snippets = _readme_snippets()
    assert len(snippets) >= 6
    namespace: dict[str, Any] = {"__name__": "readme"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        results = []  # the `result` each snippet leaves
        for snippet in snippets:
            exec(compile(snippet, "README.md", "exec"), namespace)
            results.append(namespace.get("result"))
    finally:
        os.chdir(cwd)
    rmse, X, y = namespace["rmse"], namespace["X"], namespace["y"]
    best = results[0].best.params
    assert {"n_jobs", "verbosity"}.isdisjoint(best)
    defaults = rmse(lightgbm.LGBMRegressor(verbosity=-1))
    assert rmse(lightgbm.LGBMRegressor(**best, verbosity=-1)) < defaults  # what it prints
    assert namespace["model"].booster_.num_trees() > 0  # fitted on the typed table
    assert namespace["ds"].task_type == "regression"
    queued = next(i for i, text in enumerate(snippets) if "result.enqueue(study)" in text)
    study, result = namespace["study"], results[queued]
    assert len(study.trials) == 20  # the first asks take the queued recommendations
    assert [t.params for t in study.trials[:5]] == [r.config for r in result.recommendations]
    assert all(t.value is not None and t.value > 0 for t in study.trials)  # RMSE values
    meta = namespace["meta_study"]  # MetaSampler: the recommendations, then adaptation
    started = next(i for i, text in enumerate(snippets) if "meta_sampler(" in text)
    assert [t.params for t in meta.trials[:5]] == [
        r.config for r in results[started].recommendations
    ]
    assert len({tuple(sorted(t.params.items())) for t in meta.trials}) == 10
    assert namespace["reg"].predict(namespace["new_rows"]).shape == (1,)  # raw rows
    assert len(namespace["scores"]) == 3 and min(namespace["scores"]) > 0.2  # R^2
    assert len(namespace["search"].cv_results_["params"]) == 5
    assert len(X) == len(y) == 442
