"""Spatial diffusion coefficient of the paper, eq. (2), shared by every component.

    D_xx(R) = D0 * beta**eta * (R / R0)**delta * B(R),
    B(R)    = [1 + (R / R_b)**(Delta_delta / s_b)]**(-s_b)       (B = 1 without a break)

The factor B is the smoothly broken high-rigidity diffusion of Génolini et al. 2017
(PRL 119, 241101; the same factor, there with delta - delta_h = Delta_delta, in Génolini
et al. 2019, PRD 99, 123028 and Weinrich et al. 2020, A&A 639, A131).  Sign convention:
``Delta_delta > 0`` is a **hardening** of the spectra above ``R_b``: the logarithmic slope
of D_xx goes from delta (R << R_b) to delta - Delta_delta (R >> R_b); ``s_b`` > 0 sets the
width of the transition (s_b -> 0: sharp).  The paper's Table 1 has no break: the default
``Delta_delta = 0`` sets B = 1 exactly, whatever R_b and s_b (the defaults R_b = 300 GV,
s_b = 0.05 then have no effect); note that the formula itself tends to
2**-s_b, not 1, as Delta_delta -> 0+ at fixed s_b: a fit that lets Delta_delta reach 0
should use a prior on Delta_delta > 0 or treat "no break" as a separate model.

The paper does not state R0; crknee's default is R0 = 1 GV with eta = 1 (GALPROP's
D0_xx is quoted at 4 GV, DRAGON2's at a user choice).  With Table 1 and phi = 550 MV
crknee's solver gives B/C(10 GeV/n) = 0.201 for R0 = 1 GV and 0.311 for R0 = 4 GV,
against 0.20 measured by AMS-02 (docs/propagation.md).  The background solver (``crknee.propagation``) and the
point sources (``crknee.sources``) call the same function so that "the same propagation
environment" of the paper is guaranteed by construction.

Units (crknee.units.value_in): D0 is a Quantity of dimension length^2/time or a float in
cm^2/s; R0 and R_b a Quantity of rigidity (or voltage) or a float in GV.  They are stored
as plain floats in those units.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.parameters import by_key
from crknee.units import value_in

KPC2_PER_MYR_PER_CM2_S = (1.0 * u.cm**2 / u.s).to_value(u.kpc**2 / u.Myr)


@dataclass(frozen=True)
class Diffusion:
    """Parameters of eq. (2) with the optional high-rigidity break (module docstring).

    D0 [cm^2/s], delta, R0 [GV], eta, R_b [GV], Delta_delta, s_b.  Table 1: D0 = 3.2e28,
    delta = 0.33, no break.  Dimensional arguments accept Quantities (converted once).
    """

    D0: float = 3.2e28
    delta: float = 0.33
    R0: float = 1.0
    eta: float = 1.0
    R_b: float = 300.0
    Delta_delta: float = 0.0
    s_b: float = 0.05

    def __post_init__(self):
        conv = {
            "D0": ("cm2 / s", "positive"),
            "R0": ("GV", "positive"),
            "R_b": ("GV", "positive"),
            "delta": ("", "any"),
            "eta": ("", "any"),
            "Delta_delta": ("", "non-negative"),
            "s_b": ("", "positive"),
        }
        for name, (unit, domain) in conv.items():
            v = value_in(f"diffusion {name}", getattr(self, name), unit, domain)
            if np.ndim(v):
                raise InputError(f"diffusion {name} must be a scalar; got {getattr(self, name)!r}")
            object.__setattr__(self, name, float(v))
        spec = by_key("propagation")  # the one declaration of each parameter's range
        for key, name in (("delta", "delta"), ("eta", "eta"), ("Delta_delta", "Delta_delta")):
            if not spec[key].contains(getattr(self, name)):
                raise InputError(f"diffusion {name} must lie in {spec[key].range_text()}; got {getattr(self, name)!r}")

    @property
    def has_break(self) -> bool:
        """True when the high-rigidity factor B(R) differs from 1 (Delta_delta > 0)."""
        return self.Delta_delta > 0.0

    def break_factor(self, R_GV) -> np.ndarray:
        """B(R) = [1 + (R/R_b)^(Delta_delta/s_b)]^(-s_b); exactly 1 when Delta_delta = 0.

        Evaluated as exp(-s log1p(x)) with x computed in logs so that it neither
        overflows for R >> R_b nor loses precision for R << R_b.
        """
        R = np.asarray(R_GV, dtype=float)
        if not self.has_break:
            return np.ones_like(R)
        lx = (self.Delta_delta / self.s_b) * np.log(R / self.R_b)
        # ln(1 + e^lx) without overflow: logaddexp(0, lx)
        return np.exp(-self.s_b * np.logaddexp(0.0, lx))

    def cm2_s(self, R_GV, beta=1.0) -> np.ndarray:
        """D_xx [cm^2/s] at rigidity ``R_GV`` [GV] and speed ``beta`` (plain floats)."""
        R = np.asarray(R_GV, dtype=float)
        D = self.D0 * np.asarray(beta, dtype=float) ** self.eta * (R / self.R0) ** self.delta
        return D * self.break_factor(R) if self.has_break else D

    def kpc2_Myr(self, R_GV, beta=1.0) -> np.ndarray:
        """D_xx [kpc^2/Myr] (the unit of the point-source Green's functions)."""
        return self.cm2_s(R_GV, beta) * KPC2_PER_MYR_PER_CM2_S

    def __call__(self, R: u.Quantity, beta=1.0) -> u.Quantity:
        """D_xx as a Quantity [cm^2/s] for rigidity ``R`` (Quantity in GV, or float in GV)."""
        return self.cm2_s(value_in("R", R, "GV", "positive"), beta) * u.cm**2 / u.s
