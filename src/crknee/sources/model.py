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

from crknee.anisotropy import unit_vector
from crknee.constants import C_KPC_MYR, GEV_PER_ERG
from crknee.errors import InputError
from crknee.kinematics import nuclide
from crknee.sources import greens
from crknee.sources.injection import R0_GV, Composition, check_spectrum, energy_integral_fast, galprop_composition
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
            log_pref = np.log(FLUX_PER_DENSITY * v * dRdE * composition.fraction(sp))
            rows.append((np.log(R / R0_GV), R, 0.25 / D, log_pref - 1.5 * np.log(4.0 * np.pi * D), log_pref, D))
        self.lnR, self.R, self.quarter_invD, self.const, self.log_pref, self.D = (np.array(x) for x in zip(*rows))
        self.D_max = self.D.max(axis=0)

    def flux(self, ln_q0, beta, inv_Rcut, t, d):
        """(W, N) summed over species; parameters of shape (W,)."""
        w = (slice(None), None, None)
        arg = (ln_q0[w] - 1.5 * np.log(t)[w] + self.const - beta[w] * self.lnR - inv_Rcut[w] * self.R
               - (d * d / t)[w] * self.quarter_invD)
        return np.exp(arg).sum(axis=1)

    def halo(self, ln_q0, beta, inv_Rcut, t, d, l_deg, b_deg, halo_kpc):
        """Finite-halo variant: ((W, N) flux summed over species, (W, N, 3) own dipole)."""
        w = (slice(None), None, None)
        b = np.radians(b_deg)
        rho, zs = (d * np.cos(b))[w], (d * np.sin(b))[w]
        G = greens.halo_density(rho, zs, t[w], self.D, halo_kpc)
        g_rho, g_z = greens.halo_gradient(rho, zs, t[w], self.D, halo_kpc)
        pref = np.exp(ln_q0[w] + self.log_pref - beta[w] * self.lnR - inv_Rcut[w] * self.R)
        horiz = unit_vector(l_deg, 0.0)[:, None, None, :]
        grad = -g_rho[..., None] * horiz + g_z[..., None] * np.array([0.0, 0.0, 1.0])
        # sum_s J_s * own_s = sum_s pref_s * (3 D_s / c) * grad_s  (no division by G)
        weighted = (pref[..., None] * (3.0 * self.D / C_KPC_MYR)[..., None] * grad).sum(axis=1)
        J_tot = (pref * G).sum(axis=1)
        safe = np.where(J_tot > 0, J_tot, 1.0)[..., None]
        return J_tot, np.where(J_tot[..., None] > 0, weighted / safe, np.nan)


class KneeModel:
    """Batch evaluator of the burst point source.

    ``E_flux_GeV``: total energies per particle [GeV] of the spectra; ``species``: names
    whose flux is returned on that grid ("H1", an element such as "He", or "all");
    ``E_aniso_GeV``: energies of the all-particle flux and dipole.  ``halo_kpc``: None for
    free space (eq. 6, the paper) or the halo half-height of the image method (slower:
    ~3 x 10^3 evaluations/s for the knee source, whose sigma ~ 10-20 kpc at PeV-100 PeV
    needs ~20 image pairs).
    """

    def __init__(self, E_flux_GeV, E_aniso_GeV, species=("H1",), *, composition: Composition | None = None,
                 diffusion: Diffusion | None = None, halo_kpc: float | None = None):
        if halo_kpc is not None and (not np.isfinite(halo_kpc) or halo_kpc <= 0):
            raise InputError(f"halo half-height must be finite and > 0 kpc; got {halo_kpc!r}")
        self.halo_kpc = halo_kpc
        self.composition = galprop_composition() if composition is None else composition
        self.diffusion = Diffusion() if diffusion is None else diffusion
        self.E_flux = np.asarray(E_flux_GeV, dtype=float)
        self.E_aniso = np.asarray(E_aniso_GeV, dtype=float)
        self._flux_grids = {name: _Grid(self.E_flux, self.composition.members(name), self.composition, self.diffusion)
                            for name in species}
        self._aniso = _Grid(self.E_aniso, self.composition.species, self.composition, self.diffusion)

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
        valid = (C_KPC_MYR * t >= VALIDITY_FACTOR * d)[:, None] & (3.0 * self._aniso.D_max / C_KPC_MYR <= d[:, None])
        if self.halo_kpc is not None:
            zs = np.abs(d * np.sin(np.radians(b)))
            if np.any(zs >= self.halo_kpc):
                raise InputError(f"source height {zs.max():.3g} kpc lies outside the halo |z| < {self.halo_kpc!r} kpc")
            flux = {name: g.halo(ln_q0, beta, inv_rc, t, d, l, b, self.halo_kpc)[0]
                    for name, g in self._flux_grids.items()}
            flux_all, dipole = self._aniso.halo(ln_q0, beta, inv_rc, t, d, l, b, self.halo_kpc)
            return KneeResult(flux, flux_all, dipole, valid)
        flux = {name: g.flux(ln_q0, beta, inv_rc, t, d) for name, g in self._flux_grids.items()}
        flux_all = self._aniso.flux(ln_q0, beta, inv_rc, t, d)
        amp = 1.5 * d / (C_KPC_MYR * t)
        vec = amp[:, None] * unit_vector(l, b)
        dipole = np.broadcast_to(vec[:, None, :], flux_all.shape + (3,))
        return KneeResult(flux, flux_all, dipole, valid)


def knee_model(E_flux_GeV, E_aniso_GeV, l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg, species=("H1",), *,
               composition: Composition | None = None, diffusion: Diffusion | None = None,
               halo_kpc: float | None = None) -> KneeResult:
    """One-shot :class:`KneeModel` (build + call); build the class once inside loops."""
    return KneeModel(E_flux_GeV, E_aniso_GeV, species, composition=composition, diffusion=diffusion,
                     halo_kpc=halo_kpc)(
        l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg)
