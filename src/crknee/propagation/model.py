"""Parameters of the background propagation model (paper Sec. 2.1, eq. 1-4, Table 1).

:class:`PropagationModel` is a frozen dataclass: every dimensional field is an astropy
Quantity, validated (unit and range) in ``__post_init__`` so that a bad value raises
:class:`crknee.errors.InputError` naming it before any solving starts.  The solver reads
the plain floats of :meth:`PropagationModel.floats` (kpc, Myr, GeV, GV, cm^2/s, km/s).

Defaults and where they come from
---------------------------------
========================  ==================  ==========================================
field                     default             reference
========================  ==================  ==========================================
``D0``                    3.2e28 cm^2/s       Table 1 (eq. 2)
``delta``                 0.33                Table 1 (eq. 2)
``R0``                    1 GV                eq. 2; not stated in the paper (crknee
                                              convention, see crknee.transport)
``eta``                   1                   eq. 2 (beta^eta)
``v_A``                   25 km/s             Table 1 (Alfven speed, reacceleration)
``V_c``                   0 km/s              eq. 1 convection; the paper lists none
``H``                     4.5 kpc             Sec. 2.2 (halo half height)
``R_gal``                 20 kpc              Sec. 2.2 (Galactic radius)
``r_sun``                 8.5 kpc             eq. 3
``z_s``                   0.2 kpc             eq. 3
``nu1``, ``nu2``          2.48, 2.38          Table 1 (eq. 4)
``R_br``                  335 GV              Table 1 (eq. 4)
``R_cut``                 200 TV              Table 1 (eq. 4)
``h``                     0.1 kpc             gas disk half thickness (Maurin et al.
                                              2001, ApJ 555, 585, Sec. 2)
``he_to_h``               0.1                 ISM He/H by number (ibid.)
========================  ==================  ==========================================

``ekn_min`` = 0.01 GeV/n: with halo-wide reacceleration at Table 1's v_A, particles
injected below 0.1 GeV/n are reaccelerated into the GeV range; the lower edge must sit
where ionisation losses win (a 0.1 GeV/n edge lowers the 1 GeV proton LIS by 30 %,
0.001 GeV/n changes it by < 1 % from 0.01; docs/propagation.md).

``reacceleration`` chooses where the momentum diffusion of eq. (1) acts: ``"halo"``
(everywhere, as in GALPROP / DRAGON whose v_A Table 1 quotes; default) or ``"disk"``
(only in the thin gas disk, as in USINE).  See docs/propagation.md.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from types import SimpleNamespace

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.transport import Diffusion

#: Field name -> unit in which the solver reads it (hot-loop units).
QUANTITY_UNITS = {
    "D0": u.cm**2 / u.s,
    "R0": u.GV,
    "v_A": u.km / u.s,
    "V_c": u.km / u.s,
    "H": u.kpc,
    "R_gal": u.kpc,
    "r_sun": u.kpc,
    "z_s": u.kpc,
    "h": u.kpc,
    "R_br": u.GV,
    "R_cut": u.GV,
    "ekn_min": u.GeV,
    "ekn_max": u.GeV,
}
REACCELERATION_ZONES = ("halo", "disk")


@dataclass(frozen=True)
class PropagationModel:
    """All parameters of the background model (eq. 1-4) with the paper's defaults.

    Numerical parameters: ``n_modes`` Bessel modes J0(zeta_i r / R_gal) (Maurin et al.
    2001, App. A), ``points_per_decade`` of the log grid in kinetic energy per nucleon
    from ``ekn_min`` to ``ekn_max``.  Network choices (``species``, ``heaviest``,
    ``production``, ``inelastic``) go to :func:`crknee.propagation.network.build_network`.
    """

    D0: u.Quantity = 3.2e28 * u.cm**2 / u.s
    delta: float = 0.33
    R0: u.Quantity = 1.0 * u.GV
    eta: float = 1.0
    v_A: u.Quantity = 25.0 * u.km / u.s
    V_c: u.Quantity = 0.0 * u.km / u.s
    H: u.Quantity = 4.5 * u.kpc
    R_gal: u.Quantity = 20.0 * u.kpc
    r_sun: u.Quantity = 8.5 * u.kpc
    z_s: u.Quantity = 0.2 * u.kpc
    h: u.Quantity = 0.1 * u.kpc
    he_to_h: float = 0.1
    nu1: float = 2.48
    nu2: float = 2.38
    R_br: u.Quantity = 335.0 * u.GV
    R_cut: u.Quantity = 200.0 * u.TV
    reacceleration: str = "halo"
    n_modes: int = 40
    points_per_decade: int = 20
    ekn_min: u.Quantity = 0.01 * u.GeV
    ekn_max: u.Quantity = 1.0e8 * u.GeV
    species: tuple | None = None
    heaviest: str = "Fe56"
    production: str = "GALPROP17_OPT12"
    inelastic: str = "Tripathi99+Coste12"

    def __post_init__(self):
        for name, unit in QUANTITY_UNITS.items():
            val = getattr(self, name)
            if not isinstance(val, u.Quantity):
                raise InputError(f"PropagationModel.{name} must be a Quantity in {unit}; got {val!r}")
            try:
                v = val.to_value(unit)
            except u.UnitConversionError as exc:
                raise InputError(f"PropagationModel.{name} has unit {val.unit}, not convertible to {unit}") from exc
            if not np.isscalar(v) or not np.isfinite(v):
                raise InputError(f"PropagationModel.{name} must be a finite scalar; got {val!r}")
            if name in ("v_A", "V_c"):
                if v < 0:
                    raise InputError(f"PropagationModel.{name} must be >= 0; got {val!r}")
            elif v <= 0:
                raise InputError(f"PropagationModel.{name} must be > 0; got {val!r}")
        for name in ("nu1", "nu2"):
            v = getattr(self, name)
            if not np.isfinite(v) or not 1.0 < v < 5.0:
                raise InputError(f"PropagationModel.{name} (injection index, eq. 4) must lie in (1, 5); got {v!r}")
        if not np.isfinite(self.he_to_h) or self.he_to_h < 0:
            raise InputError(f"PropagationModel.he_to_h must be finite and >= 0; got {self.he_to_h!r}")
        if self.reacceleration not in REACCELERATION_ZONES:
            raise InputError(f"PropagationModel.reacceleration must be one of {REACCELERATION_ZONES}; got {self.reacceleration!r}")
        for name, low in (("n_modes", 1), ("points_per_decade", 4)):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
                raise InputError(f"PropagationModel.{name} must be an integer >= {low}; got {v!r}")
        if self.species is not None and (not isinstance(self.species, tuple)
                                         or not all(isinstance(x, str) for x in self.species)):
            raise InputError(f"PropagationModel.species must be None or a tuple of names; got {self.species!r}")
        f = self.floats()
        if f.ekn_max <= 10.0 * f.ekn_min:
            raise InputError(f"PropagationModel.ekn_max ({self.ekn_max}) must exceed 10 x ekn_min ({self.ekn_min})")
        if f.H <= f.h:
            raise InputError(f"PropagationModel.H ({self.H}) must exceed the disk half thickness h ({self.h})")
        if not 0.0 < f.r_sun < f.R_gal:
            raise InputError(f"PropagationModel.r_sun ({self.r_sun}) must lie inside R_gal ({self.R_gal})")
        self.diffusion  # validates D0, delta, R0, eta (crknee.transport.Diffusion)

    def floats(self) -> SimpleNamespace:
        """Every parameter as a plain float in the solver's units (QUANTITY_UNITS)."""
        out = {}
        for fld in fields(self):
            val = getattr(self, fld.name)
            unit = QUANTITY_UNITS.get(fld.name)
            out[fld.name] = float(val.to_value(unit)) if unit is not None else val
        return SimpleNamespace(**out)

    @property
    def diffusion(self) -> Diffusion:
        """The eq. (2) coefficient (the object shared with the point sources)."""
        return Diffusion(
            D0=float(self.D0.to_value(u.cm**2 / u.s)), delta=float(self.delta),
            R0=float(self.R0.to_value(u.GV)), eta=float(self.eta),
        )
