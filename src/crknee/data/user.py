"""User-supplied datasets: validate a CSV/ECSV file and store it as ECSV in the user folder.

The accepted format (docs/data.md) is the one of the bundled data: commented CSV with
``# key: value`` provenance lines (at least ``experiment`` and ``reference``; for
spectra and gamma-ray SEDs also ``x_unit`` and ``y_unit``), or an ECSV file whose
columns carry units and whose meta carries the same keys.
"""
from __future__ import annotations

from pathlib import Path

import astropy.units as u
from astropy.table import QTable, Table

from crknee.data import store
from crknee.data.csvfile import parse_header, read
from crknee.data.schema import ANGLE, DISTANCE, SPECTRA, canonical, parse_unit
from crknee.errors import DataError
from crknee.io import atomic_write_table, sha256_file

#: Column aliases accepted in CSV files (the shared/data spelling -> the format's).
ALIASES = {"is_upper_limit": "upper_limit"}


def _units_from_header(table: Table, meta: dict, quantity: str, label: str) -> None:
    """Attach units to the columns of a CSV table from its x_unit / y_unit lines."""
    if quantity == "catalog":
        for col, unit in (("l", ANGLE), ("b", ANGLE), ("ra", ANGLE), ("dec", ANGLE),
                          ("distance", DISTANCE), ("distance_lo", DISTANCE), ("distance_hi", DISTANCE)):
            if col in table.colnames:
                table[col].unit = unit
        return
    needed = ("x_unit", "y_unit") if quantity in SPECTRA or quantity == "gamma" else ()
    for key in needed:
        if key not in meta:
            raise DataError(f"{label}: header line '# {key}: ...' is missing")
    x_unit = parse_unit(meta["x_unit"], "x") if "x_unit" in meta else u.GeV
    if quantity == "anisotropy":
        y_unit = u.dimensionless_unscaled
    else:
        y_unit = parse_unit(meta["y_unit"], "y")
    for col in table.colnames:
        if col in ("x", "x_lo", "x_hi"):
            table[col].unit = x_unit
        elif col.startswith("y") and table[col].dtype.kind == "f":
            table[col].unit = y_unit
        elif col.startswith("phase"):
            table[col].unit = ANGLE


def from_csv(path, quantity: str) -> Table:
    """Table with units and provenance meta from a commented CSV file (not yet validated)."""
    table, header = read(path)
    for old, new in ALIASES.items():
        if old in table.colnames and new not in table.colnames:
            table.rename_column(old, new)
    meta = parse_header(header)
    _units_from_header(table, meta, quantity, str(path))
    table.meta.update(meta)
    table.meta["source_header"] = header
    return table


def _read_any(path: Path, quantity: str) -> Table:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return from_csv(path, quantity)
    if suffix == ".ecsv":
        try:
            return QTable.read(path, format="ascii.ecsv")
        except Exception as exc:  # astropy raises many types for a damaged file
            raise DataError(f"{path}: not a readable ECSV file ({type(exc).__name__}: {exc})") from exc
    raise DataError(f"{path}: unsupported file type {suffix!r}; give a .csv or .ecsv file")


def add(path, quantity: str, *, replace: bool = False) -> str:
    """Validate ``path`` as a ``quantity`` dataset and store it; return its name.

    The name is ``<quantity>/<file stem>``. A name used by a bundled dataset is refused;
    an existing user dataset is only overwritten with ``replace=True``.
    """
    path = Path(path)
    store.check_quantity(quantity)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    name = f"{quantity}/{path.stem}"
    store.split_name(name)
    if store.bundled_path(name).is_file():
        raise DataError(f"dataset {name!r} is bundled with crknee; rename your file to add it")
    target = store.user_path(name)
    if target.exists() and not replace:
        raise DataError(f"user dataset {name!r} already exists at {target}; use --replace to overwrite it")
    table = canonical(_read_any(path, quantity), quantity, str(path))
    table.meta["name"] = name
    table.meta.setdefault("source_file", path.name)
    table.meta["source_sha256"] = sha256_file(path)
    atomic_write_table(table, target)
    return name
