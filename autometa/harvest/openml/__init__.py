"""Harvest prior evaluations from OpenML with openml-python: ``harvest_openml``.

Flows that map to a family (:data:`FLOW_FAMILIES`) give configurations; other flows give
configurations of families of their own (``openml:<class>``, :func:`inferred_space`);
OpenML's data qualities become meta-features; evaluations are stored per fold. See
docs/openml.md.
"""

from __future__ import annotations

from autometa.harvest.openml._harvest import (
    DEFAULT_FUNCTIONS,
    FUNCTIONS,
    PAGE_SIZE,
    WHOLE_RUN_FOLD,
    OpenMLSummary,
)
from autometa.harvest.openml._inferred import (
    FAMILY_PREFIX,
    inferred_space,
    inferred_spaces,
    openml_family,
)
from autometa.harvest.openml._run import check_function, harvest_openml
from autometa.harvest.openml._translate import FLOW_FAMILIES, match_flow, translate

__all__ = [
    "DEFAULT_FUNCTIONS",
    "FAMILY_PREFIX",
    "FLOW_FAMILIES",
    "FUNCTIONS",
    "PAGE_SIZE",
    "WHOLE_RUN_FOLD",
    "OpenMLSummary",
    "check_function",
    "harvest_openml",
    "inferred_space",
    "inferred_spaces",
    "match_flow",
    "openml_family",
    "translate",
]
