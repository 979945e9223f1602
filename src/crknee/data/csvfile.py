"""Reading the commented CSV files of ``shared/data`` and of users.

Such a file starts with ``# key: value`` provenance lines, then one header row of
column names, then data rows. An empty cell means "not given" (NaN for numbers).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
from astropy.table import Table

from crknee.errors import DataError

_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_ ]{0,40}):\s+(.*)$")


def parse_header(lines: list[str]) -> dict:
    """``# key: value`` lines -> dict; repeated keys are joined with ``' | '``.

    Lines without a ``key:`` prefix are collected under ``"comment"``.
    """
    out: dict[str, str] = {}
    for line in lines:
        m = _KEY.match(line)
        key, value = (m.group(1).strip().lower().replace(" ", "_"), m.group(2).strip()) if m else ("comment", line)
        out[key] = f"{out[key]} | {value}" if key in out else value
    return out


def _column(name: str, cells: list[str], path: Path):
    filled = [c.strip() for c in cells]
    try:
        return np.array([float(c) if c else np.nan for c in filled])
    except ValueError:
        if any(c and re.fullmatch(r"[-+.0-9eE]+", c) is None for c in filled):
            return np.array(filled, dtype=str)
        raise DataError(f"{path}: column {name!r} holds a malformed number") from None


def read(path) -> tuple[Table, list[str]]:
    """Read a commented CSV: (table with float or string columns, raw ``#`` lines)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file (corrupt?)") from exc
    lines = text.splitlines()
    header = [ln[1:].strip() for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    if not body:
        raise DataError(f"{path}: no column header row")
    rows = list(csv.reader(body))
    names = [n.strip() for n in rows[0]]
    if len(set(names)) != len(names) or "" in names:
        raise DataError(f"{path}: column names must be unique and non-empty; got {names}")
    data = rows[1:]
    for i, row in enumerate(data, start=2):
        if len(row) != len(names):
            raise DataError(f"{path}: data row {i - 1} has {len(row)} cells, the header has {len(names)}")
    table = Table()
    for j, name in enumerate(names):
        table[name] = _column(name, [row[j] for row in data], path)
    return table, header
