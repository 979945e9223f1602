"""A single cosmic-ray point source (paper Sec. 2.2, eq. 5-6) and its flux and dipole.

A source at Galactic (l, b) and distance d, of age t, injects eq. (5) per species either
at once (``mode="burst"``, normalised by the energy W above 1 GeV) or at a constant rate
since t (``mode="continuous"``, luminosity L).  Particles diffuse with the *same*
:class:`crknee.transport.Diffusion` as the background (paper Sec. 2.2: "the same
propagation environment").  At total energy per particle E (Etot, GeV) a nucleus (Z, m)
has p = sqrt(E^2 - m^2), R = p / Z, v = c p / E, and

    n_E = q(R) G(d, t, D(R, v)) dR/dE,    J = v n_E / (4 pi)     (paper eq. 1 convention)

with dR/dE = E / (Z p); G is :mod:`crknee.sources.greens` (free space, eq. 6, or the
finite halo |z| < H of the background when ``halo_kpc`` is set: images or slab
eigenmodes, exact to 1e-8).  A continuous source may have stopped: ``active_Myr``.
The dipole of the source alone is
3 D grad G / (c G) (:mod:`crknee.anisotropy`), 3 d / (2 c t) towards the source for a
burst in free space.

Validity: the diffusive solution and Fick's dipole hold only when the source's particles
have had time to scatter many times on the way, c t >> d, and the scattering mean free
path lambda = 3 D / c is shorter than d.  Points with c t < ``VALIDITY_FACTOR`` d or
lambda > d are flagged (``valid`` False) and a :class:`ValidityWarning` is issued.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import astropy.units as u
import numpy as np
from astropy.constants import c

from crknee.anisotropy import unit_vector
from crknee.constants import C_KPC_MYR
from crknee.errors import InputError
from crknee.kinematics import Nuclide, nuclide
from crknee.modulation import PHI_PAPER, force_field_factor
from crknee.sources import greens
from crknee.sources.injection import (
    PROTONS,
    Composition,
    check_spectrum,
    q0_from_energy,
    q0_from_luminosity,
    spectrum_shape,
)
from crknee.transport import Diffusion
from crknee.units import convert_fields, value_in

#: Flux [m^-2 s^-1 sr^-1] per unit (v/c) * density [kpc^-3]: c / (4 pi) / kpc^3.
FLUX_PER_DENSITY = (c / (4.0 * np.pi * u.kpc**3 * u.sr)).to_value(u.m**-2 * u.s**-1 * u.sr**-1)
#: c t must exceed this many source distances for a point to count as diffusive.
VALIDITY_FACTOR = 10.0
#: Flux unit of every point-source flux (per unit total energy per particle).
FLUX_UNIT = u.m**-2 * u.s**-1 * u.sr**-1 * u.GeV**-1


class ValidityWarning(UserWarning):
    """A point where the diffusive solution does not apply (c t or lambda vs distance)."""


def rigidity_and_speed(E_GeV, nuc: Nuclide):
    """(R [GV], v/c, dR/dE [GV/GeV]) of nucleus ``nuc`` at total energy ``E_GeV``."""
    E = np.asarray(E_GeV, dtype=float)
    if np.any(~np.isfinite(E) | (E <= nuc.mass_GeV)):
        bad = E[~np.isfinite(E) | (E <= nuc.mass_GeV)].flat[0]
        raise InputError(
            f"total energy per particle must exceed the {nuc.name} mass {nuc.mass_GeV:.4g} GeV; got {bad!r}"
        )
    p = np.sqrt((E - nuc.mass_GeV) * (E + nuc.mass_GeV))
    return p / nuc.Z, p / E, E / (nuc.Z * p)


def density_and_gradient(D_kpc2_Myr, d_kpc, l_deg, b_deg, t_Myr, mode="burst", halo_kpc=None, active_Myr=None):
    """Green's function G [kpc^-3 per particle (burst) or per particle/Myr (continuous)]
    at the Sun and its gradient vector [kpc^-4] in Galactic Cartesian, shape (..., 3).

    Free space (eq. 6) when ``halo_kpc`` is None, else free escape at |z| = halo_kpc
    (:func:`crknee.sources.greens.slab_burst`, :func:`~crknee.sources.greens.slab_continuous`).
    A continuous source emits over the last ``active_Myr`` of its age (None: all of it).
    """
    if halo_kpc is None:
        u_src = unit_vector(l_deg, b_deg)
        dens, grad = greens.KERNELS[mode]
        G = dens(d_kpc, t_Myr, D_kpc2_Myr)
        dG = grad(d_kpc, t_Myr, D_kpc2_Myr)
        if mode == "continuous" and active_Myr is not None and active_Myr < t_Myr:
            G = G - dens(d_kpc, t_Myr - active_Myr, D_kpc2_Myr)
            dG = dG - grad(d_kpc, t_Myr - active_Myr, D_kpc2_Myr)
        return G, -np.asarray(dG)[..., None] * u_src
    b = np.radians(b_deg)
    rho, zs = d_kpc * np.cos(b), d_kpc * np.sin(b)
    if mode == "burst":
        G, g_rho, g_z = greens.slab_burst(rho, zs, t_Myr, D_kpc2_Myr, halo_kpc)
    else:
        G, g_rho, g_z = greens.slab_continuous(rho, zs, t_Myr, D_kpc2_Myr, halo_kpc, active_Myr)
    horiz = unit_vector(l_deg, 0.0)
    return G, -np.asarray(g_rho)[..., None] * horiz + np.asarray(g_z)[..., None] * np.array([0.0, 0.0, 1.0])


def validity(D_kpc2_Myr, d_kpc, t_Myr) -> np.ndarray:
    """True where c t >= VALIDITY_FACTOR d and lambda = 3 D / c <= d."""
    return (C_KPC_MYR * np.asarray(t_Myr) >= VALIDITY_FACTOR * np.asarray(d_kpc)) & (
        3.0 * np.asarray(D_kpc2_Myr) / C_KPC_MYR <= np.asarray(d_kpc)
    )


def _positive(name, value, unit):
    if value is None or not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be finite and > 0 {unit}; got {value!r}")


def _species_first(name, E, method: str):
    """(name, E) of a call ``method(name, E)``; the former order ``method(E[, name])`` still
    works with a DeprecationWarning (callers in other branches move after merge)."""
    if isinstance(name, str):
        if E is None:
            raise InputError(f"PointSource.{method}({name!r}, E): the energies E are missing")
        return name, E
    warnings.warn(
        f"PointSource.{method}(E, name) is deprecated; pass the species first: .{method}(name, E), as Solution does",
        DeprecationWarning,
        stacklevel=3,
    )
    return ("all" if E is None else E), name


@dataclass(frozen=True)
class PointSource:
    """A point source: Quantities, or plain floats in the units of their suffixes
    (:func:`crknee.units.value_in`; :data:`PointSource.UNITS`).

    ``l_deg``, ``b_deg`` Galactic longitude/latitude [deg]; ``d_kpc`` distance; ``age_Myr``
    time since injection (burst) or since switch-on (continuous); ``beta``, ``Rcut_GV``
    eq. (5); ``energy_erg`` (burst) or ``luminosity_erg_s`` (continuous); ``halo_kpc``
    None (free space, the paper's eq. 6) or the halo half-height H (free escape at
    |z| = H, the background's halo: images or eigenmodes, :mod:`crknee.sources.greens`);
    ``active_Myr`` (continuous only): the source injected during the last ``active_Myr``
    of its age and is off since (None: active for all of ``age_Myr``, i.e. still on).
    """

    name: str
    l_deg: float
    b_deg: float
    d_kpc: float
    age_Myr: float
    beta: float
    Rcut_GV: float
    energy_erg: float | None = None
    luminosity_erg_s: float | None = None
    mode: str = "burst"
    composition: Composition = PROTONS
    diffusion: Diffusion = field(default_factory=Diffusion)
    halo_kpc: float | None = None
    active_Myr: float | None = None

    #: Documented unit of each dimensional field (a Quantity is converted to it).
    UNITS = {
        "l_deg": "deg",
        "b_deg": "deg",
        "d_kpc": "kpc",
        "age_Myr": "Myr",
        "beta": "",
        "Rcut_GV": "GV",
        "energy_erg": "erg",
        "luminosity_erg_s": "erg / s",
        "halo_kpc": "kpc",
        "active_Myr": "Myr",
    }

    def __post_init__(self):
        convert_fields(self, self.UNITS)
        if not np.isfinite(self.l_deg):
            raise InputError(f"longitude l must be finite; got {self.l_deg!r}")
        if not np.isfinite(self.b_deg) or abs(self.b_deg) > 90.0:
            raise InputError(f"latitude b must lie in [-90, 90] deg; got {self.b_deg!r}")
        _positive("distance", self.d_kpc, "kpc")
        _positive("age", self.age_Myr, "Myr")
        check_spectrum(self.beta, self.Rcut_GV)
        if self.mode == "burst":
            _positive("burst energy", self.energy_erg, "erg")
            if self.luminosity_erg_s is not None:
                raise InputError(f"a burst takes energy_erg, not luminosity_erg_s={self.luminosity_erg_s!r}")
        elif self.mode == "continuous":
            _positive("luminosity", self.luminosity_erg_s, "erg/s")
            if self.energy_erg is not None:
                raise InputError(f"a continuous source takes luminosity_erg_s, not energy_erg={self.energy_erg!r}")
        else:
            raise InputError(f"mode must be 'burst' or 'continuous'; got {self.mode!r}")
        if self.active_Myr is not None:
            if self.mode != "continuous":
                raise InputError(f"active_Myr={self.active_Myr!r} is for a continuous source, not a {self.mode}")
            _positive("active time", self.active_Myr, "Myr")
        if self.halo_kpc is not None:
            _positive("halo half-height", self.halo_kpc, "kpc")
            zs = self.d_kpc * np.sin(np.radians(self.b_deg))
            if abs(zs) >= self.halo_kpc:
                raise InputError(f"source height {zs:.3g} kpc lies outside the halo |z| < {self.halo_kpc!r} kpc")

    @cached_property
    def q0(self) -> float:
        """Normalisation of eq. (5) [1/GV (burst) or 1/(GV Myr) (continuous)]; computed once
        per source (it sums an energy integral over the composition)."""
        if self.mode == "burst":
            return float(q0_from_energy(self.energy_erg, self.beta, self.Rcut_GV, self.composition))
        return float(q0_from_luminosity(self.luminosity_erg_s, self.beta, self.Rcut_GV, self.composition))

    @property
    def position_kpc(self) -> np.ndarray:
        """Heliocentric Galactic Cartesian position [kpc]."""
        return self.d_kpc * unit_vector(self.l_deg, self.b_deg)

    def _species_terms(self, E_GeV, nuc: Nuclide):
        R, v, dRdE = rigidity_and_speed(E_GeV, nuc)
        D = self.diffusion.kpc2_Myr(R, v)
        G, grad = density_and_gradient(
            D, self.d_kpc, self.l_deg, self.b_deg, self.age_Myr, self.mode, self.halo_kpc, self.active_Myr
        )
        n_E = self.q0 * self.composition.fraction(nuc.name) * spectrum_shape(R, self.beta, self.Rcut_GV) * G * dRdE
        J = FLUX_PER_DENSITY * v * n_E
        own = 3.0 * D[..., None] / C_KPC_MYR * grad / G[..., None]
        return J, own, validity(D, self.d_kpc, self.age_Myr)

    def evaluate(self, E_GeV, name="all"):
        """Float kernel: (LIS flux [m^-2 s^-1 sr^-1 GeV^-1], own dipole (..., 3), valid)
        at total energies per particle ``E_GeV`` summed over the species of ``name``."""
        E = np.asarray(E_GeV, dtype=float)
        J_tot = np.zeros(E.shape)
        dip = np.zeros(E.shape + (3,))
        ok = np.ones(E.shape, dtype=bool)
        for sp in self.composition.members(name):
            nuc = nuclide(sp)
            above = E > nuc.mass_GeV
            J, own, valid = self._species_terms(np.where(above, E, 2.0 * nuc.mass_GeV), nuc)
            J = np.where(above, J, 0.0)
            J_tot += J
            dip += J[..., None] * own
            ok &= valid | ~above
        with np.errstate(invalid="ignore", divide="ignore"):
            dip = np.where(J_tot[..., None] > 0, dip / J_tot[..., None], 0.0)
        return J_tot, dip, ok

    def _warn(self, ok):
        if not np.all(ok):
            warnings.warn(
                f"source {self.name!r}: diffusive solution invalid at {np.size(ok) - np.count_nonzero(ok)} "
                f"energies (c t = {C_KPC_MYR * self.age_Myr:.3g} kpc vs d = {self.d_kpc:.3g} kpc, "
                f"or mean free path > d); those points are flagged",
                ValidityWarning,
                stacklevel=3,
            )

    def lis(self, name: str, E=None) -> u.Quantity:
        """Interstellar flux at the Sun of species/element ``name`` ("H1", "He", "all") per unit
        total energy per particle ``E`` (Quantity, or floats in GeV); species first, as
        :meth:`crknee.propagation.Solution.lis`."""
        name, E = _species_first(name, E, "lis")
        J, _, ok = self.evaluate(value_in("E", E, "GeV"), name)
        self._warn(ok)
        return J * FLUX_UNIT

    def flux(self, name: str, E=None, phi=PHI_PAPER) -> u.Quantity:
        """Flux at Earth of ``name`` (force-field modulation, potential ``phi``: Quantity or
        float in GV) per unit Etot ``E`` (Quantity, or floats in GeV); species first, as
        :meth:`crknee.propagation.Solution.earth`."""
        name, E = _species_first(name, E, "flux")
        phi_GV = value_in("phi", phi, "GV", "non-negative")
        E_GeV = np.asarray(value_in("E", E, "GeV"), dtype=float)
        total = np.zeros(E_GeV.shape)
        ok = np.ones(E_GeV.shape, dtype=bool)
        for sp in self.composition.members(name):
            nuc = nuclide(sp)
            above = E_GeV > nuc.mass_GeV
            ekn = np.where(above, (E_GeV - nuc.mass_GeV) / nuc.A, 1.0)
            ekn_lis, ratio = force_field_factor(ekn, phi_GV, nuc.Z, nuc.A, nuc.mass_GeV)
            J, _, valid = self.evaluate(ekn_lis * nuc.A + nuc.mass_GeV, sp)
            total += np.where(above, J * ratio, 0.0)
            ok &= valid | ~above
        self._warn(ok)
        return total * FLUX_UNIT

    def dipole(self, name: str, E=None) -> u.Quantity:
        """Own dipole vectors (..., 3) of ``name`` in Galactic Cartesian (dimensionless) at ``E``."""
        name, E = _species_first(name, E, "dipole")
        _, dip, ok = self.evaluate(value_in("E", E, "GeV"), name)
        self._warn(ok)
        return dip * u.dimensionless_unscaled

    def valid(self, name: str, E=None) -> np.ndarray:
        """Boolean mask of the energies ``E`` where the diffusive description of ``name`` holds."""
        name, E = _species_first(name, E, "valid")
        return self.evaluate(value_in("E", E, "GeV"), name)[2]
