"""Compiled kernel: flux and dipole numerators of many sources at many energies.

The Green's functions are those of :mod:`crknee.sources.greens` (paper eq. 6 with free
escape at |z| = H by the method of images), evaluated at the observer (the Sun, z = 0)
for sources at horizontal offset (x, y) and height z:

* burst, age t: the image sum factorises into the horizontal 2D kernel and a 1D one,

      G_b = exp(-rho^2 / 4Dt) / (4 pi D t) * theta(z, t),
      theta = sum_n (-1)^n exp(-z_n^2 / 4Dt) / sqrt(4 pi D t),  z_n = 2nH + (-1)^n z,

  summed over the images while D t < H^2 / 4 (the images kept as in
  :func:`crknee.sources.greens.n_images`), and, for D t >= H^2 / 4, through its Poisson dual,
  the eigenfunction series of the slab |z| < H (Carslaw & Jaeger 1959, ch. III):

      theta = (1/H) sum_m cos(k_m z) exp(-k_m^2 D t),  k_m = (m + 1/2) pi / H,
      d theta / dz_obs = (1/H) sum_m q_m sin(q_m z) exp(-q_m^2 D t),  q_m = m pi / H,

  whose omitted terms are below exp(-45) of the first: both forms equal the image sum of
  greens.halo_density to round-off (tests/test_population_kernel.py);
* continuous injection at a constant rate from birth (age a) for a lifetime tau: the
  difference G_c(a) - G_c(a - tau) of the erfc image sums of greens (mode="continuous";
  G_c(a) alone while the source is active).

The per-source kernels (theta by images or modes, the continuous erfc image sum) live in
:mod:`crknee.sources.slab_kernel`, with the knee source's batch kernel: one module owns
the compiled halo Green's function.

Per (source, energy, species) the flux is J = exp(ln q0 + ln pref - beta ln R - R/Rcut) G
(pref = FLUX_PER_DENSITY v dR/dE f_s, crknee.sources.point) and its dipole numerator is
J * 3 D grad G / (c G) (crknee.anisotropy, Fick's law).  Floats: kpc, Myr, kpc^2/Myr, GV.
"""

from __future__ import annotations

import math

import numba

from crknee.constants import C_KPC_MYR
from crknee.sources.slab_kernel import MODE_SWITCH
from crknee.sources.slab_kernel import continuous_point as _continuous
from crknee.sources.slab_kernel import mode_factors_point as mode_factors
from crknee.sources.slab_kernel import theta_images as _theta_images
from crknee.sources.slab_kernel import theta_modes as _theta_modes

__all__ = ["accumulate", "mode_factors"]


@numba.njit(cache=True, fastmath=False)
def accumulate(
    age,
    x,
    y,
    z,
    tau,
    lnq,
    beta,
    inv_rcut,
    is_cont,
    cosm,
    sinm,
    counts,
    rho2w,
    D,
    lnR,
    R,
    lnpref,
    H,
    proton_rows,
    J,
    dip,
    jmax_p,
    imax_p,
    jmax_all,
    imax_all,
    buf,
):
    """Sum the sources of one realisation.

    Sources (arrays (N,), sorted by age): ``age`` [Myr] (burst age or birth age), offset
    ``x, y, z`` [kpc] from the Sun (Galactic Cartesian), ``tau`` lifetime [Myr]
    (continuous), ``lnq`` ln q0 [1/GV or 1/(GV Myr)], ``beta``, ``inv_rcut`` [1/GV],
    ``is_cont``; ``cosm``, ``sinm`` (N, N_MODES) mode factors of z.  Grid (species S x
    energies K): ``counts`` sources used (age below the window), ``D`` [kpc^2/Myr],
    ``lnR``, ``R`` [GV], ``lnpref``; ``proton_rows``: 0/1 per species (brightest-proton
    bookkeeping).  Outputs (added to): ``J`` (S, K) flux, ``dip`` (S, K, 3) sum of J times
    its own dipole; ``jmax_p``/``imax_p`` (K,) brightest source in protons, ``jmax_all``/
    ``imax_all`` (K,) in all species; ``buf`` (N,) workspace.
    """
    S, K = counts.shape
    for k in range(K):
        nmax = 0
        for s in range(S):
            nmax = max(nmax, counts[s, k])
        for i in range(nmax):
            buf[i] = 0.0
        for s in range(S):
            Dk = D[s, k]
            fac = 3.0 * Dk / C_KPC_MYR
            r2 = rho2w[s, k]
            for i in range(counts[s, k]):
                if x[i] * x[i] + y[i] * y[i] >= r2:
                    continue
                ln_spec = lnq[i] + lnpref[s, k] - beta[i] * lnR[s, k] - R[s, k] * inv_rcut[i]
                if is_cont[i]:
                    spec = math.exp(ln_spec)
                    G, gx, gy, gz = _continuous(x[i], y[i], z[i], age[i], Dk, H)
                    if age[i] > tau[i]:
                        G2, gx2, gy2, gz2 = _continuous(x[i], y[i], z[i], age[i] - tau[i], Dk, H)
                        G -= G2
                        gx -= gx2
                        gy -= gy2
                        gz -= gz2
                    Ji = spec * G
                    if G > 0.0:
                        dx, dy, dz = fac * gx * spec, fac * gy * spec, fac * gz * spec
                    else:
                        Ji, dx, dy, dz = 0.0, 0.0, 0.0, 0.0
                else:
                    Dt = Dk * age[i]
                    h_arg = (x[i] * x[i] + y[i] * y[i]) / (4.0 * Dt)
                    if h_arg > 700.0:  # exp(-700) = 1e-304: nothing arrives yet
                        continue
                    if Dt < MODE_SWITCH * H * H:
                        th, dth = _theta_images(z[i], Dt, H)
                    else:
                        th, dth = _theta_modes(cosm[i], sinm[i], Dt, H)
                    # spectrum x horizontal 2D kernel in one exponential
                    e = math.exp(ln_spec - h_arg) / (4.0 * math.pi * Dt)
                    Ji = e * th
                    w = Ji * fac / (2.0 * Dt)
                    dx = w * x[i]
                    dy = w * y[i]
                    dz = e * fac * dth
                J[s, k] += Ji
                dip[s, k, 0] += dx
                dip[s, k, 1] += dy
                dip[s, k, 2] += dz
                buf[i] += Ji
                if proton_rows[s] and Ji > jmax_p[k]:
                    jmax_p[k] = Ji
                    imax_p[k] = i
        for i in range(nmax):
            if buf[i] > jmax_all[k]:
                jmax_all[k] = buf[i]
                imax_all[k] = i
