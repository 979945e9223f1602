"""Gamma rays from pp interactions at high energy: Kelner, Aharonian & Bugayov (2006).

Reference: S. R. Kelner, F. A. Aharonian & V. V. Bugayov, "Energy spectra of gamma rays,
electrons, and neutrinos produced at proton-proton interactions in the very high energy
regime", Phys. Rev. D 74, 034018 (2006), arXiv:astro-ph/0606058 (below: KAB06).  Fitted
to SIBYLL simulations for 0.1 TeV <= E_p <= 10^5 TeV and x = E_gamma / E_p >= 10^-3::

    F_gamma(x, E_p) = B ln(x)/x [(1 - x^b) / (1 + k x^b (1 - x^b))]^4
                      * [1/ln(x) - 4 b x^b / (1 - x^b) - 4 k b x^b (1 - 2 x^b) / (1 + k x^b (1 - x^b))]
    B = 1.30 + 0.14 L + 0.011 L^2,  b = 1 / (1.79 + 0.11 L + 0.008 L^2),
    k = 1 / (0.801 + 0.049 L + 0.014 L^2),  L = ln(E_p / 1 TeV)           (KAB06 eq. 58)

    sigma_inel(E_p) = (34.3 + 1.88 L + 0.25 L^2) (1 - (E_th / E_p)^4)^2 mb   (KAB06 eq. 79)

F_gamma dx is the number of photons per inelastic collision in dx, so
dsigma/dE_gamma = sigma_inel(E_p) F_gamma(E_gamma / E_p, E_p) / E_p (KAB06 eq. 71).
crknee uses it only above the Kafexhiu et al. (2014) validity limit (1 PeV); there
x < 10^-3 means E_gamma < 1 TeV (for 1 PeV protons), where F_gamma ~ 1/x is used beyond
its fitted range.  That extrapolated part is 3 % (E^-2.0 protons), 1 % (E^-2.2) and 0.2 %
(E^-2.5) of the emission at 1 TeV, 0.4 / 0.08 / 0.01 % at 100 GeV, and 6 % at 1 TeV for
the hard V4641 Sgr fit (docs/gamma.md).

Energies in GeV (``Ep`` total proton energy), cross sections in mb.
"""

from __future__ import annotations

import numpy as np

from crknee.gamma.kafexhiu import M_P, M_PI

#: pi0 production threshold in total proton energy, m_p + 2 m_pi + m_pi^2 / (2 m_p) [GeV] (KAB06 eq. 79).
E_TH = M_P + 2.0 * M_PI + M_PI**2 / (2.0 * M_P)
#: Validity range of the parametrisation in proton energy [GeV] (KAB06 Sec. IV).
EP_RANGE_GEV = (1e2, 1e8)


def sigma_inel_mb(Ep):
    """Inelastic pp cross section [mb] at total proton energy ``Ep`` [GeV] (KAB06 eq. 79)."""
    Ep = np.asarray(Ep, dtype=float)
    L = np.log(Ep / 1e3)
    return np.where(Ep > E_TH, (34.3 + 1.88 * L + 0.25 * L * L) * (1.0 - (E_TH / Ep) ** 4) ** 2, 0.0)


def f_gamma(x, Ep):
    """Photon spectrum per collision F_gamma(x, E_p) [per unit x] (KAB06 eq. 58); 0 for x >= 1."""
    x = np.asarray(x, dtype=float)
    L = np.log(np.asarray(Ep, dtype=float) / 1e3)
    B = 1.30 + 0.14 * L + 0.011 * L * L
    b = 1.0 / (1.79 + 0.11 * L + 0.008 * L * L)
    k = 1.0 / (0.801 + 0.049 * L + 0.014 * L * L)
    with np.errstate(all="ignore"):
        xb = x**b
        den = 1.0 + k * xb * (1.0 - xb)
        lnx = np.log(x)
        out = (
            B
            * lnx
            / x
            * ((1.0 - xb) / den) ** 4
            * (1.0 / lnx - 4.0 * b * xb / (1.0 - xb) - 4.0 * k * b * xb * (1.0 - 2.0 * xb) / den)
        )
    return np.where((x > 0.0) & (x < 1.0) & np.isfinite(out), out, 0.0)


def dsigma_dEg_mb_GeV(Ep, Eg):
    """dsigma/dE_gamma [mb/GeV] = sigma_inel F_gamma(E_gamma/E_p, E_p) / E_p (KAB06 eq. 71)."""
    Ep = np.asarray(Ep, dtype=float)
    return sigma_inel_mb(Ep) * f_gamma(np.asarray(Eg, dtype=float) / Ep, Ep) / Ep
