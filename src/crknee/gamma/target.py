"""Target gas of the pp emission at a source's position (issue 12, step 1).

The default hydrogen density of a microquasar's emitting region is the bundled 2D
(axisymmetric) gas model of :mod:`crknee.propagation.gas` evaluated at the source's
Galactocentric (R, z):

    n_H = n_HI(R, z) + 2 n_H2(R, z) + n_HII(R, z)          [H nuclei cm^-3]

with HI from Gordon & Burton 1976 (ApJ 208, 346) and the vertical profiles of Dickey &
Lockman 1990 / Cox, Kruegel & Mezger 1986, H2 from the CO composite table (Bronfman et
al. 1988, ApJ 324, 248; X_CO = 1.9e20, Strong & Mattox 1996), HII from Cordes et al.
1991 (Nature 354, 121): the GALPROP v54 model (Moskalenko et al. 2002, ApJ 565, 280).
Ionised hydrogen is a pp target like atomic and molecular hydrogen (GALPROP computes
pi0 emission from HII gas as well), so it is counted (``include_HII=False`` drops it).

**Helium.**  The gas model distributes He like H with He/H = 0.11 by number
(:data:`crknee.propagation.gas.HE_TO_H`).  It does *not* enter n_H: the pp emissivity of
:mod:`crknee.gamma.emission` is per H atom and multiplies the pp cross section by the
nuclear enhancement factor eps(T_p) of Kafexhiu et al. 2014 (PRD 90, 123014, Sec. IV,
~1.8 at TeV), which already contains the He (and heavier) nuclei of an ISM-composition
target.  Adding He to n_H as well would count it twice.  (eps also contains the nuclei of
an ISM-like *projectile* composition; for a source injecting protons only this is an
overestimate of the target-only factor, the convention of naima and of the paper.)

Position: heliocentric (l, b, d) -> Galactocentric cylinder with the Sun at
R_sun = 8.5 kpc, z = 0 (the gas model's GALPROP v54 convention,
:data:`crknee.propagation.gas.R_SUN_KPC`; docs/architecture.md frames).

The model is smooth: it averages over clouds and cavities on scales below ~ 100 pc, so a
source's real local density can differ by large factors; hence the per-source override
(``n_H_cm3`` in the configuration) and the n_H a^2 maps of :mod:`crknee.gamma.maps`.
"""

from __future__ import annotations

import numpy as np

from crknee.errors import InputError
from crknee.propagation import gas


def galactocentric_rz(l_deg, b_deg, d_kpc, r_sun_kpc: float = gas.R_SUN_KPC) -> tuple[np.ndarray, np.ndarray]:
    """(R, z) [kpc] of a source at Galactic (l, b) [deg] and distance ``d_kpc``."""
    l, b, d = (np.asarray(v, dtype=float) for v in (l_deg, b_deg, d_kpc))
    if np.any(~np.isfinite(d) | (d < 0)):
        raise InputError(f"d_kpc must be finite and >= 0; got {d_kpc!r}")
    if np.any(~np.isfinite(b) | (np.abs(b) > 90.0)) or np.any(~np.isfinite(l)):
        raise InputError(f"(l, b) must be finite with |b| <= 90 deg; got ({l_deg!r}, {b_deg!r})")
    lr, br = np.radians(l), np.radians(b)
    x = d * np.cos(br) * np.cos(lr)  # towards the Galactic centre
    y = d * np.cos(br) * np.sin(lr)
    return np.hypot(r_sun_kpc - x, y), d * np.sin(br)


def target_density_cm3(l_deg, b_deg, d_kpc, *, include_HII: bool = True) -> np.ndarray:
    """H nuclei per cm^3 of the gas model at (l, b, d): n_HI + 2 n_H2 (+ n_HII); see the
    module docstring for why He is not added."""
    R, z = galactocentric_rz(l_deg, b_deg, d_kpc)
    n = gas.n_HI(R, z) + 2.0 * gas.n_H2(R, z)
    return n + gas.n_HII(R, z) if include_HII else n
