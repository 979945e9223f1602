"""Differential pp -> pi0 -> gamma cross section of Kafexhiu et al. (2014), vectorised.

Reference: E. Kafexhiu, F. Aharonian, A. M. Taylor & G. S. Vila, "Parametrization of
gamma-ray production cross sections for pp interactions in a broad proton energy range
from the kinematic threshold to PeV energies", Phys. Rev. D 90, 123014 (2014),
arXiv:1406.7369 (below: KATV14).  The same formulae are implemented, one photon energy
at a time, in naima's ``PionDecay`` (Zabalza 2015, ICRC 34, 922); crknee evaluates them on
a whole (photon energy x proton energy) grid at once, which is what makes an MCMC fit
affordable.  Agreement with naima is tested to <= 1 % (tests/test_gamma_kafexhiu.py).

    dsigma/dE_gamma (T_p, E_gamma) = A_max(T_p) * F(T_p, E_gamma) * eps(T_p)

* ``A_max``: peak of the spectrum, KATV14 eq. (12) with Table VII (``B_PARAMS``);
* ``F``: shape, KATV14 eq. (11) with Table V (``F_PARAMS``) and eqs. (13)-(14);
* ``sigma_pi``: pi0 production cross section, KATV14 eqs. (2)-(8), Tables IV (``A_PARAMS``);
* ``eps``: nuclear enhancement for a target gas and projectile cosmic rays of local ISM
  composition, KATV14 Sec. IV, eqs. (21)-(23) with the p-nucleus cross section of
  Sihver et al. (1993, PRC 47, 1225); below T_p = 1 GeV it is held at eps(1 GeV) = 1.9141
  as in naima (the parametrisation diverges towards threshold).

Validity: T_p from threshold (0.2797 GeV) to 1 PeV (KATV14 abstract); above 1 PeV crknee
switches to Kelner et al. (2006) (:mod:`crknee.gamma.kelner`, :mod:`crknee.gamma.emission`).

Units of the float kernels: energies in GeV (T_p kinetic energy of the projectile
proton, E_gamma photon energy), cross sections in mb, dsigma/dE in mb / GeV.
"""

from __future__ import annotations

import numpy as np

from crknee.constants import M_P_GEV as M_P
from crknee.errors import InputError

#: Neutral pion mass [GeV] (KATV14 Sec. II; PDG).
M_PI = 0.1349766
#: Kinematic threshold of pi0 production, T_th = 2 m_pi + m_pi^2 / (2 m_p) [GeV] (KATV14 eq. 1).
T_TH = 0.27966184

#: High-energy models of KATV14 and the T_p [GeV] above which each takes over from Geant4.
ETRANS = {"Pythia8": 50.0, "SIBYLL": 100.0, "QGSJET": 100.0, "Geant4": 100.0}
#: KATV14 Table IV: a1..a5 of the pi0 multiplicity (eq. 7).
A_PARAMS = {
    "Geant4": (0.728, 0.596, 0.491, 0.2503, 0.117),
    "Pythia8": (0.652, 0.0016, 0.488, 0.1928, 0.483),
    "SIBYLL": (5.436, 0.254, 0.072, 0.075, 0.166),
    "QGSJET": (0.908, 0.0009, 6.089, 0.176, 0.448),
}
#: KATV14 Table VII: b1, b2, b3 of A_max (eq. 12).
B_PARAMS = {
    "Geant4_0": (9.53, 0.52, 0.054),  # 1 <= T_p < 5 GeV
    "Geant4": (9.13, 0.35, 9.7e-3),  # T_p >= 5 GeV
    "Pythia8": (9.06, 0.3795, 0.01105),
    "SIBYLL": (10.77, 0.412, 0.01264),
    "QGSJET": (13.16, 0.4419, 0.01439),
}
#: KATV14 Table V: (lambda, alpha, beta, gamma) of F (eq. 11) above 20 GeV.
F_PARAMS = {
    "Geant4_2": (3.0, 0.5, 4.2, 1.0),  # 20 < T_p <= 100 GeV
    "Geant4": (3.0, 0.5, 4.9, 1.0),
    "Pythia8": (3.5, 0.5, 4.0, 1.0),
    "SIBYLL": (3.55, 0.5, 3.6, 1.0),
    "QGSJET": (3.55, 0.5, 4.5, 1.0),
}
MODELS = tuple(ETRANS)


def _select(conds, choices, default):
    """np.select (first true condition wins) as a chain of np.where: faster on small arrays."""
    out = default
    for c, v in zip(reversed(conds), reversed(choices)):
        out = np.where(c, v, out)
    return out


def sigma_inel_mb(Tp):
    """Inelastic pp cross section [mb] at kinetic energy ``Tp`` [GeV] (KATV14 eq. 1)."""
    Tp = np.asarray(Tp, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(Tp / T_TH)
        s = (30.7 - 0.96 * L + 0.18 * L * L) * (1.0 - (T_TH / Tp) ** 1.9) ** 3
    return np.where(Tp > T_TH, s, 0.0)


def _sigma_pi_low(Tp):
    """One- and two-pion production below 2 GeV [mb] (KATV14 eqs. 2-5)."""
    Mres, Gres = 1.1883, 0.2264
    s = 2.0 * M_P * (Tp + 2.0 * M_P)
    g = np.sqrt(Mres**2 * (Mres**2 + Gres**2))
    K = np.sqrt(8.0) * Mres * Gres * g / (np.pi * np.sqrt(Mres**2 + g))
    fbw = M_P * K / (((np.sqrt(s) - M_P) ** 2 - Mres**2) ** 2 + Mres**2 * Gres**2)
    mu = np.sqrt(np.clip((s - M_PI**2 - 4 * M_P**2) ** 2 - 16 * M_PI**2 * M_P**2, 0.0, None))
    mu = mu / (2.0 * M_PI * np.sqrt(s))
    one = 7.66e-3 * mu**1.95 * (1.0 + mu + mu**5) * fbw**1.86
    two = np.where(Tp >= 0.56, 5.7 / (1.0 + np.exp(-9.3 * (Tp - 1.4))), 0.0)
    return one + two


def _sigma_pi_high(Tp, a):
    """sigma_inel times the pi0 multiplicity of KATV14 eqs. (6)-(7) [mb]."""
    xi = np.clip((Tp - 3.0) / M_P, 1e-300, None)
    mult = a[0] * xi ** a[3] * (1.0 + np.exp(-a[1] * xi ** a[4])) * (1.0 - np.exp(-a[2] * xi**0.25))
    return sigma_inel_mb(Tp) * mult


def sigma_pi_mb(Tp, model="Pythia8"):
    """Inclusive pi0 production cross section [mb] (KATV14 eqs. 2-8)."""
    Tp = np.asarray(Tp, dtype=float)
    with np.errstate(all="ignore"):
        mid = sigma_inel_mb(Tp) * (-6e-3 + 0.237 * ((Tp - T_TH) / M_P) - 0.023 * ((Tp - T_TH) / M_P) ** 2)
        out = _select(
            [Tp < 2.0, Tp < 5.0, Tp < ETRANS[model]],
            [_sigma_pi_low(Tp), mid, _sigma_pi_high(Tp, A_PARAMS["Geant4"])],
            _sigma_pi_high(Tp, A_PARAMS[model]),
        )
    return np.where(Tp > T_TH, out, 0.0)


def _epi_max_lab(Tp):
    """Maximum pion energy in the laboratory frame [GeV] (KATV14 eq. 10)."""
    s = 2.0 * M_P * (Tp + 2.0 * M_P)
    e_cm = (s - 4.0 * M_P**2 + M_PI**2) / (2.0 * np.sqrt(s))
    p_cm = np.sqrt(np.clip(e_cm**2 - M_PI**2, 0.0, None))
    g_cm = (Tp + 2.0 * M_P) / np.sqrt(s)
    b_cm = np.sqrt(1.0 - g_cm**-2)
    return g_cm * (e_cm + p_cm * b_cm)


def egamma_max(Tp):
    """Maximum photon energy [GeV] from a proton of kinetic energy ``Tp`` [GeV] (KATV14 eq. 10)."""
    Tp = np.asarray(Tp, dtype=float)
    with np.errstate(all="ignore"):
        g = _epi_max_lab(Tp) / M_PI
        return 0.5 * M_PI * g * (1.0 + np.sqrt(1.0 - g**-2))


def _a_max(Tp, model):
    """Peak value of dsigma/dE_gamma [mb/GeV] (KATV14 eq. 12, Table VII)."""
    theta = Tp / M_P
    b = [
        _select([Tp < 5.0, Tp < ETRANS[model]], [B_PARAMS["Geant4_0"][i], B_PARAMS["Geant4"][i]], B_PARAMS[model][i])
        for i in range(3)
    ]
    sig = sigma_pi_mb(Tp, model)
    high = b[0] * theta ** -b[1] * np.exp(b[2] * np.log(theta) ** 2) * sig / M_P
    low = 5.9 * sig / _epi_max_lab(Tp)
    return np.where(Tp < 1.0, low, high)


def _shape(Tp, Eg, model):
    """Spectral shape F(T_p, E_gamma) (KATV14 eqs. 9, 11, 13, 14 and Table V)."""
    q = (Tp - 1.0) / M_P
    mu = 1.25 * np.clip(q, 0.0, None) ** 1.25 * np.exp(-1.25 * q)
    kappa = 3.29 - 0.2 * (Tp / M_P) ** -1.5
    hi = F_PARAMS[model]
    g2 = F_PARAMS["Geant4_2"]
    cond = [Tp <= 1.0, Tp <= 4.0, Tp <= 20.0, Tp <= ETRANS[model]]
    lam = _select(cond, [1.0, 3.0, 3.0, g2[0]], hi[0])
    alpha = _select(cond, [1.0, 1.0, 1.0, g2[1]], hi[1])
    beta = _select(cond, [kappa, mu + 2.45, 1.5 * mu + 4.95, g2[2]], hi[2])
    gamma = _select(cond, [0.0, mu + 1.45, mu + 1.5, g2[3]], hi[3])
    egmax = egamma_max(Tp)
    yg = Eg + M_PI**2 / (4.0 * Eg)
    ygmax = egmax + M_PI**2 / (4.0 * egmax)
    x = np.clip((yg - M_PI) / (ygmax - M_PI), 0.0, 1.0)
    c = lam * M_PI / ygmax
    xa = np.where(alpha == 1.0, x, np.sqrt(x))  # alpha is 1 or 1/2 (Table V)
    return (1.0 - xa) ** beta / (1.0 + x / c) ** gamma


def nuclear_enhancement(Tp):
    """Nuclear enhancement factor eps(T_p) for ISM target and projectiles (KATV14 Sec. IV).

    eps = eps_C + (eps_1 + eps_2) sigma_R^pp G(T_p) / sigma_inel(T_p), with eps_C = 1.37,
    eps_1 = 0.29, eps_2 = 0.1 (KATV14 eq. 21-22, local ISM abundances), sigma_R^pp =
    10 pi mb and G = 1 + ln max(1, sigma_inel / sigma_inel(1 TeV)) (KATV14 eq. 23).
    Held at 1.9141 = eps(1 GeV) for T_th < T_p < 1 GeV, zero below threshold.
    """
    Tp = np.asarray(Tp, dtype=float)
    sig = sigma_inel_mb(Tp)
    G = 1.0 + np.log(np.maximum(sig / sigma_inel_mb(1e3), 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = 1.37 + 0.39 * 10.0 * np.pi * G / sig
    return _select([Tp <= T_TH, Tp < 1.0], [0.0, 1.9141], eps)


def dsigma_dEg_mb_GeV(Tp, Eg, model="Pythia8", nuclear=True, weight=1.0):
    """dsigma/dE_gamma [mb/GeV] for proton kinetic energy ``Tp`` and photon energy ``Eg``
    (both GeV, Eg > 0; broadcast against each other), times ``weight`` (any factor that
    depends on T_p only, e.g. quadrature weights: it is applied to the amplitude, before
    broadcasting).  Zero outside the kinematic range."""
    Tp = np.asarray(Tp, dtype=float)
    Eg = np.asarray(Eg, dtype=float)
    if np.any(~(Eg > 0.0)):
        raise InputError(f"photon energies must be > 0 GeV; got {Eg[~(Eg > 0.0)].flat[0]!r}")
    above = Tp > T_TH
    Tps = np.where(above, Tp, 2.0 * T_TH)  # finite intermediate values below threshold
    with np.errstate(all="ignore"):
        amp = _a_max(Tps, model) * (nuclear_enhancement(Tps) if nuclear else 1.0) * weight
        return np.where(above, amp, 0.0) * _shape(Tps, Eg, model)
