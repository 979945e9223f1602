"""Green's functions of the diffusion equation for a point source (paper eq. 6).

Float kernels in kpc, Myr and kpc^2/Myr that broadcast over any leading axes (e.g. MCMC
walkers x energies).  For a homogeneous, isotropic diffusion coefficient D the density of
particles released at t = 0 at the origin obeys d psi/dt = D lap psi, whose solution is
eq. (6) of Nie, Yue, Guo & Liu (the paper), with sigma = sqrt(2 D t):

    G_b(r, t) = exp(-r^2 / (2 sigma^2)) / (sqrt(2 pi) sigma)^3          [kpc^-3]

(the instantaneous point-source solution of Carslaw & Jaeger 1959, "Conduction of Heat
in Solids", 2nd ed., ch. X; Atoyan, Aharonian & Völk 1995, PRD 52, 3265, without losses).

A source injecting at a constant rate since age t gives the exact time integral

    G_c(r, t) = int_0^t G_b(r, t') dt' = erfc(r / sqrt(4 D t)) / (4 pi D r)
                                                     [kpc^-3 per (particle / Myr)]

(Carslaw & Jaeger, ch. X, continuous point source).  ``*_gradient`` return d G / d r [kpc^-4]:
the gradient with respect to the observer position is dG/dr * r_hat, r_hat pointing from
the source to the observer, so it points back to the source (dG/dr < 0).

Finite halo (option beyond the paper): free escape at |z| = H (psi = 0) is imposed by the
method of images (Carslaw & Jaeger 1959; the same boundary as the background solver's
halo, Strong, Moskalenko & Ptuskin 2007, ARNPS 57, 285): a source at height z_s has
images at z_n = 2 n H + (-1)^n z_s with sign (-1)^n, n in Z.  The image sum reduces to the free-space kernel when sigma << H - |z_s|.
"""
from __future__ import annotations

import numpy as np
from scipy.special import erfc

_TWO_PI_POW_1P5 = (2.0 * np.pi) ** 1.5
_INV_SQRT_PI = 1.0 / np.sqrt(np.pi)
#: Images kept until the first omitted one is this many sigma away: exp(-IMAGE_CUT^2/2)
#: = 2.6e-21 relative to the peak, below double-precision round-off of the sum.
IMAGE_CUT = 9.7


def burst_density(r_kpc, t_Myr, D_kpc2_Myr):
    """Eq. (6): density [kpc^-3] per injected particle at distance r after time t."""
    r = np.asarray(r_kpc, dtype=float)
    s2 = 2.0 * np.asarray(D_kpc2_Myr, dtype=float) * np.asarray(t_Myr, dtype=float)
    return np.exp(-0.5 * r * r / s2) / (_TWO_PI_POW_1P5 * s2 * np.sqrt(s2))


def burst_gradient(r_kpc, t_Myr, D_kpc2_Myr):
    """Radial derivative dG_b/dr [kpc^-4] of :func:`burst_density`: -r / sigma^2 * G_b."""
    r = np.asarray(r_kpc, dtype=float)
    s2 = 2.0 * np.asarray(D_kpc2_Myr, dtype=float) * np.asarray(t_Myr, dtype=float)
    return -r / s2 * burst_density(r, t_Myr, D_kpc2_Myr)


def continuous_density(r_kpc, t_Myr, D_kpc2_Myr):
    """Time integral of eq. (6): density [kpc^-3] per (particle/Myr), constant injection
    rate switched on a time t ago: erfc(r / sqrt(4 D t)) / (4 pi D r)."""
    r = np.asarray(r_kpc, dtype=float)
    D = np.asarray(D_kpc2_Myr, dtype=float)
    a = np.sqrt(4.0 * D * np.asarray(t_Myr, dtype=float))
    return erfc(r / a) / (4.0 * np.pi * D * r)


def continuous_gradient(r_kpc, t_Myr, D_kpc2_Myr):
    """Radial derivative dG_c/dr [kpc^-4 per (particle/Myr)] of :func:`continuous_density`."""
    r = np.asarray(r_kpc, dtype=float)
    D = np.asarray(D_kpc2_Myr, dtype=float)
    a = np.sqrt(4.0 * D * np.asarray(t_Myr, dtype=float))
    x = r / a
    return -(erfc(x) / r + 2.0 * _INV_SQRT_PI * np.exp(-x * x) / a) / (4.0 * np.pi * D * r)


#: (density, radial derivative) kernels by injection mode.
KERNELS = {
    "burst": (burst_density, burst_gradient),
    "continuous": (continuous_density, continuous_gradient),
}


def n_images(t_Myr, D_kpc2_Myr, halo_kpc, zs_kpc=0.0) -> int:
    """Number N of image pairs (n = -N..N) that makes the omitted images negligible:
    the nearest omitted image lies beyond ``IMAGE_CUT`` sigma of the observer."""
    sigma = np.sqrt(2.0 * np.max(np.asarray(D_kpc2_Myr, dtype=float) * np.asarray(t_Myr, dtype=float)))
    H = float(np.min(halo_kpc))
    return int(np.ceil((IMAGE_CUT * sigma + np.max(np.abs(zs_kpc))) / (2.0 * H))) + 1


def halo_density(rho_kpc, zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc, mode="burst", n_pairs=None):
    """Density [kpc^-3 per particle, or per particle/Myr] at the observer (z = 0) of a source
    at horizontal distance ``rho_kpc`` and height ``zs_kpc`` inside a halo |z| <= H with
    psi(|z| = H) = 0, by the image sum  sum_n (-1)^n G(r_n),  r_n^2 = rho^2 + z_n^2."""
    dens, _ = KERNELS[mode]
    rho, zs, H = (np.asarray(v, dtype=float) for v in (rho_kpc, zs_kpc, halo_kpc))
    N = n_images(t_Myr, D_kpc2_Myr, H, zs) if n_pairs is None else int(n_pairs)
    total = np.zeros(np.broadcast_shapes(rho.shape, zs.shape, H.shape,
                                         np.shape(t_Myr), np.shape(D_kpc2_Myr)))
    for n in range(-N, N + 1):
        sign = -1.0 if n % 2 else 1.0
        zn = 2.0 * n * H + sign * zs
        total = total + sign * dens(np.sqrt(rho * rho + zn * zn), t_Myr, D_kpc2_Myr)
    return total


def halo_gradient(rho_kpc, zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc, mode="burst", n_pairs=None):
    """Gradient of :func:`halo_density` at the observer [kpc^-4]: returns
    (d psi/d rho, d psi/d z), rho measured horizontally from the source's foot point
    towards the observer and z along the north Galactic pole."""
    _, grad = KERNELS[mode]
    rho, zs, H = (np.asarray(v, dtype=float) for v in (rho_kpc, zs_kpc, halo_kpc))
    N = n_images(t_Myr, D_kpc2_Myr, H, zs) if n_pairs is None else int(n_pairs)
    shape = np.broadcast_shapes(rho.shape, zs.shape, H.shape, np.shape(t_Myr), np.shape(D_kpc2_Myr))
    g_rho, g_z = np.zeros(shape), np.zeros(shape)
    for n in range(-N, N + 1):
        sign = -1.0 if n % 2 else 1.0
        zn = 2.0 * n * H + sign * zs
        rn = np.sqrt(rho * rho + zn * zn)
        dg = sign * grad(rn, t_Myr, D_kpc2_Myr) / rn
        g_rho = g_rho + dg * rho
        g_z = g_z + dg * (0.0 - zn)
    return g_rho, g_z
