"""Vertical (z) structure of one Bessel mode in the thin-disk / thick-halo model.

Maurin, Donato, Taillet & Salati 2001 (ApJ 555, 585; "M01"), Sec. 3 and App. A: the
steady state of eq. (1) expanded as psi(r, z) = sum_i psi_i(z) J0(zeta_i r / R_gal)
obeys, in the halo 0 < |z| < L (L = H, the halo half height),

    -K psi_i'' + V sign(z) psi_i' + (K k_i^2 + Gamma_rad) psi_i = s_i(z),   k_i = zeta_i / R_gal,

with psi_i(+-L) = 0 (free escape).  The homogeneous solution vanishing at z = L is
psi_i(0) g(z) with

    g(z) = exp(a z) sinh(b (L - z)) / sinh(b L),   a = V / (2K),
    b = S_i / 2 = sqrt(a^2 + k_i^2 + Gamma_rad / K)                     (M01 App. A)

and the jump across the disk (M01 App. A) gives the mode "escape + convection" rate

    A_i = V + K S_i coth(S_i L / 2) = V + 2 K b coth(b L)   [kpc / Myr].

A source s(z) spread in the halo reaches the disk as the equivalent disk source

    2h q_eff = int_{-L}^{L} s(z) g_adj(z) dz,   g_adj = g with a -> -a,

because the Green's function obeys G(0, z') = G(0, 0) g_adj(z') (the adjoint of the
convective operator has V -> -V).  This is exact for the operator above; it is used for
the source profile exp(-|z|/z_s) of eq. (3) and for radioactive parents decaying in the
halo (M01 Sec. 3; Donato, Maurin & Taillet 2002, A&A 381, 539).

Every function takes plain floats: a, b [1/kpc], L, h [kpc]; arrays broadcast.  Written
as sums of exp(c0 + c z) terms with c0 + c z <= 0 on [0, L] so that nothing overflows
for large b L.
"""

from __future__ import annotations

import numpy as np


def _unit_integral(c0, c, L):
    """int_0^L exp(c0 + c z) dz, stable for any sign of c: exp(c0 + max(c,0) L) L f(|c| L),
    f(x) = (1 - exp(-x)) / x."""
    x = np.abs(c) * L
    safe = np.where(x > 1e-12, x, 1.0)
    f = np.where(x > 1e-12, -np.expm1(-safe) / safe, 1.0 - 0.5 * x)
    return np.exp(c0 + np.maximum(c, 0.0) * L) * L * f


def profile_terms(a, b, L):
    """g(z) = sum_k w_k exp(c0_k + c_k z): list of (w, c0, c) and the common 1/(1-e^{-2bL})."""
    norm = 1.0 / (-np.expm1(-2.0 * b * L))
    return [(1.0, 0.0, a - b), (-1.0, -2.0 * b * L, a + b)], norm


def profile(z, a, b, L):
    """g(z) of the module docstring at 0 <= z <= L (g(0) = 1, g(L) = 0)."""
    return np.exp(a * z) * (np.exp(-b * z) - np.exp(-b * (2.0 * L - z))) / (-np.expm1(-2.0 * b * L))


def rate(K, V, b, L):
    """A_i = V + 2 K b coth(b L) [kpc/Myr] (M01 App. A, without the disk terms)."""
    e2 = np.exp(-2.0 * b * L)
    return V + 2.0 * K * b * (1.0 + e2) / (-np.expm1(-2.0 * b * L))


def slope(a, b, L):
    """d ln psi_i / dz at z = 0+ of the homogeneous halo profile [1/kpc]: a - b coth(b L)."""
    e2 = np.exp(-2.0 * b * L)
    return a - b * (1.0 + e2) / (-np.expm1(-2.0 * b * L))


def integral(a, b, L, c_extra=0.0):
    """int_0^L g(z) exp(c_extra z) dz [kpc] for the profile (a, b)."""
    terms, norm = profile_terms(a, b, L)
    return norm * sum(w * _unit_integral(c0, c + c_extra, L) for w, c0, c in terms)


def overlap(a1, b1, a2, b2, L):
    """int_0^L g1(z) g2(z) dz [kpc] for two profiles (a1, b1) and (a2, b2)."""
    t1, n1 = profile_terms(a1, b1, L)
    t2, n2 = profile_terms(a2, b2, L)
    total = sum(w1 * w2 * _unit_integral(c01 + c02, c1 + c2, L) for w1, c01, c1 in t1 for w2, c02, c2 in t2)
    return n1 * n2 * total


def overlap_adjoint(b, L):
    """int_0^L g(z) g_adj(z) dz [kpc] of a profile and its adjoint (a -> -a): the
    reacceleration weight's integral, :func:`overlap` ``(a, b, -a, b, L)`` in closed form,
    which does not depend on a:  [(1 - e^{-4bL}) / (2b) - 2 L e^{-2bL}] / (1 - e^{-2bL})^2.
    For x = bL < 1e-3, where the bracket cancels to O(x^2) (rounding ~1e-16 / x^2), it is
    its series L (4/3) x^2 (1 - 2x + 11 x^2 / 5), good to O(x^3) < 1e-9 relative there."""
    b = np.asarray(b, dtype=float)
    x = b * L
    e2 = np.exp(-2.0 * x)
    xs = np.where(x > 1e-3, x, 1.0)
    bracket = np.where(
        x > 1e-3,
        L * (-np.expm1(-4.0 * xs) / (2.0 * xs) - 2.0 * e2),
        L * (4.0 / 3.0) * x**2 * (1.0 - 2.0 * x + 2.2 * x**2),
    )
    return bracket / np.expm1(-2.0 * x) ** 2
