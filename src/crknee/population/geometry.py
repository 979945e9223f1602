"""Where the sources are: surface density, vertical profile, sampling and quadrature.

Sources are born with surface density Sigma(r) inside the Galactic radius R_gal (eq. 3:
(r/r_sun)^1.69 exp(-3.33 (r - r_sun)/r_sun), Case & Bhattacharya 1996, the background's
source profile :func:`crknee.propagation.solver.source_radial`; or uniform) and an
exponential vertical profile exp(-|z|/z_s) truncated at the halo |z| < H.  Positions are
heliocentric Galactic Cartesian (x towards the Galactic centre, crknee convention): the
Galactic centre is at (r_sun, 0, 0).  Everything here is per unit Galactic birth rate,
i.e. integrates the normalised density p(x) = Sigma(r) / int Sigma d^2x.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from crknee.propagation.solver import CB96_ALPHA, CB96_BETA, source_radial

_GL16 = np.polynomial.legendre.leggauss(16)
_GL32 = np.polynomial.legendre.leggauss(32)


def surface_density(r_kpc, radial: str, r_sun_kpc: float, R_gal_kpc: float) -> np.ndarray:
    """Sigma(r) [arbitrary normalisation, 1 at r_sun], zero outside R_gal."""
    r = np.asarray(r_kpc, dtype=float)
    inside = r < R_gal_kpc
    if radial == "uniform":
        return np.where(inside, 1.0, 0.0)
    return np.where(inside, source_radial(np.maximum(r, 1e-300), r_sun_kpc), 0.0)


def _gl(a, b, rule=_GL16):
    x, w = rule
    return a + 0.5 * (b - a) * (x + 1.0), 0.5 * (b - a) * w


@lru_cache(maxsize=64)
def galaxy_norm(radial: str, r_sun_kpc: float, R_gal_kpc: float) -> float:
    """int Sigma d^2x over the Galaxy [kpc^2] (composite Gauss-Legendre)."""
    edges = np.linspace(0.0, R_gal_kpc, 41)
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        r, w = _gl(a, b)
        total += np.sum(w * 2.0 * np.pi * r * surface_density(r, radial, r_sun_kpc, R_gal_kpc))
    return float(total)


def azimuthal_moments(rho_kpc, radial, r_sun_kpc, R_gal_kpc):
    """(S0, S1)(rho) = int dphi p(rho, phi) (1, cos phi) [kpc^-2]: the normalised density
    around the Sun at horizontal distance rho, phi measured from the direction of the
    Galactic centre (only the part inside R_gal, integrated exactly over its arc)."""
    rho = np.atleast_1d(np.asarray(rho_kpc, dtype=float))
    # inside R_gal:  cos phi > (r_sun^2 + rho^2 - R_gal^2) / (2 r_sun rho)
    c = (r_sun_kpc**2 + rho**2 - R_gal_kpc**2) / (2.0 * r_sun_kpc * np.maximum(rho, 1e-300))
    phi_max = np.arccos(np.clip(c, -1.0, 1.0))
    x, w = _GL32
    phi = 0.5 * phi_max[:, None] * (x + 1.0)
    wphi = 0.5 * phi_max[:, None] * w
    r = np.sqrt(np.maximum(r_sun_kpc**2 + rho[:, None] ** 2 - 2.0 * r_sun_kpc * rho[:, None] * np.cos(phi), 0.0))
    sig = surface_density(np.minimum(r, R_gal_kpc * (1 - 1e-15)), radial, r_sun_kpc, R_gal_kpc)
    norm = galaxy_norm(radial, r_sun_kpc, R_gal_kpc)
    return 2.0 * np.sum(wphi * sig, axis=1) / norm, 2.0 * np.sum(wphi * sig * np.cos(phi), axis=1) / norm


def radial_nodes(rho_lo, rho_hi, breaks=(0.02, 0.1, 0.3, 1.0, 2.0)):
    """Composite Gauss-Legendre nodes and weights on [rho_lo, rho_hi] [kpc] (panels refined
    towards rho = 0, where the Green's functions of nearby sources vary fastest)."""
    edges = [rho_lo] + [b for b in breaks if rho_lo < b < rho_hi]
    e = edges[-1]
    while e + 1.0 < rho_hi:
        e += 1.0
        edges.append(e)
    edges.append(rho_hi)
    parts = [_gl(a, b) for a, b in zip(edges[:-1], edges[1:])]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def vertical_nodes(z_s_kpc: float, H_kpc: float, n: int = 24):
    """(z, w): Gauss-Legendre in the cumulative variable of the truncated two-sided
    exponential exp(-|z|/z_s), |z| < H, mirrored; sum(w) = 1."""
    x, w = np.polynomial.legendre.leggauss(n)
    cmax = -np.expm1(-H_kpc / z_s_kpc)
    u = 0.5 * cmax * (x + 1.0)
    z = -z_s_kpc * np.log1p(-u)
    return np.concatenate([z, -z]), np.concatenate([w, w]) / 4.0


def sample_positions(rng, n, radial, z_s_kpc, r_sun_kpc, R_gal_kpc, H_kpc, rho_lo, rho_hi):
    """``n`` positions (x, y, z) [kpc] from p(x) restricted to the annulus rho_lo <= rho < rho_hi
    around the Sun (rejection from the uniform annulus) and the vertical profile."""
    r_peak = CB96_ALPHA * r_sun_kpc / CB96_BETA
    r_near = np.clip(r_peak, max(r_sun_kpc - rho_hi, 0.0), min(r_sun_kpc + rho_hi, R_gal_kpc))
    smax = float(surface_density(r_near, radial, r_sun_kpc, R_gal_kpc)) if radial == "eq3" else 1.0
    xs, ys = np.empty(0), np.empty(0)
    while xs.size < n:
        m = max(2 * (n - xs.size), 64)
        rho = np.sqrt(rng.uniform(rho_lo**2, rho_hi**2, m))
        phi = rng.uniform(0.0, 2.0 * np.pi, m)
        x, y = rho * np.cos(phi), rho * np.sin(phi)
        r = np.hypot(x - r_sun_kpc, y)
        keep = rng.uniform(0.0, smax, m) < surface_density(r, radial, r_sun_kpc, R_gal_kpc)
        xs, ys = np.concatenate([xs, x[keep]]), np.concatenate([ys, y[keep]])
    u = rng.uniform(0.0, -np.expm1(-H_kpc / z_s_kpc), n)
    z = -z_s_kpc * np.log1p(-u) * rng.choice((-1.0, 1.0), n)
    return xs[:n], ys[:n], z


def annulus_fraction(radial, r_sun_kpc, R_gal_kpc, rho_lo, rho_hi) -> float:
    """int over rho_lo <= rho < rho_hi of p(x) d^2x (fraction of all births)."""
    rho, w = radial_nodes(rho_lo, rho_hi)
    return float(np.sum(w * rho * azimuthal_moments(rho, radial, r_sun_kpc, R_gal_kpc)[0]))
