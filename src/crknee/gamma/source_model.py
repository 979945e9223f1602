"""Protons inside the region LHAASO sees and their hadronic gamma rays (paper Sec. 3).

A source injects protons continuously at the rate q(R) of eq. (5) (luminosity L0 above
1 GeV, :mod:`crknee.sources.injection`) for its age t; they diffuse with eq. (2), the
shared :class:`crknee.transport.Diffusion` (times ``diffusion_suppression``).  The number
of protons per unit energy within the sphere of radius a = d tan(theta_ext) around it is

    N(E) = q(R) dR/dE * T_res(E),   T_res = int_0^a 4 pi r^2 G_c(r, t, D(R)) dr   [Myr]

with G_c the continuous-injection Green's function of :mod:`crknee.sources.greens`
(erfc(r / sqrt(4 D t)) / (4 pi D r)).  T_res is the mean time a proton spends inside the
region: t when sqrt(4 D t) << a (nothing escaped), a^2 / (2 D) when sqrt(4 D t) >> a
(steady state, the spectrum steepened by delta).  The integral is Gauss-Legendre in r on
[0, min(a, 6 sqrt(4 D t))] (erfc(6) = 2e-17); tests compare it with scipy quad.

For a burst (``injection="burst"``: the energy L0 t released an age t ago) T_res = t P_in
with P_in = erf(x) - 2 x exp(-x^2) / sqrt(pi), x = a / sqrt(4 D t), the fraction still
inside.  ``containment="two_zone"``: diffusion chi D only inside the sphere of radius a,
D (eq. 2) outside; T_res (burst or continuous) is the exact two-zone count of
:func:`crknee.sources.two_zone.inside` (= the one-zone T_res for chi = 1, -> t for
chi -> 0).  The gamma rays are those of N(E) in gas of density n_H (:mod:`crknee.gamma.emission`),
seen from the source's distance.  ``containment="all"`` replaces T_res by t (no escape:
every injected proton is in the region), the opposite limit, for comparison.  Energy
losses of the protons (pp, ~ 1/(n_H sigma c) = 50 Myr / n_H[cm^-3]) are neglected, as in
the paper.
"""

from __future__ import annotations

from dataclasses import replace

import astropy.units as u
import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import erf

from crknee.constants import GEV_PER_ERG, S_PER_MYR
from crknee.errors import InputError
from crknee.gamma import emission
from crknee.gamma.params import SourceParams
from crknee.kinematics import nuclide
from crknee.sources import two_zone
from crknee.sources.greens import continuous_density
from crknee.sources.injection import PROTONS, energy_integral_fast, spectrum_shape
from crknee.sources.point import rigidity_and_speed
from crknee.transport import Diffusion
from crknee.units import value_in

_GL_X, _GL_W = leggauss(48)
#: Integration stops at this many diffusion lengths sqrt(4 D t) (erfc(6) = 2e-17).
N_DIFFUSION_LENGTHS = 6.0
PROTON = nuclide("H1")


def residence_time_Myr(D_kpc2_Myr, radius_kpc: float, age_Myr: float) -> np.ndarray:
    """T_res [Myr] = protons inside radius ``radius_kpc`` per (proton/Myr) injected, after
    continuous injection for ``age_Myr`` with diffusion coefficient ``D_kpc2_Myr`` (array)."""
    D = np.asarray(D_kpc2_Myr, dtype=float)
    top = np.minimum(radius_kpc, N_DIFFUSION_LENGTHS * np.sqrt(4.0 * D * age_Myr))[..., None]
    r = 0.5 * top * (_GL_X + 1.0)
    f = 4.0 * np.pi * r * r * continuous_density(r, age_Myr, D[..., None])
    return 0.5 * top[..., 0] * np.sum(_GL_W * f, axis=-1)


def burst_inside_fraction(D_kpc2_Myr, radius_kpc: float, age_Myr: float) -> np.ndarray:
    """Fraction of a burst's protons inside ``radius_kpc`` after ``age_Myr`` (one zone):
    erf(x) - 2 x exp(-x^2) / sqrt(pi), x = a / sqrt(4 D t)."""
    x = radius_kpc / np.sqrt(4.0 * np.asarray(D_kpc2_Myr, dtype=float) * age_Myr)
    return erf(x) - 2.0 * x * np.exp(-x * x) / np.sqrt(np.pi)


def region_time_Myr(params: SourceParams, D_kpc2_Myr) -> np.ndarray:
    """T_res [Myr]: protons in the region per (proton/Myr) injected, for ``params``'
    containment and injection, with the *unsuppressed* D (eq. 2) on the proton grid."""
    p = params
    D = np.asarray(D_kpc2_Myr, dtype=float)
    if p.containment == "all":
        return np.full(D.shape, p.age_Myr)
    if p.containment == "two_zone":
        n = two_zone.inside(p.radius_kpc, p.age_Myr, D, p.diffusion_suppression, p.injection)
        return n * p.age_Myr if p.injection == "burst" else n
    Ds = D * p.diffusion_suppression
    if p.injection == "burst":
        return p.age_Myr * burst_inside_fraction(Ds, p.radius_kpc, p.age_Myr)
    return residence_time_Myr(Ds, p.radius_kpc, p.age_Myr)


def scaled_diffusion(base: Diffusion, suppression: float) -> Diffusion:
    """``base`` with D0 multiplied by ``suppression`` (local slow diffusion, e.g. Cyg X-1)."""
    return replace(base, D0=base.D0 * suppression)


class HadronicSource:
    """Protons of a source inside its emitting region and their pp gamma rays.

    ``params``: :class:`SourceParams`; ``diffusion``: eq. (2) (default Table 1);
    the proton grid runs from the pi0 threshold to ``ep_max_GeV`` (default 1e8 GeV).
    """

    def __init__(
        self, params: SourceParams, diffusion: Diffusion | None = None, ep_max_GeV: float = 1e8, per_decade: int = 40
    ):
        self._kernels = {}  # pp kernels by photon energies: independent of T_res
        self.params = params
        self.galactic_diffusion = diffusion or Diffusion()
        self.diffusion = scaled_diffusion(self.galactic_diffusion, params.diffusion_suppression)
        self.Ep_GeV = emission.proton_grid(ep_max_GeV, per_decade)
        R, v, dRdE = rigidity_and_speed(self.Ep_GeV, PROTON)
        self.R_GV = R
        self.dR_dE = dRdE
        self._beta_p = v
        self.T_res_Myr = region_time_Myr(params, self.galactic_diffusion.kpc2_Myr(R, v))

    def protons_per_GeV(self, L0_erg_s, beta, Rcut_GV) -> np.ndarray:
        """N(E) [GeV^-1] on ``Ep_GeV`` (float kernel; parameters broadcast over leading axes,
        e.g. MCMC walkers, giving shape (..., n_grid))."""
        L0 = np.asarray(L0_erg_s, dtype=float)[..., None]
        b = np.asarray(beta, dtype=float)[..., None]
        rc = np.asarray(Rcut_GV, dtype=float)[..., None]
        q0 = L0 * (S_PER_MYR * GEV_PER_ERG) / energy_integral_fast(b, rc, PROTONS)  # 1/(GV Myr)
        return q0 * spectrum_shape(self.R_GV, b, rc) * self.dR_dE * self.T_res_Myr

    def sed_kernel(self, Eg_GeV) -> np.ndarray:
        """Matrix M [erg cm^-2 s^-1 per GeV^-1 of protons] with SED = N @ M.T at ``Eg_GeV``
        (includes n_H, the distance and E_gamma^2)."""
        Eg = np.asarray(Eg_GeV, dtype=float)
        key = Eg.tobytes()
        if key not in self._kernels:
            self._kernels[key] = emission.kernel(Eg, self.Ep_GeV, self.params.pp_model)
        return self._kernels[key] * emission.sed_factor(Eg, self.params.n_H_cm3, self.params.d_kpc)[:, None]

    def variant(self, params: SourceParams) -> HadronicSource:
        """This source with other transport parameters (age, containment, chi, injection,
        region size, n_H, distance): the pp kernels are reused (they depend only on the
        cross-section model and the grids), T_res is recomputed."""
        if params.pp_model != self.params.pp_model:
            raise InputError(
                f"variant: the cross-section model must stay {self.params.pp_model!r}; got {params.pp_model!r}"
            )
        new = object.__new__(HadronicSource)
        new.__dict__.update(self.__dict__)
        new.params = params
        new.diffusion = scaled_diffusion(self.galactic_diffusion, params.diffusion_suppression)
        new.T_res_Myr = region_time_Myr(params, self.galactic_diffusion.kpc2_Myr(self.R_GV, self._beta_p))
        return new

    def protons(self, E: u.Quantity) -> u.Quantity:
        """dN/dE [1/GeV] of the protons inside the region at total energies ``E``."""
        E_GeV = np.atleast_1d(value_in("E", E, "GeV"))
        if np.any(E_GeV < self.Ep_GeV[0]) or np.any(E_GeV > self.Ep_GeV[-1]):
            raise InputError(
                f"E must lie within the proton grid {self.Ep_GeV[0]:.4g}-{self.Ep_GeV[-1]:.4g} GeV; got {E!r}"
            )
        p = self.params
        N = self.protons_per_GeV(p.L0_erg_s, p.beta, p.Rcut_GV)
        return np.exp(np.interp(np.log(E_GeV), np.log(self.Ep_GeV), np.log(np.maximum(N, 1e-300)))) / u.GeV

    def sed(self, E_gamma: u.Quantity) -> u.Quantity:
        """E^2 dN/dE [erg cm^-2 s^-1] at Earth for the parameters of ``params``."""
        Eg = emission._energy_gev("E_gamma", E_gamma)
        p = self.params
        return (self.protons_per_GeV(p.L0_erg_s, p.beta, p.Rcut_GV) @ self.sed_kernel(Eg).T) * u.erg / u.cm**2 / u.s
