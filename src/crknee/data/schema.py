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
from crknee.kinematics import ELEMENT_SYMBOLS, VARIABLES, nuclide

#: Cosmic-ray tables in the spectrum format (x, y, stat/sys errors; quantity -> folder under
#: ``bundled/``): fluxes, the B/C ratio, the other element ratios and the mean log mass.
SPECTRA = ("proton", "helium", "light", "allparticle", "bc", "nuclei", "ratio", "lnA")
#: The spectrum-format quantities whose y is a differential intensity (the rest are dimensionless).
FLUXES = ("proton", "helium", "light", "allparticle", "nuclei")
#: Element ratios: ``bc`` (B/C, the historical family) and ``ratio`` (every other ratio).
RATIOS = ("bc", "ratio")
#: Every dataset quantity, in listing order.
QUANTITIES = SPECTRA + ("anisotropy", "gamma", "catalog")
FOLDERS = {
    **{q: f"cr/{q}" for q in SPECTRA},
    "ratio": "cr/ratios",
    "anisotropy": "anisotropy",
    "gamma": "gamma",
    "catalog": "catalogs",
}
#: Default species of single-species spectra (crknee.kinematics names).
SPECIES = {"proton": "H1", "helium": "He4"}
#: Numerator and denominator of the ``bc`` family.
BC_SPECIES = ("B", "C")
#: ``<lnA>`` is checked against [0, ln 56 + LNA_MARGIN]: ln A of iron-56 is 4.03; the margin of 0.5
#: leaves room for a fluctuation above pure iron, while a value beyond it (A > 92) means the column
#: is not ln A (e.g. A itself or X_max).
LNA_MARGIN = 0.5
#: Hadronic interaction models, normalised spelling (key: the name lower-cased without punctuation).
HADRONIC_MODELS = {
    "eposlhc": "EPOS-LHC",
    "qgsjetii04": "QGSJET-II-04",
    "sibyll23d": "SIBYLL-2.3d",
    "sibyll23c": "SIBYLL-2.3c",
    "sibyll23": "SIBYLL-2.3",
    "sibyll21": "SIBYLL-2.1",
    "qgsjetii03": "QGSJET-II-03",
    "qgsjetii02": "QGSJET-II-02",
    "qgsjetii2": "QGSJET-II-2",
    "qgsjet01": "QGSJET-01",
    "qgsjet01c": "QGSJET-01c",
}

#: Differential intensity unit without its "per unit of the energy variable" factor.
INTENSITY = u.m**-2 * u.s**-1 * u.sr**-1
#: Units that :func:`crknee.data.load` returns for the non-spectrum quantities.
GAMMA_X, GAMMA_Y = u.TeV, u.erg * u.cm**-2 * u.s**-1
ANGLE, DISTANCE = u.deg, u.kpc

SPECTRUM_COLUMNS = ("x", "x_lo", "x_hi", "y", "y_stat_lo", "y_stat_hi", "y_sys_lo", "y_sys_hi")
#: Optional spectrum columns: total uncertainty where the source does not split stat/sys.
TOTAL_COLUMNS = ("y_tot_lo", "y_tot_hi")
#: Canonical anisotropy columns, in order (docs/data.md "Anisotropy"): energy [GeV], the
#: measured amplitude (fraction, NaN for a limit-only row) with statistical and systematic
#: errors, the upper limit ``y_ul`` (NaN if none), the RA phase [deg] as published, the row
#: flags and the experiment of each row.
ANISOTROPY_COLUMNS = (
    "x",
    "x_lo",
    "x_hi",
    "y",
    "y_err_lo",
    "y_err_hi",
    "y_sys_lo",
    "y_sys_hi",
    "y_ul",
    "upper_limit",
    "phase",
    "phase_err_lo",
    "phase_err_hi",
    "amp_err_lo_reaches_zero",
    "phase_err_missing",
    "amp_err_missing",
    "experiment",
)
#: Boolean row flags of an anisotropy table (0/1 in a CSV file).
ANISOTROPY_FLAGS = ("upper_limit", "amp_err_lo_reaches_zero", "phase_err_missing", "amp_err_missing")
#: ``meta["compilation"]`` of every dataset split out of the CRDB world compilation (June 2023).
COMPILATION_CRDB = "CRDB-2023"
#: ``meta["role_hint"]`` values: a dataset to fit, or one kept to cross-check another.
ROLE_HINTS = ("fit", "cross-check")
#: Phases are stored as published: any value in [-PHASE_LIMIT, PHASE_LIMIT] deg.
PHASE_LIMIT_DEG = 360.0
GAMMA_COLUMNS = ("x", "x_lo", "x_hi", "y", "y_err_lo", "y_err_hi")
CATALOG_COLUMNS = ("name", "l", "b", "ra", "dec", "distance", "distance_lo", "distance_hi", "class")
#: Meta keys written first, in this order (others follow in their own order).
META_KEYS = (
    "name",
    "quantity",
    "experiment",
    "reference",
    "origin",
    "licence",
    "x_variable",
    "species",
    "numerator",
    "denominator",
    "hadronic_model",
    "notes",
)
REQUIRED_META = ("experiment", "reference")
REQUIRED_COLUMNS = {
    **dict.fromkeys(SPECTRA, ("x", "y")),
    "gamma": ("x", "y"),
    "anisotropy": (),
    "catalog": ("name", "l", "b", "ra", "dec"),
}

_XVAR_PHRASES = (
    ("total energy per particle", "Etot"),
    ("kinetic energy per particle", "Ek"),
    ("kinetic energy per nucleon", "Ekn"),
    ("rigidity", "R"),
)


def x_variable_of(text) -> str:
    """crknee variable (Etot/Ek/Ekn/R) named by an ``x_variable`` header line or code."""
    text = "" if text is None else str(text).strip()
    if not text:
        raise DataError(
            "x_variable is missing: a CSV file needs a line '# x_variable: ...' (Etot, Ek, Ekn, R or "
            "'total energy per particle', 'kinetic energy per particle', 'kinetic energy per nucleon', "
            "'rigidity')"
        )
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
    the unit of crknee's ``Ekn``; ``dimensionless ratio`` and ``ln A`` (the natural log of
    the mass number, for ``<lnA>``) are dimensionless.
    """
    raw = str(text).strip()
    s = raw.replace("(GeV/n)", "GeV").replace("GeV/n", "GeV")
    s = re.sub(r"\s+\([^()]*(\([^()]*\)[^()]*)*\)\s*$", "", s)
    if s.lower().startswith("dimensionless") or s == "" or re.sub(r"\s+", "", s.lower()) == "lna":
        return u.dimensionless_unscaled
    try:
        return u.Unit(s.replace("^", ""))
    except ValueError as exc:
        raise DataError(f"{what} unit {raw!r} is not a unit astropy can parse") from exc


def element_of(value, label: str, key: str) -> str:
    """Element symbol (H..Ni, crknee.kinematics.ELEMENT_SYMBOLS) given in meta ``key``.

    The spelling is normalised ("fe", "FE" -> "Fe"); DataError naming ``value`` otherwise.
    """
    text = "" if value is None else str(value).strip()
    symbol = text[:1].upper() + text[1:].lower()
    if symbol not in ELEMENT_SYMBOLS:
        if not text:
            raise DataError(f"{label}: meta {key!r} is missing: name the element (a CSV file: a line '# {key}: C')")
        raise DataError(
            f"{label}: meta {key!r} = {text!r} is not an element crknee knows "
            f"({ELEMENT_SYMBOLS[0]}..{ELEMENT_SYMBOLS[-1]}: {', '.join(ELEMENT_SYMBOLS)})"
        )
    return symbol


def conversion_nuclide(element: str) -> str:
    """Nuclide that stands for ``element`` when an element spectrum changes energy variable.

    Convention (docs/data.md "Element spectra"): the element's most abundant isotope in
    natural (terrestrial, IUPAC) abundance from the ``periodictable`` package, e.g. C -> C12,
    B -> B11, Fe -> Fe56. An element flux sums isotopes whose A/Z differ, so converting
    R <-> Ekn with one A is approximate below ~10 GV; a model should rather be evaluated in
    the dataset's own ``x_variable``.
    """
    import periodictable

    el = periodictable.elements.symbol(element_of(element, "conversion_nuclide", "element"))
    A = max(el.isotopes, key=lambda a: el[a].abundance)
    return nuclide(f"{el.symbol}{A}").name


def hadronic_model_of(text, label: str) -> str | None:
    """Normalised hadronic-interaction-model name (:data:`HADRONIC_MODELS`), None if not given."""
    raw = "" if text is None else str(text).strip()
    if not raw:
        return None
    key = re.sub(r"[^a-z0-9]", "", raw.lower())
    if key not in HADRONIC_MODELS:
        raise DataError(
            f"{label}: meta 'hadronic_model' {raw!r} is not a model crknee knows "
            f"({', '.join(sorted(set(HADRONIC_MODELS.values())))})"
        )
    return HADRONIC_MODELS[key]


def lna_max() -> float:
    """Upper bound of a valid ``<lnA>``: ln A of iron-56 (4.03) + :data:`LNA_MARGIN`."""
    return float(np.log(nuclide("Fe56").A)) + LNA_MARGIN


def _shown(col: str, aliases: dict) -> str:
    """Column name for a message: the canonical name and, if renamed, the file's own."""
    return f"{col!r} (file column {aliases[col]!r})" if col in aliases else repr(col)


def _floats(table: QTable, col: str, unit, label: str, aliases: dict | None = None) -> u.Quantity:
    """Column ``col`` as a float Quantity in ``unit`` (NaN if absent)."""
    if col not in table.colnames:
        return np.full(len(table), np.nan) * unit
    c = table[col]
    values = c.value if isinstance(c, u.Quantity) else np.asarray(c)
    try:
        values = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)
    except (TypeError, ValueError):
        text = np.ma.filled(np.ma.asarray(values).astype(str), "")
        row = next((i for i, v in enumerate(text) if _not_a_number(v)), 0)
        raise DataError(
            f"{label}: data row {row + 1}, column {_shown(col, aliases or {})}: "
            f"{text[row]!r} is not a number (column is not numeric)"
        ) from None
    have = c.unit if isinstance(c, u.Quantity) else (getattr(c, "unit", None) or u.dimensionless_unscaled)
    try:
        return (values * u.Unit(have)).to(unit)
    except u.UnitConversionError as exc:
        raise DataError(
            f"{label}: column {_shown(col, aliases or {})} has unit {have}, not convertible to {unit}"
        ) from exc


def _not_a_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


def _flags(table: QTable, col: str, label: str, aliases: dict | None = None) -> np.ndarray:
    if col not in table.colnames:
        return np.zeros(len(table), dtype=bool)
    raw = table[col].value if isinstance(table[col], u.Quantity) else table[col]
    if np.asarray(raw).dtype.kind == "b":
        return np.ma.filled(np.ma.asarray(raw), False).astype(bool)
    vals = np.ma.filled(np.ma.asarray(raw), 0)
    try:
        flags = np.asarray(vals, dtype=float)
    except (TypeError, ValueError):
        text = np.asarray(vals).astype(str)
        row = next((i for i, v in enumerate(text) if v not in ("0", "1", "0.0", "1.0", "")), 0)
        raise DataError(
            f"{label}: data row {row + 1}, column {_shown(col, aliases or {})} must hold 0/1 flags; got {text[row]!r}"
        ) from None
    flags = np.nan_to_num(flags, nan=0.0)  # an empty cell: not flagged
    _check(np.isin(flags, (0.0, 1.0)), label, col, "must hold 0/1 flags", flags, aliases)
    return flags.astype(bool)


def _check(ok, label: str, col: str, what: str, values, aliases: dict | None = None) -> None:
    """DataError naming the first failing row (1-based data row), the column and its value."""
    ok = np.asarray(ok, dtype=bool)
    if not np.all(ok):
        row = int(np.argmin(ok))
        bad = np.asarray(getattr(values, "value", values))[row]
        bad = bad.item() if hasattr(bad, "item") else bad
        raise DataError(f"{label}: data row {row + 1}, column {_shown(col, aliases or {})}: {what}; got {bad!r}")


def _nonneg_or_nan(q: u.Quantity) -> np.ndarray:
    v = q.value
    return np.isnan(v) | (np.isfinite(v) & (v >= 0))


def _ordered_bins(out: QTable, label: str, lo: str = "x_lo", hi: str = "x_hi", aliases: dict | None = None) -> None:
    """``lo <= hi`` wherever both bin edges (or distance bounds) are given."""
    a, b = out[lo].value, out[hi].value
    _check(
        ~(np.isfinite(a) & np.isfinite(b)) | (a <= b),
        label,
        lo,
        f"{lo} exceeds {hi} ({hi} of that row: {b[np.argmax(np.isfinite(a) & np.isfinite(b) & (a > b))]!r})",
        out[lo],
        aliases,
    )


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
        try:
            meta["x_variable"] = x_variable_of(meta.get("x_variable", ""))
        except DataError as exc:
            raise DataError(f"{label}: {exc}") from None
        meta.setdefault("species", SPECIES.get(quantity))
    if quantity == "nuclei":
        meta["species"] = element_of(meta.get("species"), label, "species")
    elif quantity in RATIOS:
        for key, default in zip(("numerator", "denominator"), BC_SPECIES):
            if quantity == "bc" and meta.get(key) in (None, ""):
                meta[key] = default
            meta[key] = element_of(meta.get(key), label, key)
        if quantity == "bc" and (meta["numerator"], meta["denominator"]) != BC_SPECIES:
            raise DataError(
                f"{label}: a 'bc' dataset is B/C; got {meta['numerator']}/{meta['denominator']} (use quantity 'ratio')"
            )
        if meta["numerator"] == meta["denominator"]:
            raise DataError(f"{label}: numerator and denominator are both {meta['numerator']!r}")
    elif quantity == "lnA":
        if meta["x_variable"] != "Etot":
            raise DataError(
                f"{label}: <lnA> is given against the total energy per particle (x_variable Etot); "
                f"got {meta['x_variable']}"
            )
        meta["hadronic_model"] = hadronic_model_of(meta.get("hadronic_model"), label)
    if quantity in SPECTRA and meta.get("hadronic_model") not in (None, ""):
        meta["hadronic_model"] = hadronic_model_of(meta["hadronic_model"], label)
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
    want_y = INTENSITY / VARIABLES[xvar] if quantity in FLUXES else u.dimensionless_unscaled
    if not y_unit.is_equivalent(want_y):
        what = {"lnA": "dimensionless <lnA>", "bc": "ratio", "ratio": "ratio"}.get(
            quantity, f"flux per {VARIABLES[xvar]}"
        )
        raise DataError(f"{label}: y unit {y_unit} is not a {what}")
    out = QTable(meta=meta)
    for col in SPECTRUM_COLUMNS:
        out[col] = _floats(table, col, x_unit if col.startswith("x") else y_unit, label)
    out["upper_limit"] = _flags(table, "upper_limit", label)
    for col in TOTAL_COLUMNS:
        if col in table.colnames:
            out[col] = _floats(table, col, y_unit, label)
    _check(np.isfinite(out["x"].value) & (out["x"].value > 0), label, "x", "x must be finite and > 0", out["x"])
    if quantity == "lnA":
        top, y = lna_max(), out["y"].to_value(u.one)
        _check(
            np.isfinite(y) & (y >= 0) & (y <= top),
            label,
            "y",
            f"<lnA> must lie in [0, {top:.2f}] (ln A of "
            f"iron-56 is {top - LNA_MARGIN:.2f}, plus a margin of {LNA_MARGIN:g})",
            out["y"],
        )
    _check(np.isfinite(out["y"].value) & (out["y"].value >= 0), label, "y", "y must be finite and >= 0", out["y"])
    for col in SPECTRUM_COLUMNS[1:3] + SPECTRUM_COLUMNS[4:] + tuple(c for c in TOTAL_COLUMNS if c in out.colnames):
        _check(_nonneg_or_nan(out[col]), label, col, f"{col} must be >= 0 or empty", out[col])
    _ordered_bins(out, label)
    have_stat = np.isfinite(out["y_stat_lo"].value) & np.isfinite(out["y_stat_hi"].value)
    have_tot = (
        (np.isfinite(out["y_tot_lo"].value) & np.isfinite(out["y_tot_hi"].value))
        if "y_tot_lo" in out.colnames
        else False
    )
    _check(
        have_stat | have_tot | out["upper_limit"],
        label,
        "y_stat_lo",
        "each point needs y_stat_lo/hi or y_tot_lo/hi",
        out["x"],
    )
    for col in _extras(table, SPECTRUM_COLUMNS + TOTAL_COLUMNS + ("upper_limit",)):
        out[col] = table[col]
    return out


#: What an anisotropy dataset's amplitude may stand for (``meta["convention"]``): the
#: equatorial projection d_perp, the first harmonic r1 of an array at its site, r1 at
#: declination 0, the 3D amplitude.  Defined here, in the data layer, and used by the
#: physics of each convention (:mod:`crknee.anisotropy.conventions`).
ANISOTROPY_CONVENTIONS = ("d_perp", "r1", "r1_dec0", "d_3d")


def conventions() -> tuple[str, ...]:
    """The published-quantity conventions an anisotropy dataset may declare
    (:data:`ANISOTROPY_CONVENTIONS`)."""
    return ANISOTROPY_CONVENTIONS


def _meta_float(
    meta: dict, key: str, label: str, lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False
) -> float:
    raw = meta.get(key)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise DataError(f"{label}: meta {key!r} must be a number; got {raw!r}") from None
    ok = np.isfinite(value) and (value > lo if open_lo else value >= lo) and (value < hi if open_hi else value <= hi)
    if not ok:
        interval = f"{'(' if open_lo else '['}{lo:g}, {hi:g}{')' if open_hi else ']'}"
        raise DataError(f"{label}: meta {key!r} must lie in {interval}; got {raw!r}")
    return value


def _anisotropy_meta(meta: dict, label: str, any_limit: bool) -> None:
    """Check (in place) the convention, site, confidence level and role of an anisotropy dataset."""
    known = conventions()
    convention = str(meta.get("convention") or "").strip()
    if not convention:
        raise DataError(
            f"{label}: meta 'convention' is missing: say what the amplitude is, one of "
            f"{', '.join(known)} (a CSV file: a line '# convention: ...', or `crknee data add "
            "--convention ...`)"
        )
    if convention not in known:
        raise DataError(f"{label}: meta 'convention' {convention!r} is not one of {', '.join(known)}")
    meta["convention"] = convention
    for key, lo, hi in (("site_latitude_deg", -90.0, 90.0), ("zenith_max_deg", 0.0, 90.0)):
        if meta.get(key) in (None, ""):
            if convention == "r1":
                raise DataError(
                    f"{label}: convention 'r1' needs meta {key!r} (the array's site latitude and "
                    "zenith-angle cut set the factor r1 / d_perp)"
                )
            meta[key] = None
        else:
            meta[key] = _meta_float(meta, key, label, lo, hi, open_lo=key == "zenith_max_deg")
    if any_limit:
        if meta.get("upper_limit_cl") in (None, ""):
            raise DataError(
                f"{label}: the table gives upper limits (y_ul) but meta 'upper_limit_cl' "
                "(their confidence level, e.g. 0.99) is missing"
            )
        meta["upper_limit_cl"] = _meta_float(meta, "upper_limit_cl", label, 0.5, 1.0, open_lo=True, open_hi=True)
    elif meta.get("upper_limit_cl") not in (None, ""):
        meta["upper_limit_cl"] = _meta_float(meta, "upper_limit_cl", label, 0.5, 1.0, open_lo=True, open_hi=True)
    role = str(meta.get("role_hint") or "fit").strip()
    if role not in ROLE_HINTS:
        raise DataError(f"{label}: meta 'role_hint' {role!r} is not one of {', '.join(ROLE_HINTS)}")
    meta["role_hint"] = role
    for key in ("convention_reference", "series", "compilation", "description"):
        meta[key] = str(meta.get(key) or "")


def _anisotropy(table: QTable, label: str, meta: dict, aliases: dict) -> QTable:
    """The canonical anisotropy table (module docstring; docs/data.md "Anisotropy").

    Conversions, all documented: a row flagged ``upper_limit`` whose limit sits in ``y``
    and whose ``y_ul`` is empty (the format before the limit had its own column) has the
    limit moved to ``y_ul``; an error pair given as (0, 0) means "not given" (CRDB draws
    an absent error with zero length) and becomes NaN with ``amp_err_missing`` /
    ``phase_err_missing`` set.
    """
    n = len(table)
    out = QTable(meta=meta)
    for col in ANISOTROPY_COLUMNS:
        if col in ANISOTROPY_FLAGS:
            out[col] = _flags(table, col, label, aliases)
        elif col == "experiment":
            if col in table.colnames:
                out[col] = np.array([str(v).strip() for v in np.ma.filled(np.ma.asarray(table[col]).astype(str), "")])
            else:
                out[col] = np.full(n, str(meta.get("experiment", "")))
        else:
            unit = u.GeV if col.startswith("x") else (ANGLE if col.startswith("phase") else u.dimensionless_unscaled)
            out[col] = _floats(table, col, unit, label, aliases)
    if "y" not in table.colnames and "y_ul" not in table.colnames:
        raise DataError(
            f"{label}: required column 'y' (amplitude) or 'y_ul' (upper limit) is missing; "
            f"columns found: {', '.join(_found(table, aliases))}"
        )
    y, y_ul, ul = out["y"].value, out["y_ul"].value, np.asarray(out["upper_limit"])
    old_style = ul & np.isfinite(y) & np.isnan(y_ul)
    out["y_ul"] = np.where(old_style, y, y_ul) * u.one
    out["y"] = np.where(old_style, np.nan, y) * u.one
    y, y_ul = out["y"].value, out["y_ul"].value
    limit_only = np.isnan(y) & np.isfinite(y_ul)
    _check(
        ~ul | limit_only,
        label,
        "upper_limit",
        "a row flagged upper_limit gives only a limit: y empty and y_ul set",
        out["y"],
        aliases,
    )
    out["upper_limit"] = limit_only
    _check(np.isfinite(y) | limit_only, label, "y", "each row needs an amplitude y or an upper limit y_ul", y, aliases)
    for col in ("y", "y_ul"):
        v = out[col].value
        _check(np.isnan(v) | (v >= 0), label, col, "an amplitude must be >= 0 (a fraction, not %)", v, aliases)
        _check(np.isnan(v) | (v <= 1), label, col, "an amplitude must be <= 1 (a fraction, not %)", v, aliases)
    for lo, hi, flag, value in (
        ("y_err_lo", "y_err_hi", "amp_err_missing", "y"),
        ("phase_err_lo", "phase_err_hi", "phase_err_missing", "phase"),
    ):
        a, b = out[lo].value, out[hi].value
        zero = (a == 0) & (b == 0)
        out[lo], out[hi] = np.where(zero, np.nan, a) * out[lo].unit, np.where(zero, np.nan, b) * out[hi].unit
        given = np.isfinite(out[value].value)
        out[flag] = np.asarray(out[flag]) | (given & ~(np.isfinite(out[lo].value) & np.isfinite(out[hi].value)))
        _check(given | ~np.asarray(out[flag]), label, flag, f"flagged on a row without {value}", out[value], aliases)
    err_lo = out["y_err_lo"].value
    out["amp_err_lo_reaches_zero"] = np.asarray(out["amp_err_lo_reaches_zero"]) | (
        np.isfinite(y) & np.isfinite(err_lo) & (err_lo >= y) & (y > 0)
    )
    x, x_lo = out["x"].value, out["x_lo"].value
    _check(
        (np.isfinite(x) & (x > 0)) | (np.isnan(x) & np.isfinite(x_lo) & (x_lo > 0)),
        label,
        "x",
        "each row needs an energy x > 0 or a threshold x_lo > 0 (GeV)",
        x,
        aliases,
    )
    for col in ("x", "x_lo", "x_hi", "y_err_lo", "y_err_hi", "y_sys_lo", "y_sys_hi", "phase_err_lo", "phase_err_hi"):
        _check(_nonneg_or_nan(out[col]), label, col, f"{col} must be >= 0 or empty", out[col], aliases)
    _ordered_bins(out, label, aliases=aliases)
    x_hi = out["x_hi"].value
    _check(~(np.isfinite(x) & np.isfinite(x_lo)) | (x >= x_lo), label, "x", "x lies below its bin's x_lo", x, aliases)
    _check(~(np.isfinite(x) & np.isfinite(x_hi)) | (x <= x_hi), label, "x", "x lies above its bin's x_hi", x, aliases)
    phase = out["phase"].value
    _check(
        np.isnan(phase) | (np.abs(phase) <= PHASE_LIMIT_DEG),
        label,
        "phase",
        f"a phase must lie in [-{PHASE_LIMIT_DEG:g}, {PHASE_LIMIT_DEG:g}] deg (RA)",
        phase,
        aliases,
    )
    _check(
        ~np.asarray(out["amp_err_lo_reaches_zero"]) | np.isfinite(y),
        label,
        "amp_err_lo_reaches_zero",
        "flagged on a row without amplitude y",
        y,
        aliases,
    )
    _anisotropy_meta(out.meta, label, bool(np.any(np.isfinite(out["y_ul"].value))))
    for col in _extras(table, ANISOTROPY_COLUMNS):
        out[col] = table[col]
    return out


def _found(table: QTable, aliases: dict) -> list[str]:
    """The table's columns as the file names them."""
    return [aliases.get(c, c) for c in table.colnames]


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
    _check(np.isfinite(out["x"].value) & (out["x"].value > 0), label, "x", "x must be finite and > 0", out["x"])
    _check(np.isfinite(out["y"].value) & (out["y"].value > 0), label, "y", "y must be finite and > 0", out["y"])
    for col in GAMMA_COLUMNS[1:3] + GAMMA_COLUMNS[4:]:
        _check(_nonneg_or_nan(out[col]), label, col, f"{col} must be >= 0 or empty", out[col])
    _ordered_bins(out, label)
    have_err = np.isfinite(out["y_err_lo"].value) & np.isfinite(out["y_err_hi"].value)
    _check(
        have_err | out["upper_limit"],
        label,
        "y_err_lo",
        "each flux point needs y_err_lo/hi (or upper_limit = 1)",
        out["x"],
    )
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
    _check(np.char.str_len(out["name"]) > 0, label, "name", "every source needs a name", out["name"])
    for col, lo, hi in (("l", 0, 360), ("b", -90, 90), ("ra", 0, 360), ("dec", -90, 90)):
        v = out[col].value
        _check(np.isfinite(v) & (v >= lo) & (v <= hi), label, col, f"{col} must be within [{lo}, {hi}] deg", out[col])
    for col in CATALOG_COLUMNS[5:8]:
        _check(_nonneg_or_nan(out[col]), label, col, f"{col} must be >= 0 or empty", out[col])
    _ordered_bins(out, label, "distance_lo", "distance_hi")
    for col in _extras(table, CATALOG_COLUMNS):
        out[col] = table[col]
    return out


def canonical(table, quantity: str, label: str) -> QTable:
    """Check ``table`` against the format of ``quantity``; return it in canonical form.

    ``label`` names the dataset (its file) in error messages; every row-level message
    names the data row (1-based) and the column. ``table.meta["column_aliases"]``
    (canonical -> the file's own column name, set by the CSV reader) is used for the
    messages and not kept. Raises :class:`DataError` naming the first offending column,
    value or provenance key.
    """
    if quantity not in QUANTITIES:
        raise DataError(f"{label}: unknown quantity {quantity!r}; expected one of {', '.join(QUANTITIES)}")
    table = QTable(table, copy=False)
    aliases = dict(table.meta.get("column_aliases") or {})
    table.meta = {k: v for k, v in table.meta.items() if k != "column_aliases"}
    if len(table) == 0:
        raise DataError(f"{label}: the table has no rows")
    for col in REQUIRED_COLUMNS[quantity]:
        if col not in table.colnames:
            raise DataError(
                f"{label}: required column {col!r} is missing; columns found: {', '.join(_found(table, aliases))}"
            )
        if col != "name" and np.asarray(table[col]).dtype.kind not in "fiu":
            raise DataError(f"{label}: column {col!r} is not numeric")
    meta = _meta(table, quantity, label)
    if quantity in SPECTRA:
        return _spectrum(table, quantity, label, meta)
    if quantity == "anisotropy":
        return _anisotropy(table, label, meta, aliases)
    if quantity == "gamma":
        return _gamma(table, label, meta)
    return _catalog(table, label, meta)
