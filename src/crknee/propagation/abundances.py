"""Cosmic-ray source (injection) abundances and solar-system abundances.

Source abundances: GALPROP's default isotopic set, ``galdef_56_example`` lines 276-346
(``iso_abundance_ZZ_AAA``; H1 = 1.06e6, He4 7.199e4, C12 2819, O16 3822, Fe56 697.7),
transcribed in ``nuclear/source_abundances/GALPROP_galdef_56_example_iso_abundances.csv``
(Strong & Moskalenko 1998 ApJ 509, 212; Moskalenko et al. 2002 ApJ 565, 280 for the
method; values tuned to ACE/CRIS and HEAO-3 data).

Convention (GALPROP ``create_transport_arrays.cc``, primary source function in rigidity
mode): the source density per unit momentum of species i is

    q_i(p) = N a_i A_i^(g-1) Z_i^(-g) f(R),    f = broken power law in rigidity R,

with g the high-energy injection index (``nuc_g_2``).  For a pure power law f = R^-g this
is ``q_i dp = N a_i p_n^-g dp_n``: the abundances a_i are ratios of injected densities per
unit momentum per nucleon **at the same momentum (kinetic energy) per nucleon**.  At
equal rigidity, per unit rigidity, the same source reads ``q_i(R) = N K_i f(R)`` with
``K_i = a_i Z_i^(1-g) A_i^(g-1)`` (:func:`rigidity_coefficients`).

Solar-system abundances: Lodders 2003, ApJ 591, 1220 (``crams/solarsystem_abundances2003.txt``,
relative to Si = 1e6).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from crknee.data import raw_path
from crknee.errors import DataError, InputError
from crknee.kinematics import ELEMENT_SYMBOLS, nuclide
from crknee.propagation.crosssections import usine_name

GALPROP_SOURCE = "nuclear/source_abundances/GALPROP_galdef_56_example_iso_abundances.csv"
LODDERS2003 = "nuclear/crams/solarsystem_abundances2003.txt"


@cache
def read_source_abundances(relpath: str = GALPROP_SOURCE) -> dict[str, float]:
    """GALPROP isotopic source abundances {name: a_i}, normalised to H1 = 1.

    Isotopes absent from the galdef (e.g. Be10, B11) have abundance 0.
    """
    raw = {}
    for ln in raw_path(relpath).read_text().splitlines():
        if not ln.strip() or ln.startswith(("#", "Z,")):
            continue
        Z, A, val = ln.split(",")[:3]
        if int(Z) > len(ELEMENT_SYMBOLS):
            continue
        raw[f"{ELEMENT_SYMBOLS[int(Z) - 1]}{int(A)}"] = float(val)
    if raw.get("H1", 0.0) <= 0:
        raise DataError(f"{relpath}: no positive H1 abundance to normalise to")
    h = raw["H1"]
    return {k: v / h for k, v in raw.items()}


def source_abundance(name: str, relpath: str = GALPROP_SOURCE) -> float:
    """Source abundance of one nuclide (H1 = 1; 0 if not injected)."""
    return read_source_abundances(relpath).get(nuclide(name).name, 0.0)


def rigidity_coefficients(a, Z, A, gamma: float) -> np.ndarray:
    """Equal-rigidity injection coefficients K_i = a_i Z^(1-gamma) A^(gamma-1).

    ``a`` are GALPROP abundances (same momentum per nucleon), ``gamma`` the injection
    index g of GALPROP's A^(g-1) Z^-g factor.  K_H1 = a_H1.
    """
    if not np.isfinite(gamma):
        raise InputError(f"gamma must be finite; got {gamma!r}")
    Z = np.asarray(Z, dtype=float)
    A = np.asarray(A, dtype=float)
    return np.asarray(a, dtype=float) * Z ** (1.0 - gamma) * A ** (gamma - 1.0)


@cache
def read_solar_system(relpath: str = LODDERS2003) -> dict[str, tuple[float, float]]:
    """Lodders (2003) isotopes: {name: (isotopic_fraction_percent, abundance_Si_1e6)}."""
    out = {}
    for ln in raw_path(relpath).read_text().splitlines():
        f = ln.split()
        if not f or f[0].startswith("#") or f[0].startswith("-->") or "-bar" in f[0]:
            continue
        if len(f) < 3 or not f[0][0].isdigit():
            continue
        out[usine_name(f[0])] = (float(f[1]), float(f[2]))
    return out
