"""Loading datasets in crknee's units and moving spectra between energy variables.

:func:`load` returns, whatever the source units were:

* spectra (proton, helium, light, allparticle, element spectra ``nuclei``), the ratios
  (``bc``, ``ratio``) and ``<lnA>`` (``lnA``): ``x`` in the unit of its variable (GeV for
  Etot/Ek/Ekn, GV for R), fluxes in m^-2 s^-1 sr^-1 per that unit (ratios and ``<lnA>``
  dimensionless), plus ``y_err_lo/hi``;
* anisotropy: energies in GeV, amplitudes (value, statistical and systematic errors, upper
  limit) as fractions, phases in deg as published (docs/data.md "Anisotropy");
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
    ANGLE,
    DISTANCE,
    FLUXES,
    GAMMA_X,
    GAMMA_Y,
    INTENSITY,
    RATIOS,
    SPECTRA,
    canonical,
    conversion_nuclide,
)
from crknee.errors import DataError, InputError
from crknee.kinematics import ELEMENT_SYMBOLS, VARIABLES, convert_energy, convert_flux

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
    yu = INTENSITY / xu if table.meta["quantity"] in FLUXES else u.dimensionless_unscaled
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
                raise DataError(
                    f"dataset {name!r} does not give statistical uncertainties for every point; use errors='total'"
                )
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
    ``errors="stat"``: statistical only. For gamma tables ``y_err`` is the published
    uncertainty; anisotropy tables always hold ``y_err`` (statistical) and ``y_sys``
    (systematic) apart. For both only ``"total"`` (the default) is accepted.
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
        if errors != "total" and quantity == "gamma":
            raise DataError(f"dataset {name!r} gives only its published (total) uncertainty; use errors='total'")
        if errors != "total":
            raise DataError(
                f"dataset {name!r} is an anisotropy table: it always gives y_err (statistical) and "
                "y_sys (systematic) as separate columns; use errors='total' (the default)"
            )
        xu = GAMMA_X if quantity == "gamma" else u.GeV
        for c in ("x", "x_lo", "x_hi"):
            table[c] = table[c].to(xu)
        if quantity == "gamma":
            for c in _y_columns(table):
                table[c] = table[c].to(GAMMA_Y)
    return table


def check_independent(names) -> list[str]:
    """``names`` unchanged if no two of them hold the same measurement; DataError otherwise.

    A dataset whose rows repeat another's (``meta["duplicate_of"]``, e.g.
    ``anisotropy/KASCADE-Grande_2019`` repeats ``anisotropy/CRDB_KASCADE-Grande`` number for
    number) must not be fitted together with it: a likelihood would count it twice.
    """
    names = list(names)
    chosen = set(names)
    for name in names:
        twin = load(name).meta.get("duplicate_of")
        if twin and twin in chosen:
            raise DataError(f"datasets {name!r} and {twin!r} hold the same measurement (meta duplicate_of): select one")
    return names


def anisotropy_compilation(cross_check: bool = False) -> list[str]:
    """Names of the anisotropy datasets holding the world's data, each measurement once.

    Every dataset of the CRDB world compilation (``meta["compilation"] == "CRDB-2023"``)
    and every other dataset with ``role_hint`` "fit" (the older single values, user data);
    ``cross_check=True`` adds the rest (the Li et al. 2024 figure digitisation). A dataset
    whose ``duplicate_of`` is in the list is left out. For figures; a fit selects its
    datasets by name or pattern and checks them with :func:`check_independent`.
    """
    from crknee.data.schema import COMPILATION_CRDB

    chosen = {}
    for name in store.names("anisotropy"):
        meta = load(name).meta
        if cross_check or meta.get("role_hint") == "fit" or meta.get("compilation") == COMPILATION_CRDB:
            chosen[name] = meta
    return [n for n, meta in chosen.items() if meta.get("duplicate_of") not in chosen]


def ratio_names(numerator: str | None = None, denominator: str | None = None) -> list[str]:
    """Names of the ratio datasets (families ``bc`` and ``ratio``) of ``numerator``/``denominator``.

    Either element may be None (any). ``ratio_names("B", "C")`` gives the ``bc/...``
    datasets; ``ratio_names("B", "O")`` the ``ratio/..._B_O`` ones. Element symbols
    are checked (DataError naming an unknown one).
    """
    from crknee.data.schema import element_of

    want = {
        key: element_of(value, "ratio_names", key)
        for key, value in (("numerator", numerator), ("denominator", denominator))
        if value is not None
    }
    out = []
    for quantity in RATIOS:
        for name in store.names(quantity):
            meta = load(name).meta
            if all(meta.get(key) == value for key, value in want.items()):
                out.append(name)
    return out


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
    are multiplied by the Jacobian d(old)/d(var) at ``x``; ratios and ``<lnA>`` keep their
    values (for a ratio this is exact only if numerator and denominator share A/Z).
    All-particle, light, ratio and ``<lnA>`` tables have no single species: they can only
    be asked for in their own variable unless ``species`` is given explicitly.

    An element symbol as species (an element spectrum's ``meta["species"]``, e.g. "C")
    converts as the element's :func:`~crknee.data.schema.conversion_nuclide` (C12), which
    is recorded in ``meta["conversion_nuclide"]``: an approximation below ~10 GV, where the
    isotopes' A/Z matter (docs/data.md "Element spectra").
    """
    meta = table.meta
    quantity = meta.get("quantity")
    if quantity not in SPECTRA:
        raise InputError(
            f"to_variable needs a cosmic-ray spectrum or ratio; dataset {meta.get('name')!r} is {quantity!r}"
        )
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
    nuc = species
    if species in ELEMENT_SYMBOLS:
        nuc = conversion_nuclide(species)
        out.meta["conversion_nuclide"] = nuc
    for c in ("x_lo", "x_hi"):
        out[c] = _convert_edges(table[c], frm, var, nuc)
    if quantity not in FLUXES:
        out["x"] = convert_energy(table["x"], frm, var, nuc)
    else:
        x_new, jac = convert_flux(table["x"], np.ones(len(table)) * u.one, frm, var, nuc)
        out["x"] = x_new
        for c in _y_columns(table):
            out[c] = (table[c] * jac).to(INTENSITY / VARIABLES[var])
    out.meta.update(x_variable=var, species=species, converted_from=frm)
    return out
