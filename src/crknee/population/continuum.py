"""The exact ensemble mean of a population, and the discrete/smooth split with its error.

For a class born at Galactic rate nu with the normalised spatial density p(x) of
:mod:`crknee.population.geometry`, the ensemble-mean density at the Sun is (Campbell's
theorem for a Poisson process)

    <psi> = nu E[q0 shape(R)] int d^3x p(x) int_0^inf dt G(x, t)                  (burst)

with G the halo Green's function of :mod:`crknee.sources.greens`; a continuous source of
lifetime tau adds int_0^tau ds over its emission.  This module evaluates it in three parts:

* the *window*: sources within rho_w of the Sun (horizontally) born less than
  T = window_halo_times * H^2 / D(R) ago (summed one by one in a realisation); its mean is
  int p G_c(T) (the erfc image sum, greens.halo_density mode="continuous"), or
  int_0^tau ds G_c(T - s) for a continuous source;
* the *tail*: the same disc, older than T; the time integral of the slab-eigenmode form
  of G (exact for t >= T, Gauss-Laguerre in t), continuous: int_0^tau ds tail(T - s);
* the *outside*: rho > rho_w, all ages: the steady-state kernel of the slab
  (Carslaw & Jaeger 1959, ch. X; a point source between absorbing planes |z| = H)
  G_ss = (1 / (2 pi D H)) sum_m cos(k_m z) K0(k_m rho),  k_m = (m + 1/2) pi / H.

A realisation sums the window's sources and adds the tail and outside parts as their
means ("skipped" sources).  The skip criterion: the error this makes has zero mean and
variance  nu E[(q0 shape)^2] int_skipped p G^2 dt d^3x  (Campbell); its square root
relative to the mean flux, ``rel_rms``, must stay below ``spec.skip_rms_max`` at every
energy.  A continuous source is bounded by a burst of energy L tau (Jensen's inequality).
For a uniform infinite disc the three parts add up to the exact slab steady state
nu_area H / (2 D) (tests/test_population_continuum.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import k0, k1

from crknee.constants import C_KPC_MYR, GEV_PER_ERG, S_PER_MYR
from crknee.errors import ConfigError, InputError
from crknee.kinematics import nuclide
from crknee.population import geometry
from crknee.sources import greens
from crknee.sources.injection import R0_GV, energy_integral_fast
from crknee.sources.point import FLUX_PER_DENSITY, rigidity_and_speed

_LAG = np.polynomial.laguerre.laggauss(40)


@dataclass(frozen=True)
class Grid:
    """Per (species, energy) constants, shape (S, K): rigidity R [GV], D [kpc^2/Myr],
    ln pref = ln(FLUX_PER_DENSITY v/c dR/dE f_s), window age T [Myr] and radius rho [kpc];
    ``species`` names;
    ``protons`` mask of Z = 1 rows, ``helium`` of Z = 2 rows."""

    species: tuple
    R: np.ndarray
    D: np.ndarray
    lnpref: np.ndarray
    T: np.ndarray
    rho: np.ndarray
    protons: np.ndarray
    helium: np.ndarray


def make_grid(spec) -> Grid:
    rows = []
    for name, f in spec.composition.abundances:
        nuc = nuclide(name)
        R, v, dRdE = rigidity_and_speed(spec.E_GeV, nuc)
        D = spec.diffusion.kpc2_Myr(R, v)
        rows.append(
            (
                R,
                D,
                np.log(FLUX_PER_DENSITY * v * dRdE * f),
                spec.window_Myr(D),
                np.full(D.shape, spec.rho_min_kpc),
                nuc.Z,
            )
        )
    R, D, lnpref, T, rho, Z = zip(*rows)
    Z = np.array(Z)
    return Grid(
        tuple(spec.composition.species),
        np.array(R),
        np.array(D),
        np.array(lnpref),
        np.array(T),
        np.array(rho),
        Z == 1,
        Z == 2,
    )


def _amplitude(cls):
    """(E[A], E[A^2]) of the normalisation: burst energy [erg], or luminosity x S_PER_MYR
    [erg/Myr] (continuous); and (E[tau], E[tau^2]) [Myr] (1, 1 for a burst)."""
    if cls.mode == "burst":
        x, w = cls.energy_erg.nodes()
        return (np.sum(w * x), np.sum(w * x * x)), (1.0, 1.0)
    x, w = cls.luminosity_erg_s.nodes()
    x = x * S_PER_MYR
    tx, tw = cls.lifetime_Myr.nodes()
    return (np.sum(w * x), np.sum(w * x * x)), (np.sum(tw * tx), np.sum(tw * tx * tx))


def spectral_moments(cls, spec, grid: Grid):
    """(E[q0 shape(R)], E[(q0 shape(R))^2]) per (S, K), per unit amplitude moment
    (q0 per unit energy: GEV_PER_ERG / I(beta, Rcut), eq. 5 normalisation)."""
    bx, bw = cls.beta.nodes()
    rx, rw = cls.Rcut_GV.nodes()
    b, rc = np.meshgrid(bx, rx, indexing="ij")
    w = np.outer(bw, rw).ravel()
    b, rc = b.ravel(), rc.ravel()
    try:
        inv_I = GEV_PER_ERG / energy_integral_fast(b, rc, spec.composition)
    except InputError as exc:
        raise ConfigError(f"population.{cls.name}: beta or Rcut_GV outside the tabulated range: {exc}") from None
    lnR = np.log(grid.R / R0_GV)[..., None]
    shape = np.exp(-b * lnR - grid.R[..., None] / rc) * inv_I
    return np.sum(w * shape, axis=-1), np.sum(w * shape * shape, axis=-1)


def lifetime_nodes(dist, n: int = 4):
    """(s, w) with sum(w f(s)) = E_tau[int_0^tau f(s) ds] = int_0^inf P(tau > s) f(s) ds:
    Gauss-Legendre panels between the kinks of the survival function, weights rescaled
    to sum to E[tau] exactly (so that a constant f is integrated exactly)."""
    edges = [0.0] + [b for b in dist.breaks() if b > 0] + ([dist.upper()] if dist.kind == "lognormal" else [])
    edges = sorted(set(edges))
    x, w = np.polynomial.legendre.leggauss(n)
    s = np.concatenate([a + 0.5 * (b - a) * (x + 1.0) for a, b in zip(edges[:-1], edges[1:])])
    ws = np.concatenate([0.5 * (b - a) * w for a, b in zip(edges[:-1], edges[1:])])
    w = ws * dist.survival(s)
    return s, w * (dist.mean() / w.sum())  # exact total weight E[tau]


def _window_density(rho, z, D, T, tau_nodes, H):
    """int_0^T G dt (burst, tau_nodes None) or E_tau int_0^tau ds G_c(T - s), and their
    d/drho; arrays broadcast over rho, z (nodes), scalar D, T."""

    def gc(t):
        G = greens.halo_density(rho, z, t, D, H, mode="continuous")
        g, _ = greens.halo_gradient(rho, z, t, D, H, mode="continuous")
        return G, g

    if tau_nodes is None:
        return gc(T)
    G_tot, g_tot = 0.0, 0.0
    for si, wi in zip(*tau_nodes):
        if T - si > 0:
            G, g = gc(T - si)
            G_tot, g_tot = G_tot + wi * G, g_tot + wi * g
    return G_tot, g_tot


def _tail_density(rho, z, D, T, H):
    """int_T^inf G_b dt over the slab eigenmodes (observer at z = 0) and d/drho."""
    k0m = 0.5 * np.pi / H
    n_modes = int(np.ceil(np.sqrt(45.0 / (k0m * k0m * D * T)) / 2.0)) + 2
    k = (2 * np.arange(n_modes) + 1) * k0m
    s, ws = _LAG
    t = T + s / (D * k0m * k0m)  # Gauss-Laguerre in (t - T) D k0^2
    # G_b e^{s} = exp(-rho^2/4Dt)/(4 pi D t) (1/H) sum cos(k z) exp(-k^2 D t + s)
    modes = np.exp(-(k[:, None] ** 2 - k0m * k0m) * D * t[None, :] - k0m * k0m * D * T)  # (m, n_t)
    cz = np.cos(np.multiply.outer(z, k))  # (..., m)
    theta = (cz @ modes) / H  # (..., n_t)
    rho_ = np.asarray(rho)[..., None]
    horiz = np.exp(-(rho_**2) / (4.0 * D * t)) / (4.0 * np.pi * D * t)
    dt = 1.0 / (D * k0m * k0m)
    G = dt * np.sum(ws * horiz * theta, axis=-1)
    g = dt * np.sum(ws * horiz * theta * (-rho_ / (2.0 * D * t)), axis=-1)
    return G, g


def _steady_density(rho, z, D, H):
    """Slab steady state G_ss and dG_ss/drho (module docstring), rho > 0."""
    rho = np.asarray(rho, dtype=float)
    k0m = 0.5 * np.pi / H
    n_modes = int(np.ceil(60.0 / (k0m * np.min(rho)) / 2.0)) + 2
    k = (2 * np.arange(n_modes) + 1) * k0m
    cz = np.cos(np.multiply.outer(z, k))
    kr = np.multiply.outer(rho, k)
    G = np.sum(cz * k0(kr), axis=-1) / (2.0 * np.pi * D * H)
    g = -np.sum(cz * k * k1(kr), axis=-1) / (2.0 * np.pi * D * H)
    return G, g


@dataclass(frozen=True)
class ClassMeans:
    """Per class, (S, K): ``window``, ``tail``, ``outside`` mean densities per unit
    q0-amplitude moment (see module docstring) and their x-gradients ``*_gx``;
    ``S1``, ``S2`` spectral moments; ``A``, ``tau`` amplitude and lifetime moments."""

    window: np.ndarray
    tail: np.ndarray
    outside: np.ndarray
    window_gx: np.ndarray
    tail_gx: np.ndarray
    outside_gx: np.ndarray
    S1: np.ndarray
    S2: np.ndarray
    A: tuple
    tau: tuple


#: Grid in u = D t / H^2 of the squared-Green's-function integral (trapezoid in ln u).
_U = np.geomspace(1e-7, 30.0, 500)


def _theta_squared(z_s_kpc, H):
    """<theta(z, u)^2>_z on :data:`_U` times H^2 (dimensionless), theta the vertical factor
    of the burst kernel (crknee.population.kernel): (4 pi D t) * halo_density(rho = 0)."""
    zz, wz = geometry.vertical_nodes(z_s_kpc, H, 12)
    D = 1.0
    t = _U * H * H / D
    theta = greens.halo_density(0.0, zz[:, None], t[None, :], D, H) * (4.0 * np.pi * D * t)
    return np.sum(wz[:, None] * theta**2, axis=0) * H * H


def _square_table(spec, cls, th2, D, H, radii):
    """(rho nodes, t, F) with F[i, j] the contribution of radial node i and time node j to
    int <G_b^2> p d^3x dt [kpc^-6 Myr] (trapezoid in ln t on D t / H^2 = :data:`_U`);
    radial panels break at every candidate window radius so that any region
    {rho >= rho_w} u {t >= T} is a sum over whole nodes."""
    t = _U * H * H / D
    breaks = tuple(sorted(set((0.02, 0.1, 0.3, 1.0, 2.0, spec.R_gal_kpc - spec.r_sun_kpc) + tuple(radii))))
    rho, w = geometry.radial_nodes(0.0, spec.r_sun_kpc + spec.R_gal_kpc, breaks=breaks)
    S0 = geometry.azimuthal_moments(rho, cls.radial, spec.r_sun_kpc, spec.R_gal_kpc)[0]
    dlnt = np.diff(np.log(t)).mean() * np.r_[0.5, np.ones(t.size - 2), 0.5]
    F = (w * rho * S0)[:, None] * np.exp(-(rho[:, None] ** 2) / (2.0 * D * t[None, :])) / (4.0 * np.pi * D * t) ** 2
    return rho, t, F * (th2 / (H * H) * t * dlnt)[None, :]


def class_means(spec, cls, grid: Grid) -> ClassMeans:
    """Window/tail/outside means and the skipped variance integral for one class."""
    H = spec.H_kpc
    rho_end = spec.r_sun_kpc + spec.R_gal_kpc
    zz, wz = geometry.vertical_nodes(cls.z_s_kpc, H, 12)
    tau_nodes = None if cls.mode == "burst" else lifetime_nodes(cls.lifetime_Myr)
    if tau_nodes is not None and cls.lifetime_Myr.upper() > 0.5 * grid.T.min():
        raise ConfigError(
            f"population.{cls.name}.lifetime_Myr: lifetimes up to {cls.lifetime_Myr.upper():.3g} Myr exceed "
            f"half the shortest window {grid.T.min():.3g} Myr; raise population.window_halo_times"
        )
    A, tau = _amplitude(cls)
    shape = grid.D.shape
    out = {k: np.zeros(shape) for k in ("window", "tail", "outside", "window_gx", "tail_gx", "outside_gx")}
    Z = zz[None, :]
    nodes = {}
    for rho_w in np.unique(grid.rho):
        rd, wd = geometry.radial_nodes(0.0, rho_w)
        ro, wo = geometry.radial_nodes(rho_w, rho_end, breaks=(spec.R_gal_kpc - spec.r_sun_kpc,))
        nodes[rho_w] = (
            (rd, wd * rd) + geometry.azimuthal_moments(rd, cls.radial, spec.r_sun_kpc, spec.R_gal_kpc),
            (ro, wo * ro) + geometry.azimuthal_moments(ro, cls.radial, spec.r_sun_kpc, spec.R_gal_kpc),
        )
    for s in range(shape[0]):
        for k in range(shape[1]):
            D, T, rho_w = grid.D[s, k], grid.T[s, k], grid.rho[s, k]
            disc, outer = nodes[rho_w]
            # gradient x-component at the Sun: -dG/drho * <cos phi> (sources at +x pull +x)
            for name, (G, g), (_, w, S0, S1) in (
                ("window", _window_density(disc[0][:, None], Z, D, T, tau_nodes, H), disc),
                ("tail", _tail_and_tau(disc[0][:, None], Z, D, T, tau_nodes, H), disc),
                ("outside", _steady_density(outer[0][:, None], Z, D, H), outer),
            ):
                scale = tau[0] if (name == "outside" and tau_nodes is not None) else 1.0
                out[name][s, k] = scale * np.sum((w * S0) * (G @ wz))
                out[name + "_gx"][s, k] = -scale * np.sum((w * S1) * (g @ wz))
    S1, S2 = spectral_moments(cls, spec, grid)
    return ClassMeans(**out, S1=S1, S2=S2, A=A, tau=tau)


def skipped_variance(spec, grid: Grid, candidates) -> np.ndarray:
    """Variance [(m^-2 s^-1 sr^-1 GeV^-1)^2] of the skipped sources' flux, shape (C, S, K),
    for each candidate window ``(rho_w [kpc], T (S, K) [Myr])`` of ``candidates``:
    Campbell's theorem, nu E[(q0 shape)^2] int_skipped <G^2> p d^3x dt (module docstring)."""
    radii = sorted({float(r) for r, _ in candidates})
    pref2 = np.exp(2.0 * grid.lnpref)
    var = np.zeros((len(candidates),) + grid.D.shape)
    for cls in spec.classes:
        if cls.rate_per_Myr == 0:
            continue
        A, tau = _amplitude(cls)
        _, S2 = spectral_moments(cls, spec, grid)
        th2 = _theta_squared(cls.z_s_kpc, spec.H_kpc)
        amp = cls.rate_per_Myr * A[1] * tau[1] * S2 * pref2
        for s in range(grid.D.shape[0]):
            for k in range(grid.D.shape[1]):
                rho, t, F = _square_table(spec, cls, th2, grid.D[s, k], spec.H_kpc, radii)
                for c, (rho_w, T) in enumerate(candidates):
                    skip = (rho >= rho_w)[:, None] | (t >= T[s, k])[None, :]
                    var[c, s, k] += amp[s, k] * F[skip].sum()
    return var


def _tail_and_tau(rho, z, D, T, tau_nodes, H):
    """:func:`_tail_density`, or E_tau int_0^tau ds tail(T - s) for a continuous class."""
    if tau_nodes is None:
        return _tail_density(rho, z, D, T, H)
    G_tot, g_tot = 0.0, 0.0
    for si, wi in zip(*tau_nodes):
        G, g = _tail_density(rho, z, D, T - si, H)
        G_tot, g_tot = G_tot + wi * G, g_tot + wi * g
    return G_tot, g_tot


@dataclass(frozen=True)
class Continuum:
    """The smooth part of every realisation, per (species, energy) of the grid:
    ``skipped_flux`` [m^-2 s^-1 sr^-1 GeV^-1] and ``skipped_dipole_num`` (S, K, 3) (flux
    times own dipole) of the replaced sources; ``window_flux`` the mean of the window's
    sources; ``mean_flux`` = window + skipped (the ensemble mean); ``rel_rms`` the relative
    RMS of the replacement error (skip criterion)."""

    grid: Grid
    skipped_flux: np.ndarray
    skipped_dipole_num: np.ndarray
    window_flux: np.ndarray
    window_dipole_num: np.ndarray
    rel_rms: np.ndarray
    per_class: dict

    @property
    def mean_flux(self):
        return self.window_flux + self.skipped_flux

    @property
    def mean_dipole_num(self):
        return self.window_dipole_num + self.skipped_dipole_num


#: Candidate windows: radii rho_min x RADIUS_STEP^j (up to the far edge of the Galaxy) and
#: ages AGE_FACTORS x window_halo_times x H^2 / D; the cheapest (rho^2 x age) whose
#: skipped-source RMS meets skip_rms_max is used.
RADIUS_STEP = 2.0**0.5
AGE_FACTORS = (0.125, 0.25, 0.5, 1.0)


def _means(spec, grid):
    pref = np.exp(grid.lnpref)
    fac = 3.0 * grid.D / C_KPC_MYR
    skipped, window = np.zeros(grid.D.shape), np.zeros(grid.D.shape)
    skipped_num, window_num = np.zeros(grid.D.shape + (3,)), np.zeros(grid.D.shape + (3,))
    per_class = {}
    for cls in spec.classes:
        if cls.rate_per_Myr == 0:
            continue
        m = class_means(spec, cls, grid)
        per_class[cls.name] = m
        norm = cls.rate_per_Myr * m.A[0] * m.S1 * pref
        skipped += norm * (m.tail + m.outside)
        window += norm * m.window
        skipped_num[..., 0] += norm * fac * (m.tail_gx + m.outside_gx)
        window_num[..., 0] += norm * fac * m.window_gx
    return skipped, skipped_num, window, window_num, per_class


def continuum(spec, check: bool = True) -> Continuum:
    """Means of every class of ``spec`` and the discrete window of each (species, energy):
    the cheapest candidate (:data:`RADIUS_STEP`, :data:`AGE_FACTORS`) whose skipped-source
    RMS is below ``spec.skip_rms_max`` of the mean flux (continuous classes need windows
    longer than twice their longest lifetime).  With ``check``, ConfigError if no
    candidate meets it."""
    grid = make_grid(spec)
    skipped, _, window, _, _ = _means(spec, grid)
    total = skipped + window
    r_end = spec.r_sun_kpc + spec.R_gal_kpc
    radii = spec.rho_min_kpc * RADIUS_STEP ** np.arange(int(np.log(r_end / spec.rho_min_kpc) / np.log(RADIUS_STEP)) + 1)
    tau_max = max(
        [c.lifetime_Myr.upper() for c in spec.classes if c.mode == "continuous" and c.rate_per_Myr > 0], default=0.0
    )
    candidates = sorted(((r, f) for r in radii for f in AGE_FACTORS), key=lambda c: (c[0] ** 2 * c[1], -c[1]))
    trials = [(r, f * grid.T) for r, f in candidates]
    rel = np.sqrt(skipped_variance(spec, grid, trials)) / total  # (C, S, K)
    usable = np.stack([T >= 2.0 * tau_max for _, T in trials])
    ok = (rel <= spec.skip_rms_max) & usable
    first = np.where(ok.any(0), ok.argmax(0), len(trials) - 1)
    if check and not ok.any(0).all():
        s, k = np.argwhere(~ok.any(0))[0]
        raise ConfigError(
            f"population.skip_rms_max: the smooth replacement of distant/old sources has a relative "
            f"RMS {rel[-1, s, k]:.3g} > {spec.skip_rms_max:g} for {grid.species[s]} at "
            f"{spec.E_GeV[k]:.3g} GeV even with the largest window; raise population.window_halo_times "
            f"or skip_rms_max"
        )
    rho = np.array([trials[c][0] for c in first.ravel()]).reshape(first.shape)
    T = np.take_along_axis(np.stack([T for _, T in trials]), first[None], 0)[0]
    rel = np.take_along_axis(rel, first[None], 0)[0]
    grid = replace(grid, rho=rho, T=T)
    skipped, skipped_num, window, window_num, per_class = _means(spec, grid)
    return Continuum(grid, skipped, skipped_num, window, window_num, rel, per_class)
