"""X-ray binary catalogues on one footing: validation, merging and the microquasars.

Input tables follow the catalogue contract of ``crknee.data`` (docs/architecture.md):
columns ``name, l [deg], b [deg], distance, distance_lo, distance_hi [kpc]`` (NaN = not
given; ``distance_lo``/``distance_hi`` are the lower/upper ends of the quoted interval,
not errors), ``class``, and any ``alt_name*`` columns holding other names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import astropy.units as u
import numpy as np
from astropy.table import QTable

from crknee.errors import DataError

#: Catalogues used by default, first = highest priority when a source is in several:
#: Neumann et al. 2023 (A&A 677, A134) and Fortin et al. 2023 (A&A 671, A149) HMXBs;
#: Liu et al. 2007 (A&A 469, 807) LMXBs (stand-in for Avakyan et al. 2023, not found)
#: and the unpublished ScorpionesXone 2021 LMXB list (the only one with V4641 Sgr and
#: MAXI J1820+070).  See shared/data/SOURCES-other.md.
DEFAULT_CATALOGS = (
    "catalog/HMXB_Neumann2023",
    "catalog/HMXB_Fortin2023",
    "catalog/LMXB_Liu2007",
    "catalog/LMXB_ScorpionesXone2021_unpublished",
)

#: The five LHAASO microquasars of the paper (Sec. 1, Fig. 10) and the names under which
#: the catalogues list them (primary or alternative names found in the bundled files).
MICROQUASARS = {
    "SS 433": ("SS 433", "4U 1908+05", "V1343 Aql"),
    "V4641 Sgr": ("V4641 Sgr", "SAX J1819.3-2525"),
    "GRS 1915+105": ("GRS 1915+105", "V1487 Aql"),
    "MAXI J1820+070": ("MAXI J1820+070", "ASASSN-18ey"),
    "Cyg X-1": ("Cyg X-1", "Cygnus X-1", "HD 226868", "V1357 Cyg"),
}

#: Two entries closer than this on the sky are one source (the same Gaia position gives
#: 0-1.3 arcsec between Neumann and Fortin entries; distinct X-ray binaries in globular
#: clusters such as Terzan 5 are >= 6 arcsec apart in the bundled catalogues).
MATCH_RADIUS = 3 * u.arcsec

_PREFIXES = (("cygnus", "cyg"), ("granat", "grs"), ("ginga", "gs"))
_REQUIRED = ("name", "l", "b", "distance", "distance_lo", "distance_hi", "class")
_NAME_SPLIT = re.compile(r"[;|]")


def normalise_name(name: str) -> str:
    """Comparison key of a source name: case, blanks, '_' and '.' ignored, and the
    spelled-out prefixes Cygnus, Granat and Ginga read as Cyg, GRS and GS."""
    key = re.sub(r"[\s_.]", "", str(name)).lower()
    for long, short in _PREFIXES:
        if key.startswith(long):
            key = short + key[len(long) :]
    return key


def _column_values(table, col, unit, catalog):
    values = table[col]
    if unit is None:
        return values
    try:
        q = u.Quantity(values, copy=False)
        if q.unit == u.dimensionless_unscaled and not isinstance(values, u.Quantity):
            q = q.value * unit  # plain column: the contract unit
        arr = q.to_value(unit)
    except u.UnitsError as exc:
        raise DataError(f"{catalog}: column {col!r} must be in {unit}: {exc}") from exc
    return np.ma.filled(np.ma.asarray(arr, dtype=float), np.nan)


def _alt_names(table, i) -> list[str]:
    names = []
    for col in table.colnames:
        if col.startswith("alt_name"):
            value = table[col][i]
            if value is not np.ma.masked and str(value).strip() not in ("", "--"):
                names += [s.strip() for s in _NAME_SPLIT.split(str(value)) if s.strip()]
    return names


def _validate(catalog, names, l_deg, b_deg, d, lo, hi):
    def fail(i, what, value):
        raise DataError(f"{catalog}: row {i} ({names[i]!r}): {what}; got {value!r}")

    for i, name in enumerate(names):
        if not name.strip() or name.strip() == "--":
            fail(i, "empty name", name)
    for i in np.flatnonzero(~np.isfinite(l_deg) | (l_deg < -360) | (l_deg > 360)):
        fail(i, "l must be a finite angle in [-360, 360] deg", l_deg[i])
    for i in np.flatnonzero(~(np.abs(b_deg) <= 90)):
        fail(i, "b must lie in [-90, 90] deg", b_deg[i])
    for col, arr in (("distance", d), ("distance_lo", lo), ("distance_hi", hi)):
        for i in np.flatnonzero(~np.isnan(arr) & ~(np.isfinite(arr) & (arr > 0))):
            fail(i, f"{col} must be NaN (not given) or finite and > 0 kpc", arr[i])
    with np.errstate(invalid="ignore"):
        for i in np.flatnonzero(lo > d):
            fail(i, f"distance_lo {lo[i]} kpc exceeds distance (interval ends, not errors?)", d[i])
        for i in np.flatnonzero(hi < d):
            fail(i, f"distance_hi {hi[i]} kpc below distance (interval ends, not errors?)", d[i])
        for i in np.flatnonzero(lo >= hi):
            fail(i, "distance_lo must be < distance_hi", (lo[i], hi[i]))


def standardise(table, catalog: str) -> QTable:
    """One catalogue table -> crknee's binary table (validated), ``catalog`` named in it.

    Raises :class:`DataError` naming the catalogue, the row and the value for a missing
    column, an empty name, an impossible coordinate or distance, or an interval whose
    ends do not bracket the distance.
    """
    missing = [c for c in _REQUIRED if c not in table.colnames]
    if missing:
        raise DataError(f"{catalog}: missing column(s) {missing}; has {table.colnames}")
    names = [str(n) for n in np.ma.filled(np.ma.asarray(table["name"]), "")]
    l_deg = _column_values(table, "l", u.deg, catalog)
    b_deg = _column_values(table, "b", u.deg, catalog)
    d, lo, hi = (_column_values(table, c, u.kpc, catalog) for c in ("distance", "distance_lo", "distance_hi"))
    _validate(catalog, names, l_deg, b_deg, d, lo, hi)
    out = QTable()
    out["name"] = names
    out["class"] = [str(c) for c in np.ma.filled(np.ma.asarray(table["class"]), "")]
    out["catalog"] = [catalog] * len(names)
    out["alt_names"] = ["; ".join(_alt_names(table, i)) for i in range(len(names))]
    out["l"] = np.mod(l_deg, 360.0) * u.deg
    out["b"] = b_deg * u.deg
    out["distance"] = d * u.kpc
    out["distance_lo"] = lo * u.kpc
    out["distance_hi"] = hi * u.kpc
    out["distance_catalog"] = np.where(np.isfinite(d) | np.isfinite(lo), catalog, "")
    return out


def _keys(rec) -> set[str]:
    alts = [s for s in str(rec["alt_names"]).split("; ") if s]
    return {normalise_name(n) for n in [rec["name"], *alts]}


def merge(tables: Mapping[str, object]) -> QTable:
    """Validate and concatenate catalogues (mapping name -> table), in priority order.

    A source already present (same normalised name or alternative name, or within
    :data:`MATCH_RADIUS` on the sky) is not added again; when the kept row has no distance
    and the later one has, the later distance and interval are taken and
    ``distance_catalog`` says from where.  Each row gets
    ``microquasar``: the paper's name of the microquasar it is, or "".
    """
    records: list[dict] = []
    seen: dict[str, int] = {}
    columns: list[str] = []
    for catalog, table in tables.items():
        std = standardise(table, catalog)
        columns = std.colnames
        for row in std:
            rec = {c: row[c] for c in columns}
            keys = _keys(rec)
            hit = next((seen[k] for k in keys if k in seen), None)
            if hit is None and records:
                sep = _separation_deg(rec, records)
                hit = int(np.argmin(sep)) if sep.min() < MATCH_RADIUS.to_value(u.deg) else None
            if hit is None:
                hit = len(records)
                records.append(rec)
            elif not records[hit]["distance_catalog"] and rec["distance_catalog"]:
                for col in ("distance", "distance_lo", "distance_hi", "distance_catalog"):
                    records[hit][col] = rec[col]
            for k in keys:
                seen.setdefault(k, hit)
    if not records:
        raise DataError(f"no binaries in the catalogues {list(tables)}")
    merged = QTable()
    for col in columns:
        values = [rec[col] for rec in records]
        merged[col] = u.Quantity(values) if isinstance(values[0], u.Quantity) else [str(v) for v in values]
    merged["microquasar"] = [_microquasar_of(rec) for rec in records]
    merged.meta["catalogs"] = list(tables)
    return merged


def _separation_deg(rec, records) -> np.ndarray:
    """Angular distance [deg] from ``rec`` to each of ``records`` (haversine formula)."""
    l0, b0 = np.deg2rad(rec["l"].to_value(u.deg)), np.deg2rad(rec["b"].to_value(u.deg))
    l1 = np.deg2rad([r["l"].to_value(u.deg) for r in records])
    b1 = np.deg2rad([r["b"].to_value(u.deg) for r in records])
    h = np.sin((b1 - b0) / 2) ** 2 + np.cos(b0) * np.cos(b1) * np.sin((l1 - l0) / 2) ** 2
    return np.rad2deg(2 * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


def _microquasar_of(row) -> str:
    keys = _keys(row)
    for mq, aliases in MICROQUASARS.items():
        if keys & {normalise_name(a) for a in aliases}:
            return mq
    return ""


def load_binaries(catalogs=DEFAULT_CATALOGS) -> QTable:
    """Load the named ``crknee.data`` catalogues and :func:`merge` them (priority order)."""
    from crknee import data

    catalogs = list(catalogs)
    if not catalogs:
        raise DataError("no catalogue requested")
    return merge({name: data.load(name) for name in catalogs})
