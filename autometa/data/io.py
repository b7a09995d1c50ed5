"""Reading raw tables (CSV/TSV, Parquet, ARFF, optionally gzip-compressed) into DataFrames.

Private helper of :mod:`autometa.data`; every user-file problem surfaces as ``DataError``.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import os
import re
import warnings
from pathlib import Path

import pandas as pd

from autometa.data.words import in_cli, setting
from autometa.exceptions import DataError

TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".dat")
PARQUET_SUFFIXES = (".parquet", ".pq")
ARFF_SUFFIXES = (".arff",)
GZIP_SUFFIXES = (".gz", ".gzip")
#: Key of ``DataFrame.attrs`` holding the column types an ARFF header declares.
DECLARED_TYPES_ATTR = "declared_types"
#: Extra missing-value markers on top of pandas' defaults ("", "NA", "NaN", "null", ...).
EXTRA_NA_VALUES = ("?",)

_SAMPLE_BYTES = 1 << 16
_SNIFF_CHARS = 1 << 14
_DELIMITERS = ",;\t|"
WHITESPACE = r"\s+"  #: pandas separator used when the header has no delimiter but spaces
_GZIP_MAGIC = b"\x1f\x8b"
_DECIMAL_ROWS = 500  #: sample rows checked for decimal commas
_DECIMAL_SHARE = 0.95  #: share of a column's sample values that must be (comma) numbers
_COMMA_NUMBER = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?")  # "0,125", "3"
_DOT_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")  # "0.125", "3"
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")  # "1,234": a decimal comma only after ";"
_NA_TEXT = frozenset(("", "?", "na", "n/a", "nan", "null", "none"))
_ARFF_DATE = re.compile(r"^(\s*@attribute\s+(?:'[^']*'|\"[^\"]*\"|\S+)\s+)date\b.*$", re.I | re.M)


def read_table(path: str | os.PathLike[str], *, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV/TSV/Parquet/ARFF file (gzip allowed) into an untyped DataFrame."""
    return read_table_limited(path, encoding=encoding)


def read_table_limited(
    path: str | os.PathLike[str], *, encoding: str = "utf-8", max_columns: int | None = None
) -> pd.DataFrame:
    """:func:`read_table`, failing early when the file has more than ``max_columns`` columns."""
    file = Path(path)
    if not file.exists():
        if file.is_symlink():
            raise DataError(
                f"{file} is a symbolic link that leads to no file (a missing target or a loop "
                f"of links: {os.readlink(file)}); pass the data file's own path."
            )
        raise DataError(f"File not found: {file}; check the path.")
    if not file.is_file():
        raise DataError(f"{file} is not a file; pass the path of a data file.")
    if file.stat().st_size == 0:
        raise DataError(f"{file} is empty (0 bytes); pass a file with a header row and data.")
    fmt = file_format(file)
    gzipped = _is_gzip(file)
    if fmt == "parquet":
        frame = _read_parquet(file, gzipped)
    elif fmt == "arff":
        frame = _read_arff(file, gzipped, encoding)
    else:
        frame = _read_text(file, gzipped, encoding, max_columns)
    frame.columns = [str(c) for c in frame.columns]
    check_columns(frame, str(file), max_columns)
    if len(frame) == 0:
        raise DataError(f"{file} has a header but no data rows; add data rows below the header.")
    return frame


def file_format(file: Path) -> str:
    """Return "text", "parquet" or "arff" from the file name (a ``.gz`` suffix is ignored)."""
    suffixes = [s.lower() for s in file.suffixes]
    if suffixes and suffixes[-1] in GZIP_SUFFIXES:
        suffixes.pop()
    ext = suffixes[-1] if suffixes else ""
    for fmt, known in (
        ("text", TEXT_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
        ("arff", ARFF_SUFFIXES),
    ):
        if ext in known:
            return fmt
    supported = ", ".join(TEXT_SUFFIXES + PARQUET_SUFFIXES + ARFF_SUFFIXES)
    raise DataError(
        f"Unsupported file type {ext or '(no extension)'!r} for {file.name}; "
        f"use one of {supported} (optionally with .gz)."
    )


def dataset_name(file: Path) -> str:
    """File name without its format and compression suffixes ("iris.csv.gz" -> "iris")."""
    name = file.name
    for _ in range(2):
        stem, ext = os.path.splitext(name)
        if ext.lower() in GZIP_SUFFIXES + TEXT_SUFFIXES + PARQUET_SUFFIXES + ARFF_SUFFIXES:
            name = stem
    return name or file.name


def check_columns(frame: pd.DataFrame, what: str, max_columns: int | None) -> None:
    """Raise DataError on duplicate column names or more than ``max_columns`` columns."""
    _check_names(list(frame.columns), what, max_columns)


def _check_names(names: list[str], what: str, max_columns: int | None) -> None:
    if max_columns is not None and len(names) > max_columns:
        raise DataError(
            f"{what} has {len(names)} columns, more than the {max_columns:,} autometa reads"
            + ("" if in_cli() else "; raise max_columns= if this is intended")
            + "."
        )
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        raise DataError(
            f"{what} has duplicate column names {dupes[:5]}; give every column a unique name "
            "(if the first row holds data, the file lacks a header row: add one)."
        )


def _is_gzip(file: Path) -> bool:
    with file.open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _open(file: Path, gzipped: bool) -> io.BufferedIOBase:
    return gzip.open(file, "rb") if gzipped else file.open("rb")  # type: ignore[return-value]


def _decode(data: bytes, file: Path, encoding: str) -> str:
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise DataError(_encoding_message(file, encoding, exc)) from exc
    except LookupError as exc:
        raise DataError(f"Unknown encoding {encoding!r}; use e.g. 'utf-8' or 'latin-1'.") from exc


def _encoding_message(file: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    return (
        f"{file} is not valid {encoding} text (byte {exc.object[exc.start : exc.start + 1]!r} "
        f"at position {exc.start}); pass {setting('encoding', 'latin-1')} or the file's real "
        "encoding."
    )


def _read_sample(file: Path, gzipped: bool) -> bytes:
    try:
        with _open(file, gzipped) as fh:
            sample = fh.read(_SAMPLE_BYTES)
    except (OSError, EOFError) as exc:
        raise DataError(f"Cannot read {file}: {exc}; check that the file is not corrupt.") from exc
    if len(sample) == _SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return sample


def _sniff(text: str, file: Path) -> tuple[str | None, str, bool]:
    """Return (delimiter or None to let pandas guess, quotechar, skipinitialspace)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    present = [d for d in _DELIMITERS if d in first]
    if not present:  # one column, or whitespace-separated
        return (WHITESPACE if len(first.split()) > 1 else ",", '"', True)
    try:
        dialect = csv.Sniffer().sniff(text, delimiters=_DELIMITERS)
    except csv.Error:
        return (present[0] if len(present) == 1 else None, '"', True)
    if dialect.delimiter not in first:
        if file.suffix.lower() in (".tsv", ".tab") and "\t" in present:
            return ("\t", '"', True)
        return (present[0] if len(present) == 1 else None, '"', True)
    quote = dialect.quotechar if dialect.quotechar in ("'", '"') else '"'
    return (dialect.delimiter, quote, bool(dialect.skipinitialspace))


def _header(text: str, delimiter: str | None, quotechar: str) -> list[str]:
    if delimiter is None:
        return []
    if delimiter == WHITESPACE:
        first = next((line for line in text.splitlines() if line.strip()), "")
        return first.split()
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quotechar)
    try:
        for row in reader:
            if any(field.strip() for field in row):
                return [field.strip() for field in row]
    except csv.Error:
        return []
    return []


def _looks_like_data(names: list[str]) -> bool:
    """True when a header row looks like a data row (see docs/data.md, "Header row")."""
    numeric = [n for n in names if _is_number(n)]
    if not numeric:
        return False
    if len(set(numeric)) < len(numeric) or any(not _is_int(n) for n in numeric):
        return True  # repeated or non-integer numbers
    if len(numeric) >= 3 and 2 * len(numeric) >= len(names):
        ints = sorted(int(n) for n in numeric)
        return ints != list(range(ints[0], ints[0] + len(ints)))  # "0,1,2" / "1990,1991" pass
    return False


def _is_int(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "infinity", "-infinity")


def _decimal_comma(text: str, delimiter: str | None, quotechar: str) -> bool:
    """True when the sample's numbers use a decimal comma (see docs/data.md, "Decimal commas")."""
    if delimiter in (None, ","):
        return False
    lines = text.splitlines()[: _DECIMAL_ROWS + 1]
    try:
        rows = (
            [line.split() for line in lines]
            if delimiter == WHITESPACE
            else list(csv.reader(lines, delimiter=delimiter, quotechar=quotechar))
        )
    except csv.Error:
        return False
    rows = [row for row in rows if any(field.strip() for field in row)][1:]  # skip the header
    found = False
    for column in itertools.zip_longest(*rows, fillvalue=""):
        values = [v.strip() for v in column if v.strip().lower() not in _NA_TEXT]
        need = _DECIMAL_SHARE * len(values)
        if any("." in v for v in values) and _matches(_DOT_NUMBER, values) >= need:
            return False  # a column with decimal points: keep "."
        commas = [v for v in values if "," in v]
        if commas and _matches(_COMMA_NUMBER, values) >= need:
            found = found or delimiter == ";" or not all(map(_THOUSANDS.fullmatch, commas))
    return found


def _matches(pattern: re.Pattern[str], values: list[str]) -> int:
    return sum(bool(pattern.fullmatch(v)) for v in values)


def _read_text(file: Path, gzipped: bool, encoding: str, max_columns: int | None) -> pd.DataFrame:
    sample = _read_sample(file, gzipped)
    text = _decode(sample, file, encoding)
    if not text.strip():
        raise DataError(f"{file} is empty; pass a file with a header row and data.")
    if text.lstrip().lower().startswith("@relation"):
        raise DataError(f"{file} looks like an ARFF file; rename it to end in .arff.")
    head = text if len(text) <= _SNIFF_CHARS else text[:_SNIFF_CHARS].rsplit("\n", 1)[0]
    delimiter, quotechar, skipspace = _sniff(head, file)
    names = _header(text, delimiter, quotechar)
    if names and _looks_like_data(names):
        raise DataError(
            f"The first row of {file} looks like data, not column names ({names[:4]}...); "
            "autometa needs a header row: add one, or read the file with "
            "pandas.read_csv(header=None) and pass the DataFrame."
        )
    if names:
        _check_names(names, str(file), max_columns)
    options: dict[str, object] = (
        {"sep": delimiter, "quotechar": quotechar, "engine": "c"}
        if delimiter is not None
        else {"sep": None, "engine": "python"}
    )
    if _decimal_comma(text, delimiter, quotechar):
        options["decimal"] = ","
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # mixed chunks are re-typed
            frame = pd.read_csv(
                file,
                compression="gzip" if gzipped else None,
                encoding=encoding,
                skipinitialspace=skipspace,
                na_values=list(EXTRA_NA_VALUES),
                index_col=False,
                **options,  # type: ignore[arg-type]
            )
    except UnicodeDecodeError as exc:
        raise DataError(_encoding_message(file, encoding, exc)) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{file} has no columns; pass a file with a header row.") from exc
    except (pd.errors.ParserError, csv.Error, ValueError, OSError, EOFError) as exc:
        raise DataError(
            f"Cannot parse {file}: {str(exc).strip()}; check its delimiter and quoting."
        ) from exc
    names = [str(c).strip() for c in frame.columns]
    _check_names(names, str(file), max_columns)
    frame.columns = names
    return frame


def _read_parquet(file: Path, gzipped: bool) -> pd.DataFrame:
    try:
        source: Path | io.BytesIO = file
        if gzipped:
            with gzip.open(file, "rb") as fh:
                source = io.BytesIO(fh.read())
        return pd.read_parquet(source)
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, ...)
        raise DataError(
            f"Cannot read {file} as Parquet ({type(exc).__name__}: {exc}); "
            "check that it is a complete, valid Parquet file."
        ) from exc


def _read_arff(file: Path, gzipped: bool, encoding: str) -> pd.DataFrame:
    import arff  # liac-arff

    try:
        with _open(file, gzipped) as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"Cannot read {file}: {exc}; check that the file is not corrupt.") from exc
    text = _decode(raw, file, encoding)
    if not text.strip():
        raise DataError(f"{file} is empty; pass an ARFF file with attributes and data.")
    header_end = re.search(r"^\s*@data\b", text, re.I | re.M)
    cut = header_end.start() if header_end else len(text)
    date_columns = [m.group(1) for m in _ARFF_DATE.finditer(text[:cut])]
    header = _ARFF_DATE.sub(lambda m: m.group(1) + "string", text[:cut])
    try:
        loaded = arff.loads(header + text[cut:])
    except Exception as exc:  # liac-arff raises ArffException but also bare ValueError etc.
        raise DataError(f"{file} is not a valid ARFF file: {exc}; fix the file.") from exc
    names = [str(n) for n, _ in loaded["attributes"]]
    dates = {_arff_name(d) for d in date_columns}
    declared: dict[str, str] = {}
    columns: dict[str, pd.Series] = {}
    data = loaded["data"]
    for j, (name, kind) in enumerate(loaded["attributes"]):
        values = [row[j] for row in data]
        if isinstance(kind, list):
            declared[name] = "categorical"
            columns[name] = pd.Series(values, dtype=object)
        elif name in dates:
            declared[name] = "datetime"
            columns[name] = pd.Series(values, dtype=object)
        elif str(kind).upper() in ("NUMERIC", "REAL", "INTEGER"):
            declared[name] = "numeric"
            columns[name] = pd.Series(pd.to_numeric(pd.Series(values, dtype=object)))
        else:
            declared[name] = "string"
            columns[name] = pd.Series(values, dtype=object)
    _check_names(names, str(file), None)
    frame = pd.DataFrame(columns, columns=names)
    frame.attrs[DECLARED_TYPES_ATTR] = declared
    return frame


def _arff_name(prefix: str) -> str:
    """Attribute name from the ``@attribute NAME `` prefix matched by ``_ARFF_DATE``."""
    name = prefix.strip()[len("@attribute") :].strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        name = name[1:-1]
    return name
