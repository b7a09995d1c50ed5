"""Value-level helpers shared by all spaces: coercion, unit-cube mapping, encoding, text."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from autometa.exceptions import SpaceError

#: Significant digits kept for floats produced by ``design`` (readable, stays in range).
DESIGN_DIGITS = 6
#: Significant digits kept for floats in ``canonical`` (hash-stable across float noise).
CANONICAL_DIGITS = 10
_REL_TOL = 1e-9
_NONE_STRINGS = frozenset({"none", "null"})
_BOOL_STRINGS = {"true": True, "false": False}


def describe(dist: BaseDistribution) -> str:
    """Human-readable range of a distribution, used in error messages and docs."""
    if isinstance(dist, CategoricalDistribution):
        return "one of " + ", ".join(repr(c) for c in dist.choices)
    kind = "integer" if isinstance(dist, IntDistribution) else "float"
    scale = ", log scale" if dist.log else ""
    return f"{kind} in [{dist.low:g}, {dist.high:g}]{scale}"


def round_sig(value: float, digits: int) -> float:
    """Round ``value`` to ``digits`` significant digits."""
    return float(f"{value:.{digits}g}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _to_number(name: str, value: Any, dist: BaseDistribution) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise SpaceError(f"{name}={value!r} is not a number; valid: {describe(dist)}") from None
    if not _is_number(value):
        raise SpaceError(f"{name}={value!r} is not a number; valid: {describe(dist)}")
    number = float(value)
    if not math.isfinite(number):
        raise SpaceError(f"{name}={value!r} is not finite; valid: {describe(dist)}")
    return number


def _matches(value: Any, choice: Any) -> bool:
    if choice is None:
        if value is None:
            return True
        if isinstance(value, str):
            return value.strip().lower() in _NONE_STRINGS
        # a None that went through a pandas float column comes back as NaN
        return _is_number(value) and math.isnan(float(value))
    if isinstance(choice, bool):
        if isinstance(value, bool | np.bool_):
            return bool(value) is choice
        if isinstance(value, str):
            return _BOOL_STRINGS.get(value.strip().lower()) is choice
        return _is_number(value) and float(value) == float(choice)
    if _is_number(choice):
        if isinstance(value, str):
            try:
                return float(value.strip()) == float(choice)
            except ValueError:
                return False
        return _is_number(value) and float(value) == float(choice)
    return isinstance(value, str) and value.strip() == choice


def coerce(name: str, value: Any, dist: BaseDistribution, *, zero_floor: bool = False) -> Any:
    """Type-coerce ``value`` into ``dist``'s domain or raise :class:`SpaceError`.

    ``zero_floor``: an exact 0 stands for the lower bound (a log-scaled penalty whose
    library default is 0).
    """
    if isinstance(dist, CategoricalDistribution):
        for choice in dist.choices:
            if _matches(value, choice):
                return choice
        raise SpaceError(f"{name}={value!r} is invalid; valid: {describe(dist)}")
    if not isinstance(dist, FloatDistribution | IntDistribution):  # pragma: no cover
        raise TypeError(f"unsupported distribution {dist!r}")
    number = _to_number(name, value, dist)
    if zero_floor and number == 0.0:
        number = float(dist.low)
    tol = _REL_TOL * max(abs(dist.low), abs(dist.high))
    if not dist.low - tol <= number <= dist.high + tol:
        raise SpaceError(f"{name}={value!r} is out of range; valid: {describe(dist)}")
    number = min(max(number, dist.low), dist.high)
    if isinstance(dist, IntDistribution):
        if abs(number - round(number)) > 1e-9:
            raise SpaceError(f"{name}={value!r} is not an integer; valid: {describe(dist)}")
        return round(number)
    return number


def from_unit(u: float, dist: BaseDistribution) -> Any:
    """Map ``u`` in [0, 1) to a value of ``dist`` (log scale where ``log``; Optuna's int rule)."""
    if isinstance(dist, CategoricalDistribution):
        k = len(dist.choices)
        return dist.choices[min(int(u * k), k - 1)]
    if isinstance(dist, IntDistribution):
        if dist.step != 1:  # pragma: no cover - no space uses stepped ints
            raise TypeError("stepped IntDistribution is not supported")
        # like optuna's samplers: widen by half a step on each side, then round
        lo, hi = dist.low - 0.5, dist.high + 0.5
        value = _interpolate(u, lo, hi, dist.log)
        return int(min(max(round(value), dist.low), dist.high))
    if isinstance(dist, FloatDistribution):
        value = round_sig(_interpolate(u, dist.low, dist.high, dist.log), DESIGN_DIGITS)
        return min(max(value, dist.low), dist.high)
    raise TypeError(f"unsupported distribution {dist!r}")  # pragma: no cover


def _interpolate(u: float, low: float, high: float, log: bool) -> float:
    if log:
        return math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    return low + u * (high - low)


def encode_value(value: Any, dist: BaseDistribution) -> float:
    """Numeric code of a coerced value: log10 if log-scaled, raw if linear, categorical index."""
    if isinstance(dist, CategoricalDistribution):
        return float(choice_index(value, dist))
    if dist.log:
        return math.log10(value)
    return float(value)


def choice_index(value: Any, dist: CategoricalDistribution) -> int:
    """Index of ``value`` among ``dist.choices``, type-strict (``True`` is not ``1``)."""
    for i, choice in enumerate(dist.choices):
        if choice is value or (type(choice) is type(value) and choice == value):
            return i
    raise SpaceError(f"{value!r} is not one of {dist.choices!r}")


def canonical_value(value: Any, dist: BaseDistribution) -> Any:
    """JSON-ready, float-noise-free form of a coerced value."""
    if isinstance(dist, FloatDistribution):
        return round_sig(float(value), CANONICAL_DIGITS)
    if isinstance(dist, IntDistribution):
        return int(value)
    return value
