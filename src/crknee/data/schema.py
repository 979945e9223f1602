"""The one table format of every crknee dataset (bundled or user-supplied).

A dataset is an astropy table whose columns carry units and whose ``meta`` carries the
provenance. :func:`canonical` checks a table against the format of its quantity and
returns it with the columns in the documented order; the build script
(``tools/build_data.py``) and :func:`crknee.data.add` both go through it, so a user file
is held to exactly the rules of the bundled ones (docs/data.md).

Stored tables keep the units of their source (e.g. LHAASO fluxes per PeV);
:func:`crknee.data.load` converts to crknee's units on reading.
"""
from __future__ import annotations

import re

import astropy.units as u
import numpy as np
from astropy.table import QTable

from crknee.errors import DataError
from crknee.kinematics import VARIABLES

#: Cosmic-ray spectra and ratios (quantity -> folder under ``bundled/``).
SPECTRA = ("proton", "helium", "light", "allparticle", "bc")
#: Every dataset quantity, in listing order.
QUANTITIES = SPECTRA + ("anisotropy", "gamma", "catalog")
FOLDERS = {**{q: f"cr/{q}" for q in SPECTRA}, "anisotropy": "anisotropy", "gamma": "gamma", "catalog": "catalogs"}
#: Default species of single-species spectra (crknee.kinematics names).
SPECIES = {"proton": "H1", "helium": "He4"}

#: Differential intensity unit without its "per unit of the energy variable" factor.
INTENSITY = u.m**-2 * u.s**-1 * u.sr**-1
#: Units that :func:`crknee.data.load` returns for the non-spectrum quantities.
GAMMA_X, GAMMA_Y = u.TeV, u.erg * u.cm**-2 * u.s**-1
ANGLE, DISTANCE = u.deg, u.kpc

SPECTRUM_COLUMNS = ("x", "x_lo", "x_hi", "y", "y_stat_lo", "y_stat_hi", "y_sys_lo", "y_sys_hi")
#: Optional spectrum columns: total uncertainty where the source does not split stat/sys.
TOTAL_COLUMNS = ("y_tot_lo", "y_tot_hi")
ANISOTROPY_COLUMNS = ("x", "x_lo", "x_hi", "y", "y_err_lo", "y_err_hi", "phase", "phase_err_lo", "phase_err_hi")
GAMMA_COLUMNS = ("x", "x_lo", "x_hi", "y", "y_err_lo", "y_err_hi")
CATALOG_COLUMNS = ("name", "l", "b", "ra", "dec", "distance", "distance_lo", "distance_hi", "class")
#: Meta keys written first, in this order (others follow in their own order).
META_KEYS = ("name", "quantity", "experiment", "reference", "origin", "licence", "x_variable", "species", "notes")
REQUIRED_META = ("experiment", "reference")
REQUIRED_COLUMNS = {**{q: ("x", "y") for q in SPECTRA}, "gamma": ("x", "y"), "anisotropy": ("y",),
                    "catalog": ("name", "l", "b", "ra", "dec")}

_XVAR_PHRASES = (
    ("total energy per particle", "Etot"),
    ("kinetic energy per particle", "Ek"),
    ("kinetic energy per nucleon", "Ekn"),
    ("rigidity", "R"),
)


def x_variable_of(text: str) -> str:
    """crknee variable (Etot/Ek/Ekn/R) named by an ``x_variable`` header line or code."""
    text = str(text).strip()
    if text in VARIABLES and text != "p":
        return text
    low = text.lower()
    for phrase, var in _XVAR_PHRASES:
        if low.startswith(phrase):
            return var
    raise DataError(f"x_variable {text!r} is not one of Etot, Ek, Ekn, R (or their long names)")


def parse_unit(text: str, what: str) -> u.UnitBase:
    """Unit from a header line such as ``PeV^-1 m^-2 s^-1 sr^-1 (source units kept; ...)``.

    A trailing parenthetical remark is dropped; ``GeV/n`` (per nucleon) reads as GeV,
    the unit of crknee's ``Ekn``; ``dimensionless ratio`` is dimensionless.
    """
    raw = str(text).strip()
    s = raw.replace("(GeV/n)", "GeV").replace("GeV/n", "GeV")
    s = re.sub(r"\s+\([^()]*(\([^()]*\)[^()]*)*\)\s*$", "", s)
    if s.lower().startswith("dimensionless") or s == "":
        return u.dimensionless_unscaled
    try:
        return u.Unit(s.replace("^", ""))
    except ValueError as exc:
        raise DataError(f"{what} unit {raw!r} is not a unit astropy can parse") from exc


def _floats(table: QTable, col: str, unit, label: str) -> u.Quantity:
    """Column ``col`` as a float Quantity in ``unit`` (NaN if absent)."""
    if col not in table.colnames:
        return np.full(len(table), np.nan) * unit
    c = table[col]
    values = c.value if isinstance(c, u.Quantity) else np.asarray(c)
    try:
        values = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{label}: column {col!r} is not numeric") from exc
    have = c.unit if isinstance(c, u.Quantity) else (getattr(c, "unit", None) or u.dimensionless_unscaled)
    try:
        return (values * u.Unit(have)).to(unit)
    except u.UnitConversionError as exc:
        raise DataError(f"{label}: column {col!r} has unit {have}, not convertible to {unit}") from exc


def _flags(table: QTable, col: str, label: str) -> np.ndarray:
    if col not in table.colnames:
        return np.zeros(len(table), dtype=bool)
    vals = np.ma.filled(np.ma.asarray(table[col].value if isinstance(table[col], u.Quantity) else table[col]), 0)
    try:
        flags = np.asarray(vals, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{label}: column {col!r} must hold 0/1 flags") from exc
    flags = np.nan_to_num(flags, nan=0.0)  # an empty cell: not flagged
    if not np.all(np.isin(flags, (0.0, 1.0))):
        raise DataError(f"{label}: column {col!r} must hold 0/1 flags; got {flags[~np.isin(flags, (0, 1))][0]!r}")
    return flags.astype(bool)


def _check(ok: np.ndarray, label: str, what: str, values) -> None:
    if not np.all(ok):
        bad = np.asarray(getattr(values, "value", values))[~ok][0]
        raise DataError(f"{label}: {what}; first offending value {bad!r} (row {int(np.argmin(ok))})")


def _nonneg_or_nan(q: u.Quantity) -> np.ndarray:
    v = q.value
    return np.isnan(v) | (np.isfinite(v) & (v >= 0))


def _unit_of(table: QTable, col: str):
    """Unit of column ``col`` (None if it has none)."""
    unit = getattr(table[col], "unit", None)
    return u.Unit(unit) if unit is not None else None


def _meta(table: QTable, quantity: str, label: str) -> dict:
    meta = dict(table.meta)
    for key in REQUIRED_META:
        if not str(meta.get(key) or "").strip():
            raise DataError(f"{label}: provenance key {key!r} is missing (needs at least experiment and reference)")
    meta["quantity"] = quantity
    if quantity in SPECTRA:
        meta["x_variable"] = x_variable_of(meta.get("x_variable", ""))
        meta.setdefault("species", SPECIES.get(quantity))
    elif quantity == "anisotropy":
        meta["x_variable"] = "Etot"
    meta.setdefault("species", None)
    meta.setdefault("notes", "")
    meta.setdefault("origin", "")
    meta.setdefault("licence", "")
    ordered = {k: meta.get(k) for k in META_KEYS if k in meta}
    ordered.update({k: v for k, v in meta.items() if k not in ordered})
    return ordered


def _extras(table: QTable, known) -> list[str]:
    return [c for c in table.colnames if c not in known]


def _spectrum(table: QTable, quantity: str, label: str, meta: dict) -> QTable:
    xvar = meta["x_variable"]
    x_unit = _unit_of(table, "x")
    y_unit = _unit_of(table, "y")
    if x_unit is None or y_unit is None:
        raise DataError(f"{label}: columns 'x' and 'y' need units (x_unit / y_unit)")
    if not x_unit.is_equivalent(VARIABLES[xvar]):
        raise DataError(f"{label}: x unit {x_unit} does not fit x_variable {xvar} ({VARIABLES[xvar]})")
    want_y = u.dimensionless_unscaled if quantity == "bc" else INTENSITY / VARIABLES[xvar]
    if not y_unit.is_equivalent(want_y):
        raise DataError(f"{label}: y unit {y_unit} is not a {'ratio' if quantity == 'bc' else 'flux per ' + str(VARIABLES[xvar])}")
    out = QTable(meta=meta)
    for col in SPECTRUM_COLUMNS:
        out[col] = _floats(table, col, x_unit if col.startswith("x") else y_unit, label)
    out["upper_limit"] = _flags(table, "upper_limit", label)
    for col in TOTAL_COLUMNS:
        if col in table.colnames:
            out[col] = _floats(table, col, y_unit, label)
    _check(np.isfinite(out["x"].value) & (out["x"].value > 0), label, "x must be finite and > 0", out["x"])
    _check(np.isfinite(out["y"].value) & (out["y"].value >= 0), label, "y must be finite and >= 0", out["y"])
    for col in SPECTRUM_COLUMNS[1:3] + SPECTRUM_COLUMNS[4:] + tuple(c for c in TOTAL_COLUMNS if c in out.colnames):
        _check(_nonneg_or_nan(out[col]), label, f"{col} must be >= 0 or empty", out[col])
    have_stat = np.isfinite(out["y_stat_lo"].value) & np.isfinite(out["y_stat_hi"].value)
    have_tot = (np.isfinite(out["y_tot_lo"].value) & np.isfinite(out["y_tot_hi"].value)) if "y_tot_lo" in out.colnames else False
    _check(have_stat | have_tot | out["upper_limit"], label, "each point needs y_stat_lo/hi or y_tot_lo/hi", out["x"])
    for col in _extras(table, SPECTRUM_COLUMNS + TOTAL_COLUMNS + ("upper_limit",)):
        out[col] = table[col]
    return out


def _anisotropy(table: QTable, label: str, meta: dict) -> QTable:
    out = QTable(meta=meta)
    for col in ANISOTROPY_COLUMNS:
        unit = u.GeV if col.startswith("x") else (ANGLE if col.startswith("phase") else u.dimensionless_unscaled)
        out[col] = _floats(table, col, unit, label)
    out["upper_limit"] = _flags(table, "upper_limit", label)
    out = out[list(ANISOTROPY_COLUMNS[:6]) + ["upper_limit"] + list(ANISOTROPY_COLUMNS[6:])]
    out.meta = meta
    _check(np.isfinite(out["y"].value) & (out["y"].value >= 0), label, "amplitude y must be finite and >= 0", out["y"])
    energy_known = np.isfinite(out["x"].value) | np.isfinite(out["x_lo"].value)
    _check(energy_known, label, "each point needs an energy x or a threshold x_lo", out["y"])
    for col in ANISOTROPY_COLUMNS[:3] + ANISOTROPY_COLUMNS[4:6] + ANISOTROPY_COLUMNS[7:]:
        _check(_nonneg_or_nan(out[col]), label, f"{col} must be >= 0 or empty", out[col])
    for col in _extras(table, ANISOTROPY_COLUMNS + ("upper_limit",)):
        out[col] = table[col]
    return out


def _gamma(table: QTable, label: str, meta: dict) -> QTable:
    if not str(meta.get("source") or "").strip():
        raise DataError(f"{label}: gamma-ray data need the provenance key 'source' (e.g. 'V4641 Sgr')")
    meta.setdefault("region", None)
    y_unit = _unit_of(table, "y")
    if y_unit is None or not y_unit.is_equivalent(GAMMA_Y):
        raise DataError(f"{label}: y must be E^2 dN/dE with an energy-flux unit (e.g. erg cm-2 s-1); got {y_unit}")
    x_unit = _unit_of(table, "x")
    if x_unit is None or not x_unit.is_equivalent(u.TeV):
        raise DataError(f"{label}: x must be a photon energy with a unit (e.g. TeV); got {x_unit}")
    out = QTable(meta=meta)
    for col in GAMMA_COLUMNS:
        out[col] = _floats(table, col, x_unit if col.startswith("x") else y_unit, label)
    out["upper_limit"] = _flags(table, "upper_limit", label)
    _check(np.isfinite(out["x"].value) & (out["x"].value > 0), label, "x must be finite and > 0", out["x"])
    _check(np.isfinite(out["y"].value) & (out["y"].value > 0), label, "y must be finite and > 0", out["y"])
    for col in GAMMA_COLUMNS[1:3] + GAMMA_COLUMNS[4:]:
        _check(_nonneg_or_nan(out[col]), label, f"{col} must be >= 0 or empty", out[col])
    have_err = np.isfinite(out["y_err_lo"].value) & np.isfinite(out["y_err_hi"].value)
    _check(have_err | out["upper_limit"], label, "each flux point needs y_err_lo/hi (or upper_limit = 1)", out["x"])
    for col in _extras(table, GAMMA_COLUMNS + ("upper_limit",)):
        out[col] = table[col]
    return out


def _catalog(table: QTable, label: str, meta: dict) -> QTable:
    out = QTable(meta=meta)
    out["name"] = np.asarray(table["name"], dtype=str)
    for col in CATALOG_COLUMNS[1:5]:
        out[col] = _floats(table, col, ANGLE, label)
    for col in CATALOG_COLUMNS[5:8]:
        out[col] = _floats(table, col, DISTANCE, label)
    out["class"] = np.asarray(table["class"], dtype=str) if "class" in table.colnames else np.full(len(table), "")
    _check(np.char.str_len(out["name"]) > 0, label, "every source needs a name", out["name"])
    for col, lo, hi in (("l", 0, 360), ("b", -90, 90), ("ra", 0, 360), ("dec", -90, 90)):
        v = out[col].value
        _check(np.isfinite(v) & (v >= lo) & (v <= hi), label, f"{col} must be within [{lo}, {hi}] deg", out[col])
    for col in CATALOG_COLUMNS[5:8]:
        _check(_nonneg_or_nan(out[col]), label, f"{col} must be >= 0 or empty", out[col])
    for col in _extras(table, CATALOG_COLUMNS):
        out[col] = table[col]
    return out


def canonical(table, quantity: str, label: str) -> QTable:
    """Check ``table`` against the format of ``quantity``; return it in canonical form.

    ``label`` names the dataset in error messages. Raises :class:`DataError` naming the
    first offending column, value or provenance key.
    """
    if quantity not in QUANTITIES:
        raise DataError(f"unknown quantity {quantity!r}; expected one of {', '.join(QUANTITIES)}")
    table = QTable(table, copy=False)
    if len(table) == 0:
        raise DataError(f"{label}: the table has no rows")
    for col in REQUIRED_COLUMNS[quantity]:
        if col not in table.colnames:
            raise DataError(f"{label}: required column {col!r} is missing")
        if col != "name" and np.asarray(table[col]).dtype.kind not in "fiu":
            raise DataError(f"{label}: column {col!r} is not numeric")
    meta = _meta(table, quantity, label)
    if quantity in SPECTRA:
        return _spectrum(table, quantity, label, meta)
    if quantity == "anisotropy":
        return _anisotropy(table, label, meta)
    if quantity == "gamma":
        return _gamma(table, label, meta)
    return _catalog(table, label, meta)
