"""Interstellar gas: the GALPROP v54 analytic model and the solver's thin disk.

The model (Moskalenko et al. 2002, ApJ 565, 280; GALPROP v54 ``nH.cc``) uses the tables
transcribed into ``ism/`` (see ism/SOURCES.md and ism/gas_model_notes.md):

* HI: ``n_HI(R, z) = f_R(R) f_Z(R, z) / n_GB`` [cm^-3] with f_R the Gordon & Burton 1976
  (ApJ 208, 346) mid-plane table, each value placed at its bin centre and interpolated
  linearly (flat to R = 0; beyond 15.75 kpc ``Y_28 exp(-(R - 15.75)/3 kpc)``), n_GB =
  0.33 cm^-3; f_Z of Dickey & Lockman 1990 (ARA&A 28, 215; two Gaussians + exponential)
  for R <= 8 kpc, of Cox, Kruegel & Mezger 1986 (A&A 155, 380) for R >= 10 kpc, linear
  blend in between.  The disk is renormalised to DL90's 6.2e20 cm^-2 at 4-8 kpc.
* H2 (molecules): ``n_H2 = eps_CO(R) X_CO / kpc exp(-ln2 ((z - Z0(R)) / Zh(R))^2)`` with
  the v54 composite CO table (Ferriere et al. 2007 A&A 467, 611 inside 1.5 kpc, Bronfman
  et al. 1988 ApJ 324, 248, Wouterloot et al. 1990 A&A 230, 21), linear in R, zero beyond
  21 kpc; X_CO = 1.9e20 cm^-2 (K km/s)^-1 (Strong & Mattox 1996, A&A 308, L21).
* HII (free electrons): Cordes et al. 1991 (Nature 354, 121), GALPROP nHII_model = 1.

The Sun is at R = 8.5 kpc (GALPROP v54 constants.h).  He is distributed like H with
He/H = 0.11 by number (GALPROP galdef_56_example ``He_H_ratio``; DRAGON2 He_abundance).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from scipy.integrate import quad

from crknee.data import raw_path
from crknee.errors import InputError, check_finite_positive

#: kpc in cm (GALPROP v54 constants.h, kpc2cm).
KPC_CM = 3.08568e21
#: CO-to-H2 factor [cm^-2 (K km/s)^-1] (Strong & Mattox 1996).
X_CO_SM96 = 1.9e20
#: He/H number ratio of the ISM (GALPROP galdef_56_example l.479; DRAGON2 constants.h l.223).
HE_TO_H = 0.11
#: Galactocentric radius of the Sun [kpc] (GALPROP v54).
R_SUN_KPC = 8.5

_N_GB = 0.33  # GB76 mean disk density at 4-8 kpc [cm^-3]
_N_DL = 0.57  # DL90 mid-plane density [cm^-3]
# DL90 vertical profile [cm^-3, kpc]: Gaussians (A, HWHM) and exponential (B, scale height).
_DL90 = ((0.395, 0.212 / 2), (0.107, 0.530 / 2))
_DL90_EXP = (0.064, 0.403)


@cache
def _hi_nodes() -> tuple[np.ndarray, np.ndarray]:
    t = _csv("ism/galprop_HI_GordonBurton76_table.csv")
    R, Y = t[:, 0], t[:, 1]
    centres = 0.5 * (R[:-1] + R[1:])
    return np.concatenate([[R[0]], centres]), np.concatenate([[Y[0]], Y[:-1]])


@cache
def _csv(relpath: str) -> np.ndarray:
    rows = [
        ln
        for ln in raw_path(relpath).read_text().splitlines()
        if ln.strip() and not ln.startswith("#") and not ln[0].isalpha()
    ]
    return np.array([[float(x) for x in ln.split(",")] for ln in rows])


def _rz(r_kpc, z_kpc) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(r_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    if np.any(~np.isfinite(r)) or np.any(r < 0):
        raise InputError(f"r_kpc must be finite and >= 0; got {r_kpc!r}")
    if np.any(~np.isfinite(z)):
        raise InputError(f"z_kpc must be finite; got {z_kpc!r}")
    return np.broadcast_arrays(r, z)


def n_HI(r_kpc, z_kpc) -> np.ndarray:
    """Atomic hydrogen density [cm^-3] at Galactocentric (r, z) [kpc] (GALPROP v54)."""
    r, z = _rz(r_kpc, z_kpc)
    xr, yr = _hi_nodes()
    fr = np.interp(r, xr, yr)
    fr = np.where(r > xr[-1], yr[-1] * np.exp(-(r - xr[-1]) / 3.0), fr)
    fz1 = sum(a * np.exp(-np.log(2.0) * (z / hw) ** 2) for a, hw in _DL90)
    fz1 = fz1 + _DL90_EXP[0] * np.exp(-np.abs(z) / _DL90_EXP[1])
    fz2 = _N_DL * np.exp(-((z / (0.0523 * np.exp(0.11 * r))) ** 2))
    fz = np.where(r <= 8.0, fz1, np.where(r >= 10.0, fz2, fz1 + (fz2 - fz1) / 2.0 * (r - 8.0)))
    return fz * fr / _N_GB


def n_H2(r_kpc, z_kpc, X_CO: float = X_CO_SM96) -> np.ndarray:
    """Molecular hydrogen density [H2 molecules cm^-3] at (r, z) [kpc] (GALPROP v54).

    ``X_CO`` [cm^-2 (K km/s)^-1], default 1.9e20 (Strong & Mattox 1996).
    """
    check_finite_positive("X_CO", X_CO)
    r, z = _rz(r_kpc, z_kpc)
    t = _csv("ism/galprop_H2_v54_table.csv")
    eps = np.interp(r, t[:, 0], t[:, 1])
    z0 = np.interp(r, t[:, 0], t[:, 2])
    zh = np.interp(r, t[:, 0], t[:, 3])
    n = eps * X_CO / KPC_CM * np.exp(-np.log(2.0) * ((z - z0) / zh) ** 2)
    return np.where(r > t[-1, 0], 0.0, np.maximum(n, 0.0))


def n_HII(r_kpc, z_kpc) -> np.ndarray:
    """Ionised-gas (free electron) density [cm^-3] at (r, z) [kpc], Cordes et al. 1991:
    0.025 exp(-|z|/1 kpc) exp(-(R/20 kpc)^2) + 0.2 exp(-|z|/0.15 kpc) exp(-((R-4)/2 kpc)^2)."""
    r, z = _rz(r_kpc, z_kpc)
    return 0.025 * np.exp(-np.abs(z) / 1.0) * np.exp(-((r / 20.0) ** 2)) + 0.200 * np.exp(-np.abs(z) / 0.15) * np.exp(
        -(((r - 4.0) / 2.0) ** 2)
    )


def surface_density_H(r_kpc: float, *, z_max_kpc: float = 5.0, include_HII: bool = False) -> float:
    """Column of H nuclei ∫(n_HI + 2 n_H2 [+ n_HII]) dz over |z| < z_max [cm^-3 kpc].

    Cached: every :func:`crknee.propagation.solve` of a fit asks for the same column.
    """
    check_finite_positive("z_max_kpc", z_max_kpc)
    return _surface_density_H(float(r_kpc), float(z_max_kpc), bool(include_HII))


@lru_cache(maxsize=64)
def _surface_density_H(r_kpc: float, z_max_kpc: float, include_HII: bool) -> float:
    def integrand(z):
        n = n_HI(r_kpc, z) + 2.0 * n_H2(r_kpc, z)
        return float(n + n_HII(r_kpc, z) if include_HII else n)

    val, _ = quad(integrand, -z_max_kpc, z_max_kpc, points=[0.0], limit=200, epsabs=0, epsrel=1e-8)
    return val


@dataclass(frozen=True)
class ThinDisk:
    """Uniform gas disk of half-thickness ``h_kpc`` [kpc] holding ``n_H`` H atoms and
    ``n_He`` He atoms per cm^3 (Maurin et al. 2001, ApJ 555, 585 convention)."""

    h_kpc: float
    n_H: float
    n_He: float

    def __post_init__(self):
        check_finite_positive("h_kpc", self.h_kpc)
        check_finite_positive("n_H", self.n_H)
        check_finite_positive("n_He", self.n_He, allow_zero=True)


def local_thin_disk(
    r_kpc: float = R_SUN_KPC, h_kpc: float = 0.1, he_to_h: float = HE_TO_H, *, include_HII: bool = False
) -> ThinDisk:
    """Thin disk with the GALPROP v54 column of H nuclei at ``r_kpc`` spread over 2 h.

    n_H = ∫(n_HI + 2 n_H2) dz / (2 h) (plus n_HII with ``include_HII``, as GALPROP's
    spallation rate does); n_He = he_to_h n_H (0.11, GALPROP default).
    """
    check_finite_positive("r_kpc", r_kpc, allow_zero=True)
    check_finite_positive("h_kpc", h_kpc)
    check_finite_positive("he_to_h", he_to_h, allow_zero=True)
    n_h = surface_density_H(r_kpc, include_HII=include_HII) / (2.0 * h_kpc)
    return ThinDisk(h_kpc, n_h, he_to_h * n_h)
