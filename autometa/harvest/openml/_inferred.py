"""Flows without an autometa family: stored as families of their own, ``openml:<class>``.

Their configurations are the estimator's parameters as OpenML gives them (JSON values
parsed), hashed by :func:`autometa.spaces.generic_config_hash`; their space is inferred on
demand from the stored configurations (:func:`inferred_space`), so no table holds it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pandas as pd

from autometa.harvest.openml._translate import estimator_parameters, parse_value

#: Prefix of the families of flows without an autometa family.
FAMILY_PREFIX = "openml:"
#: The store's ``configurations.family`` column length.
FAMILY_LENGTH = 64
#: ``space_version`` of configurations of such families (no space, no version).
SPACE_VERSION = "openml"
_CLASS = re.compile(r"[A-Za-z_][\w.]*")


class _Configurations(Protocol):
    def configurations_frame(self, family: str | None = None) -> pd.DataFrame: ...


def estimator_class(flow_name: str) -> str:
    """The class that ends an OpenML flow name (a pipeline's last step), e.g. ``SVC``."""
    names = [n.rsplit(".", 1)[-1] for n in _CLASS.findall(flow_name)]
    return names[-1] if names else flow_name


def openml_family(flow_name: str) -> str:
    """``openml:<class name>``; over 64 characters, cut with a stable 8-hex suffix of the
    full flow name."""
    family = FAMILY_PREFIX + estimator_class(flow_name)
    if len(family) <= FAMILY_LENGTH:
        return family
    suffix = hashlib.sha256(flow_name.encode("utf-8")).hexdigest()[:8]
    return f"{family[: FAMILY_LENGTH - 9]}-{suffix}"


def _raw_value(text: Any) -> Any:
    """A parameter value parsed from JSON where it is finite JSON, else the text."""
    value = parse_value(text)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return text if isinstance(text, str) else str(text)
    return value


def raw_configuration(parameters: Iterable[tuple[str, str, Any]], flow_name: str) -> dict[str, Any]:
    """The estimator's parameters of (flow name, name, value) triples, values parsed."""
    own = estimator_parameters(parameters, estimator_class(flow_name))
    return {name: _raw_value(value) for name, value in own.items()}


def _describe(values: list[Any]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    out: dict[str, Any]
    if present and all(isinstance(v, bool) for v in present):
        out = {"type": "bool", "values": sorted(set(present))}
    elif present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        kind = "int" if all(isinstance(v, int) for v in present) else "float"
        out = {"type": kind, "min": min(present), "max": max(present)}
    else:
        texts = sorted({json.dumps(v, sort_keys=True) for v in present})
        out = {"type": "categorical", "values": [json.loads(t) for t in texts]}
    out["nullable"] = len(present) < len(values)
    return out


def inferred_space(source: _Configurations, family: str) -> dict[str, dict[str, Any]]:
    """Per parameter of ``family``'s stored configurations (a store, snapshot or knowledge
    base): its type and min/max (numbers) or the values seen; ``nullable`` when a
    configuration has it None or lacks it."""
    params = list(source.configurations_frame(family)["params"])
    names = sorted({name for p in params for name in _mapping(p)})
    return {name: _describe([_mapping(p).get(name) for p in params]) for name in names}


def inferred_spaces(source: _Configurations) -> dict[str, dict[str, dict[str, Any]]]:
    """:func:`inferred_space` of each stored family without an autometa space."""
    from autometa.spaces import has_space

    families = sorted(set(source.configurations_frame()["family"]))
    return {f: inferred_space(source, f) for f in families if not has_space(f)}


def _mapping(params: Any) -> Mapping[str, Any]:
    return json.loads(params) if isinstance(params, str) else params


__all__ = [
    "FAMILY_PREFIX",
    "SPACE_VERSION",
    "estimator_class",
    "inferred_space",
    "inferred_spaces",
    "openml_family",
    "raw_configuration",
]
