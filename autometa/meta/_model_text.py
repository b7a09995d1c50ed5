"""Check a LightGBM model string before LightGBM parses it.

LightGBM's parser trusts its input: it jumps to each tree by the byte offsets of the
header's ``tree_sizes`` and scans each tree's lines up to the next ``=``, so a truncated
or cut model string makes it read past the end of its buffer and abort the process (no
Python exception to catch). :func:`check_model_text` checks, in Python, everything that
parser relies on: the header's keys, every tree at the offset ``tree_sizes`` gives, each
tree's fields and their lengths, child and feature indices in range, and the trailer
LightGBM and its Python package write last (``end of trees``, the parameters when there
are any, ``pandas_categorical:``).
"""

from __future__ import annotations

import re

from autometa.exceptions import MetaModelError

_HEADER_KEYS = (b"num_class", b"label_index", b"max_feature_idx", b"feature_names")
_INT_TEXT = rb"-?[0-9]+"
_FLOAT_TEXT = rb"-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
#: Space-separated numbers of each kind, as LightGBM writes (and parses) them.
_INT = re.compile(rb"%s(?: %s)*" % (_INT_TEXT, _INT_TEXT))
_FLOAT = re.compile(rb"%s(?: %s)*" % (_FLOAT_TEXT, _FLOAT_TEXT))
#: Each tree field LightGBM parses: (number pattern, values: per split or per leaf).
_ARRAYS = {
    b"left_child": (_INT, -1),
    b"right_child": (_INT, -1),
    b"split_feature": (_INT, -1),
    b"threshold": (_FLOAT, -1),
    b"split_gain": (_FLOAT, -1),
    b"internal_count": (_INT, -1),
    b"internal_value": (_FLOAT, -1),
    b"internal_weight": (_FLOAT, -1),
    b"decision_type": (_INT, -1),
    b"leaf_value": (_FLOAT, 0),
    b"leaf_weight": (_FLOAT, 0),
    b"leaf_count": (_INT, 0),
}
_REQUIRED = (b"leaf_value", b"left_child", b"right_child", b"split_feature", b"threshold")
_SCALARS = {b"num_leaves": _INT, b"num_cat": _INT, b"shrinkage": _FLOAT, b"is_linear": _INT}
#: A line of the parameters section, as LightGBM writes it: ``[name: value]``.
_PARAMETER = re.compile(rb"\[[a-z0-9_]+: .*\]")
_CATEGORICAL = 1  # decision_type bit of a categorical split


def check_model_text(text: str, name: str = "model") -> None:
    """MetaModelError unless ``text`` is a complete, well-formed LightGBM model string
    (``name`` goes into the message)."""
    try:
        _check(text.encode())
    except (ValueError, KeyError, IndexError) as exc:
        raise MetaModelError(f"LightGBM model {name} is incomplete or damaged: {exc}") from exc


def _check(raw: bytes) -> None:
    if not raw.startswith(b"tree\n"):
        raise ValueError("it does not start with LightGBM's 'tree' line")
    if b"\0" in raw or b"\r" in raw:
        raise ValueError("it holds NUL or carriage-return bytes")
    first = raw.find(b"\nTree=")
    first = raw.find(b"\nend of trees") if first < 0 else first
    if first < 0:
        raise ValueError("no trees and no 'end of trees' line")
    header = _fields(raw[5 : first + 1].split(b"\n"), "the header")
    missing = [key.decode() for key in (*_HEADER_KEYS, b"tree_sizes") if key not in header]
    if missing:
        raise ValueError(f"the header lacks {', '.join(missing)}")
    n_features = int(header[b"max_feature_idx"]) + 1
    per_iteration = int(header.get(b"num_tree_per_iteration", header[b"num_class"]))
    sizes = [int(size) for size in header[b"tree_sizes"].split()]
    if int(header[b"num_class"]) < 1 or per_iteration < 1 or len(sizes) % per_iteration:
        raise ValueError("num_class, num_tree_per_iteration and tree_sizes disagree")
    offset = first + 1
    for i, size in enumerate(sizes):
        block = raw[offset : offset + size]
        if size < 1 or len(block) != size:
            raise ValueError(f"tree {i} of {len(sizes)} is cut short")
        _check_tree(block, i, n_features)
        offset += size
    _check_trailer(raw[offset:])


def _check_trailer(tail: bytes) -> None:
    if not tail.startswith(b"end of trees\n"):
        raise ValueError("no 'end of trees' line after the last tree")
    if b"\nparameters:\n" in tail:
        params, end, _ = tail.partition(b"\nparameters:\n")[2].partition(b"end of parameters\n")
        if not end:
            raise ValueError("the parameters section is cut short")
        if any(not _PARAMETER.fullmatch(line) for line in params.split(b"\n") if line):
            raise ValueError("the parameters section has a malformed line")
    if not tail.rstrip(b"\n").rsplit(b"\n", 1)[-1].startswith(b"pandas_categorical:"):
        raise ValueError("no closing 'pandas_categorical:' line (the text is cut short)")


def _fields(lines: list[bytes], where: str) -> dict[bytes, bytes]:
    """``key=value`` lines up to the first empty one."""
    fields: dict[bytes, bytes] = {}
    for line in lines:
        if not line:
            break
        key, sep, value = line.partition(b"=")
        if not sep:
            raise ValueError(f"{where} has a line without '='")
        fields[key] = value
    return fields


def _check_tree(block: bytes, i: int, n_features: int) -> None:
    lines = block.split(b"\n")
    if lines[0] != b"Tree=%d" % i:
        raise ValueError(f"tree {i} is not where tree_sizes puts it")
    if b"" not in lines[1:-1]:
        raise ValueError(f"tree {i} has no closing empty line")
    tree = _fields(lines[1:], f"tree {i}")
    for key, number in _SCALARS.items():
        if key in tree and (b" " in tree[key] or not number.fullmatch(tree[key])):
            raise ValueError(f"tree {i}: {key.decode()} is not a number")
    n_leaves, n_cat = int(tree[b"num_leaves"]), int(tree[b"num_cat"])
    if n_leaves < 1 or n_cat < 0 or int(tree.get(b"is_linear", b"0")):
        raise ValueError(f"tree {i}: {n_leaves} leaves, {n_cat} categories (or linear)")
    if not all(key in tree for key in (_REQUIRED if n_leaves > 1 else _REQUIRED[:1])):
        raise ValueError(f"tree {i} lacks a required field")
    for key, (number, extra) in _ARRAYS.items():
        if key in tree and (n_leaves > 1 or extra == 0):
            _expect(tree, key, number, n_leaves + extra, i)
    if n_leaves == 1:
        return
    children = sorted(int(c) for key in (b"left_child", b"right_child") for c in tree[key].split())
    if children != [*range(-n_leaves, 0), *range(1, n_leaves - 1)]:  # each node: one parent
        raise ValueError(f"tree {i}: its child indices do not form a tree")
    if any(not 0 <= int(f) < n_features for f in tree[b"split_feature"].split()):
        raise ValueError(f"tree {i} splits on a feature the model does not have")
    kinds = [int(d) for d in tree.get(b"decision_type", b"").split()]
    splits = zip(tree[b"threshold"].split(), kinds, strict=False)
    categorical = [threshold for threshold, kind in splits if kind & _CATEGORICAL]
    if n_cat or categorical:
        _check_categories(tree, n_cat, categorical, i)


def _check_categories(
    tree: dict[bytes, bytes], n_cat: int, thresholds: list[bytes], i: int
) -> None:
    _expect(tree, b"cat_boundaries", _INT, n_cat + 1, i)
    bounds = [int(b) for b in tree[b"cat_boundaries"].split()]
    if bounds[0] != 0 or bounds != sorted(bounds):
        raise ValueError(f"tree {i} has inconsistent cat_boundaries")
    _expect(tree, b"cat_threshold", _INT, bounds[-1], i)
    if any(not 0 <= float(t) < n_cat for t in thresholds):
        raise ValueError(f"tree {i} has a categorical split out of range")


def _expect(
    tree: dict[bytes, bytes], key: bytes, numbers: re.Pattern[bytes], count: int, i: int
) -> None:
    """``tree[key]`` holds ``count`` space-separated numbers (``numbers``: their pattern)."""
    value = tree.get(key)
    if value is None or value.count(b" ") != count - 1 or count < 1:
        raise ValueError(f"tree {i}: {key.decode()} does not hold {count} numbers")
    if not numbers.fullmatch(value):
        raise ValueError(f"tree {i}: {key.decode()} holds something other than numbers")
