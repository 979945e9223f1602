"""Spatial diffusion coefficient of the paper, eq. (2), shared by every component.

    D_xx(R) = D0 * beta**eta * (R / R0)**delta

The paper does not state R0; crknee's default is R0 = 1 GV with eta = 1 (GALPROP's
D0_xx is quoted at 4 GV, DRAGON2's at a user choice).  With Table 1 and phi = 550 MV
crknee's solver gives B/C(10 GeV/n) = 0.201 for R0 = 1 GV and 0.311 for R0 = 4 GV,
against 0.20 measured by AMS-02 (docs/propagation.md).  The background solver (``crknee.propagation``) and the
point sources (``crknee.sources``) call the same function so that "the same propagation
environment" of the paper is guaranteed by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np

from crknee.errors import InputError

KPC2_PER_MYR_PER_CM2_S = (1.0 * u.cm**2 / u.s).to_value(u.kpc**2 / u.Myr)


@dataclass(frozen=True)
class Diffusion:
    """Parameters of eq. (2). Plain floats in documented units.

    D0 [cm^2/s], delta, R0 [GV], eta.  Table 1: D0 = 3.2e28, delta = 0.33.
    """

    D0: float = 3.2e28
    delta: float = 0.33
    R0: float = 1.0
    eta: float = 1.0

    def __post_init__(self):
        for name in ("D0", "R0"):
            v = getattr(self, name)
            if not np.isfinite(v) or v <= 0:
                raise InputError(f"diffusion {name} must be finite and > 0; got {v!r}")
        if not np.isfinite(self.delta) or not 0.0 < self.delta < 1.0:
            raise InputError(f"diffusion delta must lie in (0, 1); got {self.delta!r}")
        if not np.isfinite(self.eta):
            raise InputError(f"diffusion eta must be finite; got {self.eta!r}")

    def cm2_s(self, R_GV, beta=1.0) -> np.ndarray:
        """D_xx [cm^2/s] at rigidity ``R_GV`` [GV] and speed ``beta`` (plain floats)."""
        R = np.asarray(R_GV, dtype=float)
        return self.D0 * np.asarray(beta, dtype=float) ** self.eta * (R / self.R0) ** self.delta

    def kpc2_Myr(self, R_GV, beta=1.0) -> np.ndarray:
        """D_xx [kpc^2/Myr] (the unit of the point-source Green's functions)."""
        return self.cm2_s(R_GV, beta) * KPC2_PER_MYR_PER_CM2_S

    def __call__(self, R: u.Quantity, beta=1.0) -> u.Quantity:
        """D_xx as a Quantity [cm^2/s] for rigidity ``R`` (Quantity in GV)."""
        return self.cm2_s(R.to_value(u.GV), beta) * u.cm**2 / u.s
