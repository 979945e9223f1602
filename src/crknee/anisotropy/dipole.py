"""Dipole vectors of cosmic rays and their equatorial projection (paper Sec. 2.3).

In the diffusive regime the dipole of a component i with density psi_i is (Fick's law,
e.g. Blasi & Amato 2012, JCAP 01, 011, eq. 5; Ptuskin et al. 2006, Adv. Space Res. 37,
1909)

    delta_i = 3 D grad(psi_i) / (c psi_total)

and the observed dipole is the vector sum of the components (a flux-weighted sum of
their "own" dipoles 3 D grad psi_i / (c psi_i)).  Vectors are in heliocentric Galactic
Cartesian coordinates (x towards l = 0, y towards l = 90 deg, z towards the north
Galactic pole).  The dipole points to where the intensity is largest, i.e. up the
gradient: towards a point source.

A ground array at one latitude measures only the projection onto the equatorial plane
(the first harmonic in right ascension): amplitude |delta| cos(dec) and phase = RA of
delta (Ahlers & Mertsch 2017, Prog. Part. Nucl. Phys. 94, 184, sec. 3.1).  The rotation
Galactic -> ICRS is taken from astropy (IAU 1958 Galactic frame tied to FK5/ICRS).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import astropy.units as u
import numpy as np

from crknee.constants import C_CM_S, KPC_PER_CM
from crknee.errors import InputError


@lru_cache(maxsize=1)
def galactic_to_icrs_matrix() -> np.ndarray:
    """3x3 rotation taking Galactic Cartesian unit vectors to ICRS Cartesian (astropy)."""
    from astropy.coordinates import ICRS, CartesianRepresentation, Galactic

    eye = np.eye(3)  # row k: Galactic basis vector e_k
    gal = Galactic(CartesianRepresentation(eye[:, 0], eye[:, 1], eye[:, 2]))
    icrs = gal.transform_to(ICRS()).cartesian
    return np.stack([icrs.x.value, icrs.y.value, icrs.z.value])


def unit_vector(l_deg, b_deg) -> np.ndarray:
    """Heliocentric Galactic Cartesian unit vector(s) of direction (l, b) [deg], shape (..., 3)."""
    l, b = np.radians(np.asarray(l_deg, dtype=float)), np.radians(np.asarray(b_deg, dtype=float))
    cb = np.cos(b)
    return np.stack(np.broadcast_arrays(cb * np.cos(l), cb * np.sin(l), np.sin(b)), axis=-1)


def dipole_from_gradient(D_cm2_s, grad_psi_per_kpc_vec, psi_total) -> np.ndarray:
    """delta = 3 D grad(psi) / (c psi_total) (plain floats).

    ``D_cm2_s`` [cm^2/s] shape (...), ``grad_psi_per_kpc_vec`` [psi-unit/kpc] shape (..., 3)
    in Galactic Cartesian, ``psi_total`` [psi-unit] shape (...).  Returns shape (..., 3).
    """
    lam_kpc = 3.0 * np.asarray(D_cm2_s, dtype=float) / C_CM_S * KPC_PER_CM
    return (lam_kpc / np.asarray(psi_total, dtype=float))[..., None] * np.asarray(grad_psi_per_kpc_vec, dtype=float)


def background_gradient_vector(dlnpsi_dr, dlnpsi_dz) -> np.ndarray:
    """Galactocentric log-gradient at the Sun [1/kpc] -> Galactic Cartesian vector (..., 3).

    The Galactocentric radius grows away from the Galactic centre, i.e. along -x at the
    Sun; z is common to both frames (the Sun at z = 0, paper Sec. 2.1).
    """
    r, z = np.broadcast_arrays(np.asarray(dlnpsi_dr, dtype=float), np.asarray(dlnpsi_dz, dtype=float))
    return np.stack([-r, np.zeros_like(r), z], axis=-1)


def combine(fluxes, own_dipoles) -> tuple[np.ndarray, np.ndarray]:
    """Sum components: returns (total flux, total dipole) from fluxes (k, ...) and their own
    dipoles (k, ..., 3): delta = sum_k J_k delta_k / sum_k J_k (NaN where the total flux
    is zero: no particles, no direction).  A component with zero flux adds nothing, even
    where its own dipole is NaN (as :func:`combine` returns for an empty component)."""
    J = np.asarray(fluxes, dtype=float)
    d = np.asarray(own_dipoles, dtype=float)
    total = J.sum(axis=0)
    weighted = np.where(J[..., None] > 0, J[..., None] * d, 0.0).sum(axis=0)
    safe = np.where(total > 0, total, 1.0)[..., None]
    return total, np.where(total[..., None] > 0, weighted / safe, np.nan)


class Equatorial(NamedTuple):
    """What a ground array measures of a dipole: ``amplitude`` |delta| cos(dec)
    (dimensionless) and ``phase_deg`` the RA phase [deg in [0, 360)], float arrays (or
    floats) in the documented units; unpacks as ``amp, ra = equatorial(v)``."""

    amplitude: np.ndarray
    phase_deg: np.ndarray

    def quantities(self) -> tuple[u.Quantity, u.Quantity]:
        """(dimensionless amplitude, RA phase in deg) as Quantities."""
        return self.amplitude * u.dimensionless_unscaled, self.phase_deg * u.deg


def equatorial(dipole_xyz_gal) -> Equatorial:
    """Projection measured by ground arrays: :class:`Equatorial` (amplitude |delta| cos(dec),
    RA phase [deg in [0, 360)]) of Galactic Cartesian dipole vector(s) of shape (..., 3)."""
    v = np.asarray(dipole_xyz_gal, dtype=float)
    if v.shape[-1:] != (3,):
        raise InputError(f"dipole vectors need a last axis of length 3; got shape {v.shape}")
    eq = v @ galactic_to_icrs_matrix().T
    amp = np.hypot(eq[..., 0], eq[..., 1])
    ra = np.degrees(np.arctan2(eq[..., 1], eq[..., 0])) % 360.0
    return Equatorial(amp, ra)


def equatorial_quantity(dipole_xyz_gal) -> tuple[u.Quantity, u.Quantity]:
    """:func:`equatorial` with Quantities: (dimensionless amplitude, RA in deg)."""
    return equatorial(dipole_xyz_gal).quantities()


def background_dipole(E_GeV, species_fluxes, species_gradients, D_cm2_s):
    """All-particle flux and own dipole of the background on a total-energy grid.

    Generic arrays, so that any background can be used: for each species k,
    ``species_fluxes[k]`` (N,) flux per unit Etot (any common unit),
    ``species_gradients[k]`` = (dlnpsi_dr, dlnpsi_dz) (N,) [1/kpc] Galactocentric, and
    ``D_cm2_s[k]`` (N,) its diffusion coefficient at that energy.  Returns (J (N,),
    dipole (N, 3)).  ``E_GeV`` only fixes the shape.
    """
    E = np.asarray(E_GeV, dtype=float)
    J = np.asarray(species_fluxes, dtype=float).reshape((-1,) + E.shape)
    dr, dz = (np.asarray(g, dtype=float).reshape((-1,) + E.shape) for g in zip(*species_gradients))
    own = dipole_from_gradient(
        np.asarray(D_cm2_s, dtype=float).reshape((-1,) + E.shape), background_gradient_vector(dr, dz), 1.0
    )
    return combine(J, own)


def solution_dipole(solution, E_GeV, include_z: bool = False):
    """Adapter for :class:`crknee.propagation.solution.Solution`: (all-particle LIS flux
    [m^-2 s^-1 sr^-1 GeV^-1] (N,), own dipole (N, 3)) at total energies ``E_GeV``.

    Sums every nuclide of the network on its solver grid; above the grid's top (1e8 GeV/n
    by default) a nuclide contributes nothing (the background injection is cut off at
    R_cut = 200 TV, paper Table 1: exp(-R/R_cut) < e^-400 there).  The vertical term is
    left out by default: the Sun sits inside the source layer (|z| < z_s = 0.2 kpc, paper
    eq. 3) of a profile symmetric in z, whose vertical gradient vanishes at z = 0; the
    solver's one-sided value at z = 0+ is not the gradient at the Sun.
    """
    from crknee.kinematics import beta_of_momentum

    E = np.atleast_1d(np.asarray(E_GeV, dtype=float))
    fluxes, grads, Ds = [], [], []
    for nuc in solution.nuclides:
        e_lo, e_hi = (nuc.mass_GeV + nuc.A * solution.raw.ekn[i] for i in (0, -1))
        ok = (E >= e_lo) & (E <= e_hi)
        if not np.any(ok):
            continue
        Eq = np.clip(E, e_lo, e_hi) * u.GeV
        J = np.where(ok, solution.lis(nuc.name, Eq, "Etot").to_value(u.m**-2 / u.s / u.sr / u.GeV), 0.0)
        g_r, g_z = solution.gradient(nuc.name, Eq, "Etot")
        p = np.sqrt((Eq.value - nuc.mass_GeV) * (Eq.value + nuc.mass_GeV))
        fluxes.append(J)
        grads.append((g_r.to_value(1 / u.kpc), g_z.to_value(1 / u.kpc) if include_z else np.zeros(E.shape)))
        Ds.append(solution.diffusion.cm2_s(p / nuc.Z, beta_of_momentum(p, nuc.mass_GeV)))
    return background_dipole(E, fluxes, grads, Ds)
