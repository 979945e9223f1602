"""Two-zone diffusion around a point source: slow inside a sphere, Galactic outside.

A source at the centre of a sphere of radius a injects particles that diffuse with
D1 = chi D inside (r < a) and D2 = D outside (free space), the two-zone picture of the
slow-diffusion halos around pulsars (Fang, Bi, Yin & Yuan 2018, ApJ 863, 30,
arXiv:1803.02640; Tang & Piran 2019, MNRAS 484, 3491, arXiv:1808.02445; Johannesson,
Porter & Moskalenko 2019, ApJ 879, 91, arXiv:1903.05509).  The transport equation
dn/dt = div(D grad n) + source makes n and the radial flux D dn/dr continuous at r = a.
This module solves it *exactly* for spherical symmetry, in the Laplace domain (variable
s [1/Myr]), for one particle released at t = 0 (burst); a
constant rate of one particle per Myr since t = 0 (continuous) is the transform / s.

With k_i = sqrt(s / D_i), the solution is

    r < a:  n1 = [exp(-k1 r) + 2 alpha sinh(k1 r)] / (4 pi D1 r),
    r > a:  n2 = beta exp(-k2 (r - a)) / (4 pi D1 r),

    beta = 2 D1 k1 e^{-k1 a} / { D1 k1 (1 + e^{-2 k1 a}) + (1 - e^{-2 k1 a}) [D2 k2 - (D1 - D2)/a] },
    2 alpha sinh(k1 a) = beta - exp(-k1 a)                      (continuity of n at a),

(the flux condition fixes beta; written with e^{-k1 a} so that nothing overflows).  For
chi = 1, beta = exp(-k a) and n is the free-space Green's function (eq. 6 of the paper);
for chi -> 0 nothing leaves the sphere.  Derived quantities:

* particles outside, N_out(s) = (beta / D1) (a / k2 + 1 / k2^2), and inside,
  N_in = 1/s - N_out (number conservation; the tests integrate n1 directly instead);
* the density on the sphere, n_a(s) = beta / (4 pi D1 a);
* the density at distance d > a: because r n2 obeys the 1D diffusion equation outside
  the sphere, n2(d, t) = (a/d) int_0^t n_a(t') h(d - a, t - t') dt' exactly, with the
  first-passage kernel h(x, tau) = x exp(-x^2 / (4 D2 tau)) / sqrt(4 pi D2 tau^3)
  (Carslaw & Jaeger 1959, ch. IX-X).  The convolution is done in the time domain (two
  Gauss-Legendre rules in log time), so an exponentially small flux at Earth keeps its
  relative accuracy: only n_a(t), a smooth function of order its maximum, is inverted
  numerically.

Time domain: the fixed-Talbot inversion (Abate & Valko 2004, Int. J. Numer. Meth. Eng.
60, 979) with M = 24 nodes: in double precision its discretisation error (~10^(-0.6 M))
is below round-off (~ e^(0.4 M) * 1e-16 ~ 1e-12 of the largest term).  Tested against the
exact chi = 1 results (erf, erfc, eq. 6) in tests/test_sources_two_zone.py.

Float kernels: radius ``a_kpc``, times in Myr, diffusion coefficients in kpc^2/Myr, all
broadcasting over leading axes (e.g. energies x suppressions).
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial.legendre import leggauss

from crknee.errors import InputError

#: Fixed-Talbot nodes (module docstring).
TALBOT_M = 24
#: Gauss-Legendre nodes of each half of the time convolution to Earth.
CONVOLUTION_NODES = 96
#: Terms smaller than exp(-EXP_CUT) of their peak are dropped from the convolution range.
EXP_CUT = 700.0
MODES = ("burst", "continuous")


def _talbot_nodes(M: int = TALBOT_M):
    k = np.arange(M)
    theta = k * np.pi / M
    with np.errstate(divide="ignore", invalid="ignore"):
        cot = np.where(k > 0, np.cos(theta) / np.sin(np.where(k > 0, theta, 1.0)), 0.0)
    # s_k / r and the weights of Abate & Valko (2004), eq. (37): k = 0 is the real point s = r.
    z = np.where(k > 0, theta * (cot + 1j), 1.0 + 0j)
    sigma = np.where(k > 0, theta + (theta * cot - 1.0) * cot, 0.0)
    w = np.where(k > 0, 1.0 + 1j * sigma, 0.5 + 0j)
    return z, w


_Z, _W = _talbot_nodes()


def invert(transform, t_Myr) -> np.ndarray:
    """f(t) from its Laplace transform by the fixed-Talbot rule (module docstring).

    ``transform(s)`` takes a complex array whose last axis holds the M contour nodes of each
    time and broadcasts over the leading axes; ``t_Myr`` (> 0) broadcasts with them."""
    t = np.asarray(t_Myr, dtype=float)
    if np.any(~np.isfinite(t) | (t <= 0)):
        raise InputError(f"t_Myr must be finite and > 0; got {t_Myr!r}")
    r = (2.0 * TALBOT_M / 5.0) / t[..., None]
    s = r * _Z
    F = transform(s)
    return np.real(np.sum(np.exp(s * t[..., None]) * F * _W, axis=-1)) * r[..., 0] / TALBOT_M


def _check(a_kpc, D_kpc2_Myr, chi):
    a, D, c = (np.asarray(v, dtype=float) for v in (a_kpc, D_kpc2_Myr, chi))
    for name, v in (("a_kpc", a), ("D_kpc2_Myr", D), ("chi", c)):
        if np.any(~np.isfinite(v) | (v <= 0)):
            raise InputError(f"two-zone {name} must be finite and > 0; got {v!r}")
    return a, D, c


def _beta(s, a, D1, D2):
    """beta(s) of the module docstring (complex, broadcasting; a, D1, D2 with a trailing axis)."""
    k1 = np.sqrt(s / D1)
    k2 = np.sqrt(s / D2)
    e1 = np.exp(-k1 * a)
    e2 = e1 * e1
    return 2.0 * D1 * k1 * e1 / (D1 * k1 * (1.0 + e2) + (1.0 - e2) * (D2 * k2 - (D1 - D2) / a)), k2


def inside_transform(s, a_kpc, D_kpc2_Myr, chi, mode="burst"):
    """Laplace transform of the number of particles inside r < a (per injected particle,
    or per particle/Myr for ``mode="continuous"``).  Parameters carry a trailing axis of
    length 1 against the node axis of ``s``."""
    D1 = chi * D_kpc2_Myr
    beta, k2 = _beta(s, a_kpc, D1, D_kpc2_Myr)
    n_in = 1.0 / s - beta / D1 * (a_kpc / k2 + 1.0 / (k2 * k2))
    return n_in / s if mode == "continuous" else n_in


def surface_transform(s, a_kpc, D_kpc2_Myr, chi, mode="burst"):
    """Laplace transform of the density on the sphere r = a [kpc^-3 Myr per particle]."""
    D1 = chi * D_kpc2_Myr
    beta, _ = _beta(s, a_kpc, D1, D_kpc2_Myr)
    n_a = beta / (4.0 * np.pi * D1 * a_kpc)
    return n_a / s if mode == "continuous" else n_a


def _mode(mode):
    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}; got {mode!r}")


def inside(a_kpc, t_Myr, D_kpc2_Myr, chi, mode="burst") -> np.ndarray:
    """Particles inside the slow zone at time t: fraction of a burst, or Myr (per
    particle/Myr) for continuous injection.  chi = 1: erf(x) - 2 x exp(-x^2)/sqrt(pi),
    x = a / sqrt(4 D t) (burst), the one-zone T_res (continuous); chi -> 0: 1 or t."""
    _mode(mode)
    a, D, c = _check(a_kpc, D_kpc2_Myr, chi)
    t = np.asarray(t_Myr, dtype=float)
    out = invert(
        lambda s: inside_transform(s, a[..., None], D[..., None], c[..., None], mode),
        np.broadcast_to(t, np.broadcast_shapes(a.shape, D.shape, c.shape, t.shape)),
    )
    top = 1.0 if mode == "burst" else t
    return np.clip(out, 0.0, top)


def surface_density(a_kpc, t_Myr, D_kpc2_Myr, chi, mode="burst") -> np.ndarray:
    """Density on the sphere r = a [kpc^-3 per particle, or per particle/Myr] at time t."""
    _mode(mode)
    a, D, c = _check(a_kpc, D_kpc2_Myr, chi)
    t = np.asarray(t_Myr, dtype=float)
    out = invert(
        lambda s: surface_transform(s, a[..., None], D[..., None], c[..., None], mode),
        np.broadcast_to(t, np.broadcast_shapes(a.shape, D.shape, c.shape, t.shape)),
    )
    return np.maximum(out, 0.0)


_GL_X, _GL_W = leggauss(CONVOLUTION_NODES)


def _log_rule(lo, hi):
    """Nodes and weights of int_lo^hi f(x) dx as Gauss-Legendre in ln x (lo, hi arrays)."""
    llo, lhi = np.log(lo)[..., None], np.log(hi)[..., None]
    u = 0.5 * (lhi - llo) * (_GL_X + 1.0) + llo
    x = np.exp(u)
    return x, 0.5 * (lhi - llo) * _GL_W * x


def density_at(d_kpc, a_kpc, t_Myr, D_kpc2_Myr, chi, mode="burst") -> np.ndarray:
    """Density at distance ``d_kpc`` > a from the source [kpc^-3 per particle, or per
    particle/Myr] at time t: (a/d) int_0^t n_a(t - tau) h(d - a, tau) d tau (module
    docstring).  The range of tau is split at t/2; each half is a Gauss-Legendre rule in
    log(tau) or log(t - tau), cut where the kernel or n_a is below exp(-EXP_CUT) of its peak."""
    _mode(mode)
    a, D, c = _check(a_kpc, D_kpc2_Myr, chi)
    d = np.asarray(d_kpc, dtype=float)
    if np.any(~np.isfinite(d) | (d <= a)):
        raise InputError(f"d_kpc must exceed the slow zone's radius a = {a_kpc!r} kpc; got {d_kpc!r}")
    t = np.asarray(t_Myr, dtype=float)
    if np.any(~np.isfinite(t) | (t <= 0)):
        raise InputError(f"t_Myr must be finite and > 0; got {t_Myr!r}")
    shape = np.broadcast_shapes(d.shape, a.shape, D.shape, c.shape, t.shape)
    d, a, D, c, t = (np.broadcast_to(v, shape) for v in (d, a, D, c, t))
    x = d - a
    half = 0.5 * t
    # first half: tau in (tau_min, t/2] -- the kernel h vanishes below tau_min
    tau_min = np.minimum(x * x / (4.0 * D * EXP_CUT), 0.5 * half)
    tau, w = _log_rule(tau_min, half)
    # second half: w' = t - tau in (w_min, t/2] -- n_a vanishes below w_min (slow zone crossing)
    w_min = np.minimum(a * a / (4.0 * c * D * EXP_CUT), 0.5 * half)
    tw, ww = _log_rule(w_min, half)
    taus = np.concatenate([tau, t[..., None] - tw], axis=-1)
    weights = np.concatenate([w, ww], axis=-1)
    ages = t[..., None] - taus
    n_a = surface_density(a[..., None], ages, D[..., None], c[..., None], mode)
    X, Dx = x[..., None], D[..., None]
    h = X * np.exp(-X * X / (4.0 * Dx * taus)) / np.sqrt(4.0 * np.pi * Dx * taus**3)
    return (a / d) * np.sum(weights * n_a * h, axis=-1)
