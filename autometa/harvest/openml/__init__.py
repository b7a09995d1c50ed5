"""Harvest prior evaluations from OpenML with openml-python: ``harvest_openml``.

Flows that map to a family (:data:`FLOW_FAMILIES`) give configurations; OpenML's data
qualities become meta-features; evaluations are stored per fold. See docs/openml.md.
"""

from __future__ import annotations

from autometa.harvest.openml._harvest import (
    DEFAULT_FUNCTIONS,
    FUNCTIONS,
    PAGE_SIZE,
    WHOLE_RUN_FOLD,
    OpenMLSummary,
)
from autometa.harvest.openml._run import check_function, harvest_openml
from autometa.harvest.openml._translate import FLOW_FAMILIES, match_flow, translate

__all__ = [
    "DEFAULT_FUNCTIONS",
    "FLOW_FAMILIES",
    "FUNCTIONS",
    "PAGE_SIZE",
    "WHOLE_RUN_FOLD",
    "OpenMLSummary",
    "check_function",
    "harvest_openml",
    "match_flow",
    "translate",
]
