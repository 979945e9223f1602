"""Continuous momentum losses of cosmic-ray nuclei in the interstellar medium.

Mannheim & Schlickeiser 1994 (A&A 286, 983), as used by GALPROP (Strong & Moskalenko
1998, ApJ 509, 212; ``nucleon_loss.cc``):

* ionisation of neutral H and He (Bethe formula without density or shell corrections),

      -dE/dt = 2 pi r_e^2 c m_e c^2 Z^2 / beta  sum_s N_s n_s B_s,
      B_s = ln(2 m_e c^2 beta^2 gamma^2 Q_max / I_s^2) - 2 beta^2,
      Q_max = 2 m_e c^2 beta^2 gamma^2 / (1 + 2 gamma m_e / M),

  with mean excitation energies I_H = 19 eV, I_He = 44 eV and N_s electrons per atom
  (N_H = 1, N_He = 2; GALPROP's code counts one electron per He atom, which makes its He
  term half of the Bethe value);
* Coulomb scattering on the free electrons of the ionised gas (temperature T_e = 1e4 K),

      -dE/dt = 4 pi r_e^2 c m_e c^2 Z^2 n_e / beta  ln(Lambda)  beta^3 / (x_m^3 + beta^3),
      ln(Lambda) = 1/2 ln(m_e^2 c^4 M gamma^2 beta^4 / (pi r_e (hbar c)^2 n_e (M + 2 gamma m_e))),
      x_m = (3 sqrt(pi) / 4)^(1/3) sqrt(2 k T_e / m_e c^2).

The momentum loss rate is -dp/dt = (-dE/dt) / beta (p in GeV, i.e. p c).  Each term is
floored at zero where its logarithm turns negative (ionisation below ~10 keV/n, Coulomb
below ~100 eV/n), outside the validity of both formulas.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.constants import alpha, c, hbar, k_B, m_e

from crknee.constants import C_CM_S, S_PER_MYR
from crknee.errors import InputError, check_finite_positive

_ME_EV = (m_e * c**2).to_value(u.eV)
_HBARC_EV_CM = (hbar * c).to_value(u.eV * u.cm)
#: Classical electron radius r_e = alpha hbar c / (m_e c^2) [cm].
R_E_CM = float(alpha) * _HBARC_EV_CM / _ME_EV
#: Mean excitation energies of H and He [eV] (Mannheim & Schlickeiser 1994; GALPROP EH, EHe).
I_H_EV = 19.0
I_HE_EV = 44.0
#: Temperature of the ionised gas [K] (warm ionised medium, GALPROP nucleon_loss.cc).
T_E_K = 1.0e4
#: Default free-electron density of the local ISM [cm^-3] (the n_HII = 0.033 cm^-3 of
#: Maurin et al. 2001, ApJ 555, 585, Sec. 2, and USINE's default ISM).
N_E_DEFAULT = 0.033


def momentum_loss_rate(
    p_GeV, Z: int, A: int, mass_GeV: float, n_H: float, n_He: float, n_e: float = N_E_DEFAULT
) -> np.ndarray:
    """-dp/dt [GeV/Myr] (positive) of a nucleus (Z, A, mass [GeV]) with momentum p c [GeV]
    in neutral H and He (``n_H``, ``n_He`` atoms cm^-3) and ionised gas (``n_e`` cm^-3)."""
    p = np.asarray(p_GeV, dtype=float)
    check_finite_positive("p_GeV", p)
    check_finite_positive("mass_GeV", mass_GeV)
    for name, val in (("n_H", n_H), ("n_He", n_He), ("n_e", n_e)):
        check_finite_positive(name, val, allow_zero=True)
    if int(Z) != Z or Z < 1 or int(A) != A or A < Z:
        raise InputError(f"need integers 1 <= Z <= A; got Z={Z!r}, A={A!r}")
    M = mass_GeV * 1e9  # eV
    bg2 = (p / mass_GeV) ** 2  # beta^2 gamma^2
    gam = np.sqrt(1.0 + bg2)
    b2 = bg2 / (1.0 + bg2)
    beta = np.sqrt(b2)
    pref = 2.0 * np.pi * R_E_CM**2 * C_CM_S * _ME_EV * Z**2 / beta  # eV cm^3 / s

    qmax = 2.0 * _ME_EV * bg2 / (1.0 + 2.0 * gam * _ME_EV / M)
    b_h = np.log(2.0 * _ME_EV * bg2 * qmax / I_H_EV**2) - 2.0 * b2
    b_he = np.log(2.0 * _ME_EV * bg2 * qmax / I_HE_EV**2) - 2.0 * b2
    ion = pref * (n_H * b_h + 2.0 * n_He * b_he)

    coul = np.zeros_like(ion)
    if n_e > 0:
        lnlam = 0.5 * np.log(
            _ME_EV**2 * M * gam**2 * b2**2 / (np.pi * R_E_CM * _HBARC_EV_CM**2 * n_e * (M + 2.0 * gam * _ME_EV))
        )
        beta_e = np.sqrt(2.0 * (k_B * T_E_K * u.K).to_value(u.eV) / _ME_EV)
        xm3 = (3.0 * np.sqrt(np.pi) / 4.0) * beta_e**3
        coul = 2.0 * pref * n_e * lnlam * beta**3 / (xm3 + beta**3)
    dE_dt = np.clip(ion, 0.0, None) + np.clip(coul, 0.0, None)  # eV / s
    return dE_dt / beta * 1e-9 * S_PER_MYR
