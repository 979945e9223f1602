"""User-supplied datasets: validate a CSV/ECSV file and store it as ECSV in the user folder.

The accepted format (docs/data.md) is the one of the bundled data: commented CSV with
``# key: value`` provenance lines (at least ``experiment`` and ``reference``; for
spectra and gamma-ray SEDs also ``x_unit`` and ``y_unit``; for anisotropy ``convention``,
with ``site_latitude_deg`` and ``zenith_max_deg`` for "r1" and ``upper_limit_cl`` when
limits are given; for element spectra ``species``, for ratios ``numerator`` and
``denominator``, for ``<lnA>`` optionally ``hadronic_model``), or an ECSV file whose columns
carry units and whose meta carries the same keys. Anisotropy files may use the column
names of ``shared/data/anisotropy`` (:data:`ANISOTROPY_ALIASES`) and its ``flags`` column.
The header's ``# quantity:`` line becomes ``meta["description"]``.
"""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import QTable, Table

from crknee.data import store
from crknee.data.csvfile import parse_header, read
from crknee.data.schema import ANGLE, DISTANCE, SPECTRA, canonical, parse_unit
from crknee.errors import DataError
from crknee.io import atomic_write_table, sha256_file

#: Column aliases accepted in CSV files (the shared/data spelling -> the format's), per quantity.
ALIASES = {"is_upper_limit": "upper_limit"}
#: The column names of the anisotropy files in ``shared/data/anisotropy`` (energies in GeV,
#: amplitudes as fractions, phases in deg of RA), accepted as they are.
ANISOTROPY_ALIASES = {
    "E_GeV": "x",
    "E_lo_GeV": "x_lo",
    "E_hi_GeV": "x_hi",
    "amplitude": "y",
    "amplitude_err_lo": "y_err_lo",
    "amplitude_err_hi": "y_err_hi",
    "amplitude_sys_err_lo": "y_sys_lo",
    "amplitude_sys_err_hi": "y_sys_hi",
    "amplitude_upper_limit": "y_ul",
    "phase_deg": "phase",
    "phase_E_GeV": "phase_x",
}
#: Tokens of a ``flags`` cell (``;``-separated) that set a boolean row flag of the format;
#: other tokens are kept in the ``flags`` text column only.
FLAG_TOKENS = {
    "amp_err_lo_reaches_zero": "amp_err_lo_reaches_zero",
    "phase_err_missing": "phase_err_missing",
    "amp_err_missing": "amp_err_missing",
    "upper_limit_only": "upper_limit",
}
#: Columns whose source spelling writes "no systematic error" as 0 (CRDB draws no bar).
ZERO_MEANS_NONE = ("amplitude_sys_err_lo", "amplitude_sys_err_hi")


def _units_from_header(table: Table, meta: dict, quantity: str, label: str, gev_columns=()) -> None:
    """Attach units to the columns of a CSV table from its x_unit / y_unit lines."""
    if quantity == "catalog":
        for col, unit in (
            ("l", ANGLE),
            ("b", ANGLE),
            ("ra", ANGLE),
            ("dec", ANGLE),
            ("distance", DISTANCE),
            ("distance_lo", DISTANCE),
            ("distance_hi", DISTANCE),
        ):
            if col in table.colnames:
                table[col].unit = unit
        return
    needed = ("x_unit", "y_unit") if quantity in SPECTRA or quantity == "gamma" else ()
    for key in needed:
        if key not in meta:
            raise DataError(f"{label}: header line '# {key}: ...' is missing")
    x_unit = parse_unit(meta["x_unit"], "x") if "x_unit" in meta else u.GeV
    if gev_columns and x_unit != u.GeV:
        raise DataError(
            f"{label}: column(s) {', '.join(gev_columns)} are in GeV by their name, but the header "
            f"says x_unit {meta['x_unit']!r}; drop the x_unit line or rename the columns"
        )
    if quantity == "anisotropy":
        y_unit = u.dimensionless_unscaled
    else:
        y_unit = parse_unit(meta["y_unit"], "y")
    for col in table.colnames:
        if table[col].dtype.kind != "f":  # text in a numeric column: the validation names it
            continue
        if col in ("x", "x_lo", "x_hi", "phase_x"):
            table[col].unit = x_unit
        elif col.startswith("y"):
            table[col].unit = y_unit
        elif col.startswith("phase"):
            table[col].unit = ANGLE


def _anisotropy_columns(table: Table, label: str) -> dict:
    """Rename the shared-file anisotropy columns; turn ``flags`` tokens into 0/1 columns.

    Returns the map canonical name -> the file's column name (for error messages).
    """
    renamed = {}
    for old, new in ANISOTROPY_ALIASES.items():
        if old in table.colnames:
            if new in table.colnames:
                raise DataError(f"{label}: columns {old!r} and {new!r} are the same quantity; keep one")
            if old in ZERO_MEANS_NONE and table[old].dtype.kind == "f":
                table[old] = np.where(table[old] == 0, np.nan, table[old])
            table.rename_column(old, new)
            renamed[new] = old
    if "flags" in table.colnames:
        cells = ["" if (isinstance(c, float) and np.isnan(c)) else str(c).strip() for c in table["flags"]]
        table["flags"] = np.array(cells, dtype=str)
        tokens = [{t.strip() for t in c.split(";") if t.strip()} for c in cells]
        for token, col in FLAG_TOKENS.items():
            hit = np.array([token in t for t in tokens])
            if hit.any():
                if col in table.colnames:
                    table[col] = np.asarray(np.nan_to_num(np.asarray(table[col], dtype=float)), dtype=bool) | hit
                else:
                    table[col] = hit
    return renamed


def from_csv(path, quantity: str) -> Table:
    """Table with units and provenance meta from a commented CSV file (not yet validated).

    The header's ``# quantity:`` line (what the numbers are, in the file's words) becomes
    ``meta["description"]``: ``meta["quantity"]`` is the crknee quantity.
    """
    table, header = read(path)
    renamed = {}
    for old, new in ALIASES.items():
        if old in table.colnames and new not in table.colnames:
            table.rename_column(old, new)
            renamed[new] = old
    if quantity == "anisotropy":
        renamed.update(_anisotropy_columns(table, str(path)))
    meta = parse_header(header)
    if "quantity" in meta:
        meta["description"] = meta.pop("quantity")
    gev = [renamed[c] for c in ("x", "x_lo", "x_hi", "phase_x") if c in renamed and renamed[c].endswith("_GeV")]
    _units_from_header(table, meta, quantity, str(path), gev)
    table.meta.update(meta)
    table.meta["source_header"] = header
    table.meta["column_aliases"] = renamed
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


def _merge_meta(raw, meta: dict | None, label: str) -> None:
    """Add ``meta`` (e.g. the convention given on the command line) to the file's own keys;
    a key the file already gives with another value is refused (never silently overridden)."""
    for key, value in (meta or {}).items():
        if value is None:
            continue
        have = raw.meta.get(key)
        if have not in (None, "") and str(have).strip() != str(value).strip():
            try:
                same = float(have) == float(value)
            except (TypeError, ValueError):
                same = False
            if not same:
                raise DataError(f"{label}: the file says {key} = {have!r}, the command line {value!r}; keep one")
        raw.meta[key] = value


def add(path, quantity: str, *, replace: bool = False, meta: dict | None = None) -> str:
    """Validate ``path`` as a ``quantity`` dataset and store it; return its name.

    The name is ``<quantity>/<file stem>``. A name used by a bundled dataset is refused;
    an existing user dataset is only overwritten with ``replace=True``. ``meta`` adds
    provenance keys the file lacks (e.g. ``{"convention": "d_perp", "upper_limit_cl": 0.99}``
    for an anisotropy file, ``{"species": "C"}`` for an element spectrum); one that
    contradicts the file is refused.
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
    raw = _read_any(path, quantity)
    _merge_meta(raw, meta, str(path))
    if not str(raw.meta.get("description") or "").strip():
        raw.meta["description"] = f"{quantity} data added by the user from {path.name}"
    table = canonical(raw, quantity, str(path))
    table.meta["name"] = name
    table.meta.setdefault("source_file", path.name)
    table.meta["source_sha256"] = sha256_file(path)
    atomic_write_table(table, target)
    return name
