"""Nuclear cross sections for the background propagation network.

Readers of the bundled tables (``src/crknee/data/bundled/nuclear``, see its SOURCES.md)
and the proton-proton inelastic cross section.  Every cross section is in mb, every
energy is the kinetic energy per nucleon ``Ekn`` in GeV/n.

Tables
------
* USINE v3.5 files (Maurin, Comput. Phys. Commun. 247 (2020) 106942, arXiv:1807.02968),
  H **and** He target columns, on the log grid ``Ekn_i = Emin (Emax/Emin)^(i/(n-1))``:

  - production ``sigProdGALPROP17_OPT12.dat`` / ``..._OPT22.dat`` (GALPROP 2017
    cross_section_option 12/22, tabulated by Y. Genolini; Génolini et al. 2018,
    PRC 98, 034611), 0.01-10 GeV/n, 41 points, straight-ahead (Ekn conserved);
  - production ``sigProdCoste12.dat`` (Coste et al. 2012, A&A 539, A88): the
    light channels 4He->3He, 4He->2H, 4He->1H, 3He->2H, 3He->1H, 2H->1H, 1H->2H;
  - inelastic ``sigInelTripathi99+Coste12.dat`` (Tripathi, Cucinotta & Wilson 1996,
    NIM B 117, 347 and 1999, NIM B 155, 349, tabulated by D. Maurin from NASA TP-208438;
    Z <= 2 from Coste et al. 2012), 0.05-6.29 GeV/n, 43 points; and the alternatives
    ``Tripathi99``, ``Barashenkov94``, ``Wellish97``, ``Webber03`` (same format).
* CRAMS tables (Evoli et al. 2018 JCAP 07, 006; Evoli, Aloisio & Blasi 2019 PRD 99,
  103023), H target only, grid ``0.1 GeV/n x 1.1^i``, i = 0..99.
* Measured partial cross sections compiled in XS4GCR (``Evoli2026_xsecs_data_full.txt``).

Energy extrapolation
--------------------
Between the table nodes a cross section is interpolated linearly in ``ln Ekn``; outside
the table it is held at the first (below) or last (above) tabulated value.  Constant
partial cross sections above ~10 GeV/n is the standard assumption of GALPROP and USINE
(limiting fragmentation; Webber et al. 2003 ApJS 144, 153; Génolini et al. 2018).  The
nucleus-nucleus inelastic cross sections are energy independent at high energy in the
Tripathi and Sihver et al. (1993, PRC 47, 1225) parameterisations, so the last node
(6.29 GeV/n) is kept up to 1e8 GeV/n; the slow logarithmic rise seen at collider
energies is neglected.  The exception is the proton, whose cross sections follow
:func:`sigma_pp_inel_mb` (see :mod:`crknee.propagation.network`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from crknee.data import raw_path
from crknee.errors import DataError, InputError, UnknownSpeciesError
from crknee.kinematics import ELEMENT_SYMBOLS

#: Pion-production threshold of pp collisions, T_th = 2 m_pi + m_pi^2 / (2 m_p) [GeV]
#: (Kafexhiu et al. 2014, PRD 90, 123014, below eq. 1).
T_PP_THRESHOLD_GEV = 0.2797

#: Inelastic-table choices of :func:`crknee.propagation.network.build_network`
#: (name -> bundled relative path).
INELASTIC_TABLES = {
    "Tripathi99+Coste12": "nuclear/usine_v3.5/sigInelTripathi99+Coste12.dat",
    "Tripathi99": "nuclear/usine_v3.5/sigInelTripathi99.dat",
    "Barashenkov94": "nuclear/usine_v3.5/sigInelBarashenkov94.dat",
    "Wellish97": "nuclear/usine_v3.5/sigInelWellish97.dat",
    "Webber03": "nuclear/usine_v3.5/sigInelWebber03.dat",
}
#: Production-table choices (name -> bundled relative path); Coste12 light channels are
#: added to either (see :func:`production_channels`).
PRODUCTION_TABLES = {
    "GALPROP17_OPT12": "nuclear/usine_v3.5/sigProdGALPROP17_OPT12.dat",
    "GALPROP17_OPT22": "nuclear/usine_v3.5/sigProdGALPROP17_OPT22.dat",
}
COSTE12_PRODUCTION = "nuclear/usine_v3.5/sigProdCoste12.dat"
CRAMS_PRODUCTION = "nuclear/crams/xsecs_0.1_100_1.1.txt"
MEASURED_PRODUCTION = "nuclear/xs4gcr/Evoli2026_xsecs_data_full.txt"


_USINE_RE = re.compile(r"^(\d+)([A-Z][a-z]?)$")


def usine_name(name: str) -> str:
    """crknee-style name of a USINE CR name (``"12C"`` -> ``"C12"``, ``"70Zn"`` -> ``"Zn70"``).

    Purely syntactic, so that tables may list nuclides beyond crknee's H..Ni.
    """
    m = _USINE_RE.match(name.strip())
    if m is None:
        raise DataError(f"malformed USINE nuclide name {name!r}")
    return f"{m.group(2)}{int(m.group(1))}"


@dataclass(frozen=True, eq=False)
class UsineTable:
    """One USINE cross-section file.

    ``ekn_GeV``: grid [GeV/n]; ``blocks``: key -> array (n_E, 2) of (sigma_H, sigma_He) [mb];
    keys are crknee names, ``"C12"`` (inelastic) or ``("C12", "B11")`` (production).
    """

    ekn_GeV: np.ndarray
    blocks: dict


@cache
def read_usine(relpath: str) -> UsineTable:
    """Parse a USINE v3.5 cross-section file (format in nuclear/SOURCES.md, section 3)."""
    path = raw_path(relpath)
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines[0].startswith("sigma") or "mb" not in lines[0].split():
        raise DataError(f"{path}: expected a 'sigma mb H,He' header, got {lines[0]!r}")
    emin, emax, n = lines[1].split()
    n = int(n)
    grid = float(emin) * (float(emax) / float(emin)) ** (np.arange(n) / (n - 1))
    blocks: dict = {}
    i = 2
    while i < len(lines):
        title = lines[i]
        if "-bar" in title:  # antinuclei (Webber03 file): not part of the nuclear network
            i += 1 + n
            continue
        if "->" in title:
            proj, frag = (s.strip() for s in title.split("->"))
            key = (usine_name(proj), usine_name(frag))
        else:
            key = usine_name(title)
        try:
            vals = np.array([[float(x) for x in ln.split()] for ln in lines[i + 1 : i + 1 + n]])
        except ValueError as exc:
            raise DataError(f"{path}: malformed block {title!r}: {exc}") from None
        if vals.shape != (n, 2):
            raise DataError(f"{path}: block {title!r} has shape {vals.shape}, expected ({n}, 2)")
        blocks[key] = vals
        i += 1 + n
    return UsineTable(grid, blocks)


@cache
def read_crams_production(relpath: str = CRAMS_PRODUCTION) -> tuple[np.ndarray, dict]:
    """CRAMS production table on H: (grid [GeV/n], {(parent, child): sigma_H [mb]}).

    Rows are ``Z_frag A_frag Z_proj A_proj`` + 100 values on 0.1 x 1.1^i GeV/n.
    """
    data = np.loadtxt(raw_path(relpath))
    grid = 0.1 * 1.1 ** np.arange(data.shape[1] - 4)
    out = {}
    for row in data:
        zf, af, zp, ap = (int(v) for v in row[:4])
        out[(_zname(zp, ap), _zname(zf, af))] = row[4:]
    return grid, out


@cache
def read_crams_inelastic(relpath: str) -> tuple[np.ndarray, dict]:
    """CRAMS total-inelastic table on H (``Z A`` + 100 values): (grid, {name: sigma [mb]})."""
    data = np.loadtxt(raw_path(relpath))
    grid = 0.1 * 1.1 ** np.arange(data.shape[1] - 2)
    return grid, {_zname(int(r[0]), int(r[1])): r[2:] for r in data}


@cache
def read_measured(relpath: str = MEASURED_PRODUCTION) -> np.ndarray:
    """Measured partial cross sections on H (XS4GCR compilation; tag ``W90`` = Webber,
    Kish & Schrier 1990, PRC 41, 547).

    Structured array with fields ``parent, child`` (crknee names), ``ekn_GeV``,
    ``sigma_mb``, ``err_mb``, ``ref``.
    """
    rows = []
    for ln in raw_path(relpath).read_text().splitlines():
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        f = ln.split()
        rows.append(
            (
                _zname(int(f[0]), int(f[1])),
                _zname(int(f[2]), int(f[3])),
                float(f[4]),
                float(f[5]),
                float(f[6]),
                f[7] if len(f) > 7 else "",
            )
        )
    dtype = [
        ("parent", "U6"),
        ("child", "U6"),
        ("ekn_GeV", float),
        ("sigma_mb", float),
        ("err_mb", float),
        ("ref", "U16"),
    ]
    return np.array(rows, dtype=dtype)


def _zname(Z: int, A: int) -> str:
    if not 1 <= Z <= len(ELEMENT_SYMBOLS):
        raise UnknownSpeciesError(f"charge Z={Z} outside H..Ni")
    return f"{ELEMENT_SYMBOLS[Z - 1]}{A}"


def interp_weights(ekn_GeV, grid_GeV: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices and weights for linear-in-ln(Ekn) interpolation, constant beyond the ends.

    Returns ``(i0, i1, w)`` with ``sigma(E) = (1 - w) s[i0] + w s[i1]``.
    """
    e = np.atleast_1d(np.asarray(ekn_GeV, dtype=float))
    if e.ndim != 1 or np.any(~np.isfinite(e)) or np.any(e <= 0):
        raise InputError(f"ekn_GeV must be a 1-d array of finite energies > 0; got {ekn_GeV!r}")
    lg = np.log(grid_GeV)
    x = np.clip(np.log(e), lg[0], lg[-1])
    i1 = np.clip(np.searchsorted(lg, x, side="right"), 1, lg.size - 1)
    i0 = i1 - 1
    w = (x - lg[i0]) / (lg[i1] - lg[i0])
    return i0, i1, w


def interpolate(table: np.ndarray, grid_GeV: np.ndarray, ekn_GeV) -> np.ndarray:
    """Evaluate ``table[..., n_grid]`` at ``ekn_GeV`` (see :func:`interp_weights`)."""
    i0, i1, w = interp_weights(ekn_GeV, grid_GeV)
    return table[..., i0] * (1.0 - w) + table[..., i1] * w


def sigma_pp_inel_mb(T_p_GeV) -> np.ndarray:
    """Inelastic pp cross section [mb] vs proton kinetic energy ``T_p_GeV`` [GeV].

    Kafexhiu, Aharonian, Taylor & Vila 2014, PRD 90, 123014, eq. (1):
    sigma = (30.7 - 0.96 ln x + 0.18 ln^2 x) (1 - x^-1.9)^3 mb, x = T_p / T_th,
    T_th = 0.2797 GeV; zero below threshold.  Fits the PDG data from threshold to
    the LHC (29.6 mb at 10 GeV, 34.9 mb at 1 TeV, 81.7 mb at 1e8 GeV, i.e. sqrt(s) = 13.7 TeV).
    """
    t = np.asarray(T_p_GeV, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise InputError(f"T_p_GeV must be finite and >= 0; got {T_p_GeV!r}")
    x = np.maximum(t / T_PP_THRESHOLD_GEV, 1.0)
    lx = np.log(x)
    return (30.7 - 0.96 * lx + 0.18 * lx**2) * (1.0 - x**-1.9) ** 3
