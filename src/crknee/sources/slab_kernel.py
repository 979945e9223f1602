"""Compiled (numba) halo Green's function: the knee source's batch kernel (flux and dipole
numerators of many parameter sets on a species x energy grid, :func:`accumulate_rows`,
:func:`continuous_free`) and the per-source kernels of the population sum
(:func:`theta_images`, :func:`theta_modes`, :func:`continuous_point`).

The slab kernel is that of :mod:`crknee.sources.greens` (free escape at |z| = H, observer
at z = 0; tau = D t / H^2, zeta = z_s / H): a burst is G = G_2(rho, t) G_z(z_s, t) with
the 2D kernel G_2 = exp(-rho^2 / 4Dt) / (4 pi D t) and G_z summed either over images or
over slab eigenmodes (Carslaw & Jaeger 1959, ch. II 2.4-2.5 and XIV 14.2).  In the batch
kernel each species' energies are taken in increasing D, so that tau increases along
the energy axis and splits it into four contiguous ranges, each one branch-free loop the
compiler vectorises, with the term counts that :func:`crknee.sources.greens.image_pairs_needed`
and :func:`~crknee.sources.greens.modes_needed` give for tol = 1e-12 at the range's
lower end (more terms elsewhere only add exact terms):

* tau < TAU_SWITCH, images: the pair n = +-m contributes, relative to the n = 0 term
  exp(-z_s^2 / 4Dt) / sqrt(4 pi D t), (-1)^m (p_m^+ + p_m^-), p_m^+- = exp(-m (m -+ |zeta|) / tau),
  and to sum_n (-1)^n z_n e_n / (H e_0) (d G_z / dz = e_0 H / (2 D t) x that)
  2 m s (p_m^- - p_m^+) + zeta (p_m^+ + p_m^-), s = sign(zeta); p_(m+1)^+- = p_m^+- g+- (g+ g-)^m
  with g+- = exp(-(1 -+ |zeta|) / tau): three exponentials for IMAGE_PAIRS = 3 pairs.
* tau >= TAU_SWITCH, modes: relative to the leading mode exp(-kappa) / H, kappa =
  pi^2 tau / 4, w = e^-kappa: G_z: sum_m cos((2m+1) pi zeta / 2) w^(4m(m+1)), and
  dG_z/dz: (1/H) sum_k k pi sin(k pi zeta) w^(4k^2 - 1), by multiplication: two
  exponentials for N_MODES cos and sin modes (kappa < KAPPA_FEW), for two of each
  (KAPPA_FEW <= kappa < KAPPA_ONE), and one, the first cos mode, beyond KAPPA_ONE.

Exponentials are :func:`_exp_split` (a polynomial the compiler vectorises; math.exp is a
scalar libm call in numba), clamped at e^LN_CLAMP like the free-space model.  A
continuous source in the halo is a sum of bursts at quadrature nodes in emission age
(rows of :func:`accumulate_rows`, crknee.sources.model); in free space it has the closed
form of :func:`crknee.sources.greens.continuous_density` (:func:`continuous_free`).
Floats: kpc, Myr, kpc^2/Myr, GV.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from crknee.constants import C_KPC_MYR
from crknee.sources.greens import IMAGE_CUT

#: tau = D t / H^2 below which the slab kernel is summed over images, above over modes:
#: at tol = greens.TOLERANCE = 1e-12 images need <= 2 pairs below it (c > MIN_LOWER_BOUND;
#: 4 by the IMAGE_CUT rule within a few sigma of the boundary, where the 4th pair is
#: < e^-100 of the leading image) and modes <= 5 cos and 5 sin modes above it.
TAU_SWITCH = 0.12
#: Image pairs summed below TAU_SWITCH (the omitted ones < e^-(4 (4 - zeta) / tau) <= e^-100).
IMAGE_PAIRS = 3
#: cos modes (m = 0..4) and sin modes (k = 1..5) summed above TAU_SWITCH.
N_MODES = 5
#: kappa = pi^2 tau / 4 above which 2 cos and 2 sin modes reach tol = 1e-12
#: (greens.modes_needed: M <= 1, K <= 2 from tau = 0.52, kappa = 1.28), and above
#: KAPPA_ONE the first cos mode alone (6 e^-(8 kappa) < 1e-40 and the first sin mode
#: 4 pi e^-(3 kappa) < 3e-15 < tol / (2 tau); one exponential per point).
KAPPA_FEW = 1.3
KAPPA_ONE = 12.0
#: Exponents below this are not evaluated (e^-700 = 1e-304): see crknee.sources.model.LN_CLAMP.
LN_CLAMP = -700.0
_HALF_PI2 = 0.25 * math.pi * math.pi
_LN_4PI = math.log(4.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693147180369123816490
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 x 2^52: (x + _ROUND) - _ROUND rounds x to an integer
#: 2^j for j = -1022..1023 (normal numbers), indexed by j + 1022.
_POW2 = 2.0 ** np.arange(-1022, 1024).astype(float)
#: Floor of the powers of g+-, w in the fixed-length sums: a term below it (relative to
#: the leading one) is replaced by it, an error < 1e-150; it keeps every product of two
#: factors a normal number (subnormal arithmetic costs ~100 cycles per operation).
_FLOOR = 1e-150


@numba.njit(inline="always")
def _exp_split(x):
    """exp(max(x, LN_CLAMP)) = p * _POW2[j]: (p, j).  x = k ln 2 + r, |r| <= ln 2 / 2
    (Cody-Waite split of ln 2), p = exp(r) by its Taylor polynomial to r^13 (truncation
    < 4e-18; relative error of the product 2e-16, tests/test_sources_kernel.py).  Unlike
    math.exp (a libm call here) it vectorises: ~4x faster in the kernel's loops."""
    x = min(max(x, LN_CLAMP), 709.0)
    kf = (x * _LOG2E + _ROUND) - _ROUND
    r = (x - kf * _LN2_HI) - kf * _LN2_LO
    p = 1.0 / 6227020800.0
    p = 1.0 / 479001600.0 + r * p
    p = 1.0 / 39916800.0 + r * p
    p = 1.0 / 3628800.0 + r * p
    p = 1.0 / 362880.0 + r * p
    p = 1.0 / 40320.0 + r * p
    p = 1.0 / 5040.0 + r * p
    p = 1.0 / 720.0 + r * p
    p = 1.0 / 120.0 + r * p
    p = 1.0 / 24.0 + r * p
    p = 1.0 / 6.0 + r * p
    p = 0.5 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    return p, np.int64(kf) + 1022


@numba.njit(cache=True, error_model="numpy")
def fast_exp(x):
    """Elementwise :func:`_exp_split` (for tests and benchmarks)."""
    out = np.empty(x.size)
    for j in range(x.size):
        p, k = _exp_split(x[j])
        out[j] = p * _POW2[k]
    return out


@numba.njit(inline="always")
def _first_at_least(D, s, lo, value):
    """First k >= lo with D[s, k] >= value (row s increasing; N if none): bisection on the
    2D array itself (a slice per call would cost reference counts)."""
    hi = D.shape[1]
    while lo < hi:
        mid = (lo + hi) // 2
        if D[s, mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, error_model="numpy")
def accumulate_rows(
    row_set,
    row_t,
    row_lnq,
    horiz_rows,
    rho2,
    zs,
    lnw,
    beta,
    inv_rc,
    cosf,
    sinf,
    lnpref,
    lnR,
    R,
    D,
    invD,
    lnD4pi,
    perm,
    H,
    gradient,
    flux,
    vert,
    horiz,
    member,
    parts,
):
    """Sum the halo kernel of rows (bursts) into their parameter sets.

    Rows (R,): ``row_set`` index of the set, ``row_t`` emission age [Myr], ``row_lnq``
    ln q0 of the row [ln 1/GV] (a burst: ln q0; a quadrature node of a continuous source:
    ln(q0 / duration x node weight)).  Sets (W,): ``rho2`` rho^2 [kpc^2], ``zs`` height
    [kpc], ``lnw`` (W, S) ln of the per-species weight (-inf: none), ``beta``, ``inv_rc``
    [1/GV], ``cosf``/``sinf`` (W, N_MODES) (:func:`mode_factors`).  Grid (S, N), each
    species' energies in increasing D (``perm[s, k]``: the output column of entry k):
    ``lnpref`` ln(FLUX_PER_DENSITY v dR/dE f_s), ``lnR`` ln(R/R0), ``R`` [GV], ``D``
    [kpc^2/Myr], ``invD`` 1/D, ``lnD4pi`` ln(4 pi D).  Outputs (W, N_out), added to: ``flux`` sum_s
    J_s, ``vert`` the vertical dipole numerator sum_s J_s 3 D_s / c d ln G_s / dz (if
    ``gradient``), ``horiz`` sum_rows J / t_row (if ``horiz_rows``: the horizontal
    numerator is 3 rho / (2 c) times it), ``parts`` (W, G, N_out) the flux of the species
    groups of ``member`` (S, G) (0/1; G may be 0).

    Per (row, species) the energies with tau < TAU_SWITCH (images, IMAGE_PAIRS pairs) and
    those above (modes, N_MODES cos and sin modes) are two branch-free loops the compiler
    vectorises; term counts are fixed at those that reach ``greens.TOLERANCE`` at the
    switch (:func:`crknee.sources.greens.image_pairs_needed`, ``modes_needed``), more
    terms elsewhere only add exact terms.
    """
    S, N = D.shape
    identity = True
    for s in range(S):
        for k in range(N):
            if perm[s, k] != k:
                identity = False
    if not identity:  # every output row is written through perm
        horiz_rows = True
        gradient = True
        vert = np.zeros(flux.shape) if vert.shape != flux.shape else vert
        horiz = np.zeros(flux.shape) if horiz.shape != flux.shape else horiz
    H2 = H * H
    ln_H = math.log(H)
    vz_mode = 3.0 / (C_KPC_MYR * H)
    fs = np.zeros(N)
    vs = np.zeros(N)
    for r in range(row_set.shape[0]):
        i = row_set[r]
        t = row_t[r]
        ln_t = math.log(t)
        zeta = zs[i] / H
        az = abs(zeta)
        sg = 1.0 if zeta >= 0.0 else -1.0
        z2 = zs[i] * zs[i]
        rho2i = rho2[i]
        bi = beta[i]
        irc = inv_rc[i]
        vfac = 1.5 * H / (C_KPC_MYR * t)  # images: J_z numerator = e_0 Sg 3H / (2ct)
        c_img = -1.5 * ln_t
        c_mode = -ln_t - ln_H
        c0, c1, c2, c3, c4 = cosf[i, 0], cosf[i, 1], cosf[i, 2], cosf[i, 3], cosf[i, 4]
        s1, s2, s3, s4, s5 = sinf[i, 0], sinf[i, 1], sinf[i, 2], sinf[i, 3], sinf[i, 4]
        d_switch = TAU_SWITCH * H2 / t
        d_few = KAPPA_FEW / _HALF_PI2 * H2 / t
        d_one = KAPPA_ONE / _HALF_PI2 * H2 / t
        inv_t = 1.0 / t
        q_t = 0.25 * inv_t
        kappa_t = _HALF_PI2 * t / H2
        for s in range(S):
            lw = lnw[i, s]
            if lw == -np.inf:
                continue
            base = row_lnq[r] + lw
            k_sw = _first_at_least(D, s, 0, d_switch)
            for k in range(k_sw):  # images
                q = q_t * invD[s, k]  # 1 / (4 D t)
                inv_tau = 4.0 * H2 * q
                x0 = (
                    base
                    + lnpref[s, k]
                    - bi * lnR[s, k]
                    - R[s, k] * irc
                    - rho2i * q
                    + c_img
                    - 1.5 * lnD4pi[s, k]
                    - z2 * q
                )
                p, j = _exp_split(x0)
                e0 = p * _POW2[j]
                p, j = _exp_split(-(1.0 - az) * inv_tau)
                gp = max(p * _POW2[j], _FLOOR)
                p, j = _exp_split(-(1.0 + az) * inv_tau)
                gm = max(p * _POW2[j], _FLOOR)
                u2 = max(gp * gm, _FLOOR)
                p2p = max(max(gp * gp, _FLOOR) * u2, _FLOOR)  # p_(m+1) = p_m g (g+ g-)^m
                p2m = max(max(gm * gm, _FLOOR) * u2, _FLOOR)
                u4 = max(u2 * u2, _FLOOR)
                p3p = max(max(p2p * gp, _FLOOR) * u4, _FLOOR)
                p3m = max(max(p2m * gm, _FLOOR) * u4, _FLOOR)
                a1, a2, a3 = gp + gm, p2p + p2m, p3p + p3m
                Sz = 1.0 - a1 + a2 - a3
                Sg = zeta * (1.0 + a1 + a2 + a3) + sg * (2.0 * (gm - gp) + 4.0 * (p2m - p2p) + 6.0 * (p3m - p3p))
                fs[k] = e0 * Sz
                vs[k] = e0 * Sg * vfac
            k_few = _first_at_least(D, s, k_sw, d_few)
            k_one = _first_at_least(D, s, k_few, d_one)
            # loops from an offset index k0 + kk with unsigned k0, kk: the compiler then knows
            # k >= 0 (no negative-index wraparound) and vectorises them (~4x)
            k0 = np.uint64(k_sw)
            for kk in range(np.uint64(k_few - k_sw)):  # modes, kappa < KAPPA_FEW: N_MODES cos, sin modes
                k = k0 + kk
                Dk = D[s, k]
                q = q_t * invD[s, k]
                kappa = kappa_t * Dk
                xm = base + lnpref[s, k] - bi * lnR[s, k] - R[s, k] * irc - rho2i * q + c_mode - lnD4pi[s, k] - kappa
                p, j = _exp_split(xm)
                em = p * _POW2[j]
                p, j = _exp_split(-kappa)
                w = p * _POW2[j]  # > e^-KAPPA_FEW: every power below is a normal number
                w2 = w * w
                w4 = w2 * w2
                w8 = w4 * w4
                w16 = w8 * w8
                P2 = w16 * w8  # P_m = w^(4m(m+1)): 8, 24, 48, 80
                P3 = P2 * P2
                fs[k] = em * (c0 + c1 * w8 + c2 * P2 + c3 * P3 + c4 * P3 * w16 * w16)
                if gradient:  # Q_k = w^(4k^2 - 1): 3, 15, 35, 63, 99
                    w12 = w8 * w4
                    w20 = w12 * w8
                    w28 = w20 * w8
                    Q1 = w2 * w
                    Q2 = Q1 * w12
                    Q3 = Q2 * w20
                    Q4 = Q3 * w28
                    vs[k] = em * (s1 * Q1 + s2 * Q2 + s3 * Q3 + s4 * Q4 + s5 * Q4 * w28 * w8) * vz_mode * Dk
            k0 = np.uint64(k_few)
            for kk in range(np.uint64(k_one - k_few)):  # KAPPA_FEW <= kappa < KAPPA_ONE: 2 cos, 2 sin modes
                k = k0 + kk
                Dk = D[s, k]
                q = q_t * invD[s, k]
                kappa = kappa_t * Dk
                xm = base + lnpref[s, k] - bi * lnR[s, k] - R[s, k] * irc - rho2i * q + c_mode - lnD4pi[s, k] - kappa
                p, j = _exp_split(xm)
                em = p * _POW2[j]
                p, j = _exp_split(-kappa)
                w = p * _POW2[j]  # > e^-KAPPA_ONE
                w3 = w * w * w
                w4 = w * w3
                w8 = max(w4 * w4, _FLOOR)
                fs[k] = em * (c0 + c1 * w8)
                if gradient:
                    vs[k] = em * (s1 * w3 + s2 * max(w3 * w4, _FLOOR) * w8) * vz_mode * Dk
            k0 = np.uint64(k_one)
            for kk in range(np.uint64(N - k_one)):  # kappa >= KAPPA_ONE: the first cos mode, no sin mode
                k = k0 + kk
                Dk = D[s, k]
                q = q_t * invD[s, k]
                kappa = kappa_t * Dk
                xm = base + lnpref[s, k] - bi * lnR[s, k] - R[s, k] * irc - rho2i * q + c_mode - lnD4pi[s, k] - kappa
                p, j = _exp_split(xm)
                fs[k] = p * _POW2[j] * c0
                vs[k] = 0.0
            for g in range(member.shape[1]):
                if member[s, g]:
                    if identity:
                        for k in range(N):
                            parts[i, g, k] += fs[k]
                    else:
                        for k in range(N):
                            parts[i, g, perm[s, k]] += fs[k]
            if identity:
                for k in range(N):
                    flux[i, k] += fs[k]
                if gradient:
                    for k in range(N):
                        vert[i, k] += vs[k]
                if horiz_rows:
                    for k in range(N):
                        horiz[i, k] += fs[k] * inv_t
            else:
                for k in range(N):
                    o = perm[s, k]
                    flux[i, o] += fs[k]
                    vert[i, o] += vs[k]
                    horiz[i, o] += fs[k] * inv_t


@numba.njit(cache=True)
def assemble_halo_dipole(flux, vert, horiz, h_amp, foot, columns, out_flux, out_dipole):
    """The halo model's outputs on the requested energies (``columns`` into the grid):
    ``out_flux`` (W, M) = flux, ``out_dipole`` (W, M, 3) = (h foot_x, h foot_y, vert / flux)
    with the horizontal amplitude h = ``h_amp`` (W,) x (horiz / flux, or 1 if ``horiz``
    has no columns); NaN where there is no flux (no direction)."""
    use_h = horiz.shape[1] > 0
    for i in range(flux.shape[0]):
        for o in range(columns.shape[0]):
            k = columns[o]
            f = flux[i, k]
            out_flux[i, o] = f
            if f > 0.0:
                inv = 1.0 / f
                h = h_amp[i] * (horiz[i, k] * inv if use_h else 1.0)
                out_dipole[i, o, 0] = h * foot[i, 0]
                out_dipole[i, o, 1] = h * foot[i, 1]
                out_dipole[i, o, 2] = vert[i, k] * inv
            else:
                out_dipole[i, o, 0] = np.nan
                out_dipole[i, o, 1] = np.nan
                out_dipole[i, o, 2] = np.nan


@numba.njit(cache=True)
def continuous_free(d, t, t0, lnq, lnw, beta, inv_rc, lnpref, lnR, R, D, flux, radial, member, parts):
    """Free-space continuous source (closed form, greens.continuous_density/_gradient
    between the emission window's ends t0 < t; t0 = 0: still active): adds sum_s J_s to
    ``flux`` (W, N) and the radial dipole numerator sum_s J_s 3 D_s / c (-dG_s/dr) / G_s
    (towards the source) to ``radial``.  Sets: ``d`` [kpc], ``t``, ``t0`` [Myr], ``lnq``
    ln(q0 / duration) [ln 1/(GV Myr)], ``lnw`` (W, S); grid, ``member`` and ``parts`` as
    :func:`accumulate_rows`."""
    S, N = D.shape
    for i in range(d.shape[0]):
        r = d[i]
        for s in range(S):
            lw = lnw[i, s]
            if lw == -np.inf:
                continue
            for k in range(N):
                Dk = D[s, k]
                a1 = math.sqrt(4.0 * Dk * t[i])
                x1 = r / a1
                spec = lnq[i] + lw + lnpref[s, k] - beta[i] * lnR[s, k] - R[s, k] * inv_rc[i]
                norm = 1.0 / (4.0 * math.pi * Dk * r)
                if spec - x1 * x1 + math.log(norm) < LN_CLAMP:  # erfc(x) <= exp(-x^2)
                    continue
                ec = math.erfc(x1)
                ex = math.exp(-x1 * x1) / a1
                if t0[i] > 0.0:
                    a0 = math.sqrt(4.0 * Dk * t0[i])
                    x0 = r / a0
                    ec -= math.erfc(x0)
                    ex -= math.exp(-x0 * x0) / a0
                A = math.exp(spec) * norm
                flux[i, k] += A * ec
                for g in range(member.shape[1]):
                    if member[s, g]:
                        parts[i, g, k] += A * ec
                radial[i, k] += A * (ec / r + _TWO_OVER_SQRT_PI * ex) * 3.0 * Dk / C_KPC_MYR


def mode_factors(z_kpc, H_kpc):
    """(cos((2m+1) pi z / 2H), k pi sin(k pi z / H)) per set, shape (W, N_MODES) each."""
    m = np.arange(N_MODES)
    zeta = np.asarray(z_kpc, dtype=float)[:, None] / H_kpc
    return (
        np.ascontiguousarray(np.cos((2 * m + 1) * 0.5 * np.pi * zeta)),
        np.ascontiguousarray((m + 1) * np.pi * np.sin((m + 1) * np.pi * zeta)),
    )


# ---------------------------------------------------------------------------------------
# Per-source scalar kernels of the population sum (crknee.population.kernel.accumulate):
# one source at a time, observer at z = 0, source offset (x, y, z) from the Sun,
#   burst:      G_b = exp(-rho^2 / 4Dt) / (4 pi D t) * theta(z, t),
#               theta = sum_n (-1)^n exp(-z_n^2 / 4Dt) / sqrt(4 pi D t)   (images, D t < MODE_SWITCH H^2)
#                     = (1/H) sum_m cos(k_m z) exp(-k_m^2 D t), k_m = (m + 1/2) pi / H   (modes)
#               d theta / dz_obs = (1/H) sum_m q_m sin(q_m z) exp(-q_m^2 D t), q_m = m pi / H;
#   continuous: the erfc image sum of greens.continuous_density / _gradient.
# ---------------------------------------------------------------------------------------

#: D t / H^2 above which theta is summed over slab eigenmodes instead of images.
MODE_SWITCH = 0.25
#: Modes per parity precomputed per source (enough for D t / H^2 >= MODE_SWITCH).
N_MODES_POINT = 6
_MODE_EXP_CUT = 45.0
_IMAGE_EXP_CUT = 50.0
_SQRT_PI = math.sqrt(math.pi)


@numba.njit(cache=True, fastmath=False)
def theta_images(z, Dt, H):
    """(theta, d theta/dz_obs) by images: see the module docstring.  Images more than
    _IMAGE_EXP_CUT e-folds below the nearest one (n = 0, |z| < H) are not evaluated."""
    four_dt = 4.0 * Dt
    norm = 1.0 / math.sqrt(math.pi * four_dt)
    N = int((IMAGE_CUT * math.sqrt(2.0 * Dt) + abs(z)) / (2.0 * H)) + 1
    th = 0.0
    dth = 0.0
    for n in range(-N, N + 1):
        sign = -1.0 if n % 2 else 1.0
        zn = 2.0 * n * H + sign * z
        arg = zn * zn / four_dt
        if arg < _IMAGE_EXP_CUT + z * z / four_dt:
            e = sign * math.exp(-arg)
            th += e
            dth += e * zn
    return th * norm, dth * norm * 2.0 / four_dt


@numba.njit(cache=True, fastmath=False)
def theta_modes(cosm, sinm, Dt, H):
    """(theta, d theta/dz_obs) by slab eigenmodes; cosm[m] = cos(k_m z), sinm[m] = sin(q_m z).
    exp(-k_m^2 D t) = u^((2m+1)^2) and exp(-q_m^2 D t) = u^(4 (m+1)^2), u = exp(-k_0^2 D t),
    by repeated multiplication (one exp per call); terms below exp(-45) are dropped."""
    k0 = 0.5 * math.pi / H
    a0 = k0 * k0 * Dt
    u = math.exp(-a0)
    u4 = u * u
    u4 = u4 * u4
    u8 = u4 * u4
    c, c_step = u, u8  # u^((2m+1)^2): exponents 1, 9, 25, ... (steps 8, 16, 24, ...)
    q, q_step = u4, u8 * u4  # u^(4(m+1)^2): exponents 4, 16, 36, ... (steps 12, 20, 28, ...)
    th = 0.0
    dth = 0.0
    for m in range(cosm.shape[0]):
        if (2 * m + 1) * (2 * m + 1) * a0 < _MODE_EXP_CUT:
            th += cosm[m] * c
        if 4 * (m + 1) * (m + 1) * a0 < _MODE_EXP_CUT:
            dth += 2 * (m + 1) * k0 * sinm[m] * q
        else:
            break
        c *= c_step
        c_step *= u8
        q *= q_step
        q_step *= u8
    return th / H, dth / H


@numba.njit(cache=True, fastmath=False)
def continuous_point(x, y, z, t, D, H):
    """(G_c, dG_c/dx, dG_c/dy, dG_c/dz) at the observer of a source injecting 1 particle
    per Myr for the last t Myr (erfc image sum, greens.continuous_density / _gradient)."""
    a = math.sqrt(4.0 * D * t)
    rho2 = x * x + y * y
    N = int((IMAGE_CUT * math.sqrt(2.0 * D * t) + abs(z)) / (2.0 * H)) + 1
    G = 0.0
    gr = 0.0  # sum of sign * G'(r_n) / r_n
    gz = 0.0
    c = 1.0 / (4.0 * math.pi * D)
    for n in range(-N, N + 1):
        sign = -1.0 if n % 2 else 1.0
        zn = 2.0 * n * H + sign * z
        r = math.sqrt(rho2 + zn * zn)
        u = r / a
        ec = math.erfc(u)
        G += sign * ec * c / r
        dG = -(ec / r + 2.0 / _SQRT_PI * math.exp(-u * u) / a) * c / r
        gr += sign * dG / r
        gz += sign * dG / r * (-zn)
    return G, -x * gr, -y * gr, gz


def mode_factors_point(z_kpc, H_kpc):
    """(cos(k_m z), sin(q_m z)) per source, shape (N, N_MODES_POINT) (:func:`theta_modes`)."""
    m = np.arange(N_MODES_POINT)
    z = np.asarray(z_kpc, dtype=float)[:, None]
    return (np.cos((m + 0.5) * np.pi / H_kpc * z), np.sin((m + 1.0) * np.pi / H_kpc * z))
