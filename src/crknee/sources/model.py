"""Vectorised knee-source model for the MCMC (paper Sec. 3: the single burst source).

One call evaluates a batch of parameter sets (walkers) at once: the flux at the Sun of
the species asked for on one energy grid and, on a second grid, the source's all-particle
flux and its own dipole vectors (to be combined with the background by
:func:`crknee.anisotropy.combine`).  The physics is that of
:class:`crknee.sources.point.PointSource` in burst mode and free space (paper eq. 5-6):

    J_i(E) = q0 f_i (R/R0)^-beta exp(-R/Rcut) (4 pi D t)^-3/2 exp(-d^2 / (4 D t))
             * FLUX_PER_DENSITY * v/c * dR/dE,          delta = 3 d / (2 c t) * u_source

evaluated as a single exponential of a sum of precomputed per-energy terms; q0 comes from
the tabulated energy integral (:func:`crknee.sources.injection.energy_integral_fast`,
1e-7 accurate).  The test suite checks it against PointSource to 1e-6.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.anisotropy import C_KPC_MYR, unit_vector
from crknee.errors import InputError
from crknee.kinematics import Z_OF, nuclide
from crknee.sources.injection import GEV_PER_ERG, R0_GV, Composition, check_spectrum, energy_integral_fast, galprop_composition
from crknee.sources.point import FLUX_PER_DENSITY, VALIDITY_FACTOR, rigidity_and_speed
from crknee.transport import Diffusion


@dataclass(frozen=True)
class KneeResult:
    """Output of :class:`KneeModel` for W walkers.

    ``flux``: name -> (W, N_flux) flux at the Sun [m^-2 s^-1 sr^-1 GeV^-1] (LIS, per
    total energy per particle); ``flux_all``: (W, N_aniso) all-particle flux on the
    anisotropy grid; ``dipole``: (W, N_aniso, 3) own dipole of the source (Galactic
    Cartesian); ``valid``: (W, N_aniso) diffusive-regime mask (see point.validity).
    """

    flux: dict
    flux_all: np.ndarray
    dipole: np.ndarray
    valid: np.ndarray


class _Grid:
    """Per-(species, energy) constants of the exponent, shape (S, N)."""

    def __init__(self, E_GeV, species, composition, diffusion):
        E = np.asarray(E_GeV, dtype=float)
        rows = []
        for sp in species:
            nuc = nuclide(sp)
            R, v, dRdE = rigidity_and_speed(E, nuc)
            D = diffusion.kpc2_Myr(R, v)
            const = np.log(FLUX_PER_DENSITY * v * dRdE * composition.fraction(sp)) - 1.5 * np.log(4.0 * np.pi * D)
            rows.append((np.log(R / R0_GV), R, 0.25 / D, const, D))
        self.lnR, self.R, self.quarter_invD, self.const, self.D = (np.array(x) for x in zip(*rows))
        self.D_max = self.D.max(axis=0)

    def flux(self, ln_q0, beta, inv_Rcut, t, d):
        """(W, N) summed over species; parameters of shape (W,)."""
        w = (slice(None), None, None)
        arg = (ln_q0[w] - 1.5 * np.log(t)[w] + self.const - beta[w] * self.lnR - inv_Rcut[w] * self.R
               - (d * d / t)[w] * self.quarter_invD)
        return np.exp(arg).sum(axis=1)


class KneeModel:
    """Batch evaluator of the burst point source.

    ``E_flux_GeV``: total energies per particle [GeV] of the spectra; ``species``: names
    whose flux is returned on that grid ("H1", an element such as "He", or "all");
    ``E_aniso_GeV``: energies of the all-particle flux and dipole.
    """

    def __init__(self, E_flux_GeV, E_aniso_GeV, species=("H1",), *,
                 composition: Composition | None = None, diffusion: Diffusion | None = None):
        self.composition = galprop_composition() if composition is None else composition
        self.diffusion = Diffusion() if diffusion is None else diffusion
        self.E_flux = np.asarray(E_flux_GeV, dtype=float)
        self.E_aniso = np.asarray(E_aniso_GeV, dtype=float)
        self._flux_grids = {name: _Grid(self.E_flux, self._members(name), self.composition, self.diffusion)
                            for name in species}
        self._aniso = _Grid(self.E_aniso, self.composition.species, self.composition, self.diffusion)

    def _members(self, name):
        if name == "all":
            return self.composition.species
        if name in Z_OF:
            members = [s for s in self.composition.species if nuclide(s).Z == Z_OF[name]]
        else:
            members = [s for s in self.composition.species if s == nuclide(name).name]
        if not members:
            raise InputError(f"species {name!r} is not in the composition {self.composition.species}")
        return members

    def __call__(self, l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg) -> KneeResult:
        """Evaluate W parameter sets (each argument broadcast to shape (W,); floats in
        deg, deg, kpc, Myr, GV, -, erg)."""
        l, b, d, t, rc, beta, W = (np.atleast_1d(np.asarray(x, dtype=float))
                                   for x in np.broadcast_arrays(l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg))
        for name, v in (("distance", d), ("age", t), ("burst energy", W)):
            if np.any(~np.isfinite(v) | (v <= 0)):
                raise InputError(f"{name} must be finite and > 0; got {v[~np.isfinite(v) | (v <= 0)].flat[0]!r}")
        if np.any(~np.isfinite(b) | (np.abs(b) > 90.0)):
            raise InputError(f"latitude b must lie in [-90, 90] deg; got {b[~np.isfinite(b) | (np.abs(b) > 90)].flat[0]!r}")
        check_spectrum(beta, rc)
        ln_q0 = np.log(W * GEV_PER_ERG / energy_integral_fast(beta, rc, self.composition))
        inv_rc = 1.0 / rc
        flux = {name: g.flux(ln_q0, beta, inv_rc, t, d) for name, g in self._flux_grids.items()}
        flux_all = self._aniso.flux(ln_q0, beta, inv_rc, t, d)
        amp = 1.5 * d / (C_KPC_MYR * t)
        vec = amp[:, None] * unit_vector(l, b)
        dipole = np.broadcast_to(vec[:, None, :], flux_all.shape + (3,))
        valid = (C_KPC_MYR * t >= VALIDITY_FACTOR * d)[:, None] & (3.0 * self._aniso.D_max / C_KPC_MYR <= d[:, None])
        return KneeResult(flux, flux_all, dipole, valid)


def knee_model(E_flux_GeV, E_aniso_GeV, l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg, species=("H1",), *,
               composition: Composition | None = None, diffusion: Diffusion | None = None) -> KneeResult:
    """One-shot :class:`KneeModel` (build + call); build the class once inside loops."""
    return KneeModel(E_flux_GeV, E_aniso_GeV, species, composition=composition, diffusion=diffusion)(
        l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg)
