"""Loading datasets in crknee's units and moving spectra between energy variables.

:func:`load` returns, whatever the source units were:

* spectra: ``x`` in the unit of its variable (GeV for Etot/Ek/Ekn, GV for R), fluxes in
  m^-2 s^-1 sr^-1 per that unit (ratios dimensionless), plus ``y_err_lo/hi``;
* anisotropy: energies in GeV, amplitudes as fractions, phases in deg;
* gamma: photon energy in TeV, E^2 dN/dE in erg cm^-2 s^-1;
* catalogues: angles in deg, distances in kpc.
"""
from __future__ import annotations

from functools import lru_cache

import astropy.units as u
import numpy as np
from astropy.table import QTable

from crknee.data import store
from crknee.data.schema import (
    ANGLE, DISTANCE, GAMMA_X, GAMMA_Y, INTENSITY, SPECTRA, canonical,
)
from crknee.errors import DataError, InputError
from crknee.kinematics import VARIABLES, convert_energy, convert_flux

ERRORS = ("total", "stat")


@lru_cache(maxsize=256)
def _read(path: str, mtime_ns: int, size: int) -> QTable:
    try:
        table = QTable.read(path, format="ascii.ecsv")
    except Exception as exc:  # astropy raises many types for a damaged file
        raise DataError(f"dataset file {path} is corrupt or not ECSV ({type(exc).__name__}: {exc})") from exc
    quantity = table.meta.get("quantity")
    if not quantity:
        raise DataError(f"dataset file {path} has no 'quantity' in its metadata")
    return canonical(table, quantity, path)


def _y_columns(table: QTable) -> list[str]:
    """Columns in the unit of ``y`` (the value and all its uncertainty columns)."""
    unit = table["y"].unit
    return [c for c in table.colnames if c.startswith("y") and getattr(table[c], "unit", None) == unit]


def _spectrum_units(table: QTable) -> None:
    var = table.meta["x_variable"]
    xu = VARIABLES[var]
    yu = u.dimensionless_unscaled if table.meta["quantity"] == "bc" else INTENSITY / xu
    for c in ("x", "x_lo", "x_hi"):
        table[c] = table[c].to(xu)
    for c in _y_columns(table):
        table[c] = table[c].to(yu)


def _with_errors(table: QTable, errors: str) -> QTable:
    """Copy of spectrum ``table`` with ``y_err_lo/hi`` (total or stat) after ``y_sys_hi``."""
    name = table.meta["name"]
    err = {}
    for side in ("lo", "hi"):
        stat = table[f"y_stat_{side}"]
        if errors == "stat":
            if np.any(np.isnan(stat.value) & ~table["upper_limit"]):
                raise DataError(f"dataset {name!r} does not give statistical uncertainties for every point; use errors='total'")
            err[side] = stat
            continue
        total = np.hypot(stat.value, np.nan_to_num(table[f"y_sys_{side}"].value, nan=0.0))
        if f"y_tot_{side}" in table.colnames:
            published = table[f"y_tot_{side}"].value
            total = np.where(np.isfinite(published), published, total)
        err[side] = total * stat.unit
    out = QTable(meta=table.meta)
    for c in table.colnames:
        out[c] = table[c]
        if c == "y_sys_hi":
            out["y_err_lo"], out["y_err_hi"] = err["lo"], err["hi"]
    return out


def load(name: str, errors: str = "total") -> QTable:
    """Dataset ``name`` (``<quantity>/<stem>``) as a QTable in crknee units with provenance meta.

    ``errors="total"``: ``y_err`` = stat (+) sys in quadrature (the published total where
    only that is given; a missing systematic counts as zero, see the dataset notes);
    ``errors="stat"``: statistical only. For gamma and anisotropy tables ``y_err`` is
    the published uncertainty and only ``"total"`` is accepted.
    """
    if errors not in ERRORS:
        raise InputError(f"errors must be one of {ERRORS}; got {errors!r}")
    path = store.find(name)
    st = path.stat()
    table = _read(str(path), st.st_mtime_ns, st.st_size).copy(copy_data=True)
    table.meta = dict(table.meta)
    table.meta["name"] = name
    quantity = table.meta["quantity"]
    if quantity != name.partition("/")[0]:
        raise DataError(f"dataset file {path} says quantity {quantity!r}, its name says {name!r}")
    if quantity in SPECTRA:
        _spectrum_units(table)
        table = _with_errors(table, errors)
    elif quantity == "catalog":
        for c in ("l", "b", "ra", "dec"):
            table[c] = table[c].to(ANGLE)
        for c in ("distance", "distance_lo", "distance_hi"):
            table[c] = table[c].to(DISTANCE)
    else:
        if errors != "total":
            raise DataError(f"dataset {name!r} gives only its published (total) uncertainty; use errors='total'")
        xu = GAMMA_X if quantity == "gamma" else u.GeV
        for c in ("x", "x_lo", "x_hi"):
            table[c] = table[c].to(xu)
        if quantity == "gamma":
            for c in _y_columns(table):
                table[c] = table[c].to(GAMMA_Y)
    return table


def _convert_edges(q: u.Quantity, frm: str, to: str, species) -> u.Quantity:
    """convert_energy on the finite entries of ``q``; NaN (edge not published) stays NaN."""
    out = np.full(q.shape, np.nan)
    ok = np.isfinite(q.value)
    if np.any(ok):
        out[ok] = convert_energy(q[ok], frm, to, species).to_value(VARIABLES[to])
    return out * VARIABLES[to]


def to_variable(table: QTable, var: str, species=None) -> QTable:
    """Spectrum ``table`` (from :func:`load`) expressed in energy variable ``var``.

    ``x``, ``x_lo``, ``x_hi`` are converted exactly through the momentum for ``species``
    (default: the dataset's own, ``meta["species"]``); fluxes and their uncertainties
    are multiplied by the Jacobian d(old)/d(var) at ``x``; ratios keep their values.
    All-particle and light spectra have no single species: they can only be asked for
    in their own variable unless ``species`` is given explicitly.
    """
    meta = table.meta
    quantity = meta.get("quantity")
    if quantity not in SPECTRA:
        raise InputError(f"to_variable needs a cosmic-ray spectrum or ratio; dataset {meta.get('name')!r} is {quantity!r}")
    if var not in VARIABLES or var == "p":
        raise InputError(f"unknown energy variable {var!r}; expected one of Etot, Ek, Ekn, R")
    frm = meta["x_variable"]
    species = species or meta.get("species")
    out = table.copy(copy_data=True)
    out.meta = dict(meta)
    if frm == var:
        out.meta["species"] = species
        return out
    if species is None:
        raise InputError(
            f"dataset {meta.get('name')!r} ({quantity}) has no single species; pass species= to convert {frm} -> {var}"
        )
    for c in ("x_lo", "x_hi"):
        out[c] = _convert_edges(table[c], frm, var, species)
    if quantity == "bc":
        out["x"] = convert_energy(table["x"], frm, var, species)
    else:
        x_new, jac = convert_flux(table["x"], np.ones(len(table)) * u.one, frm, var, species)
        out["x"] = x_new
        for c in _y_columns(table):
            out[c] = (table[c] * jac).to(INTENSITY / VARIABLES[var])
    out.meta.update(x_variable=var, species=species, converted_from=frm)
    return out
