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

Finite halo (beyond the paper; the knee source in the background's halo): free escape
at |z| = H (psi = 0), the same boundary as the background solver's halo (Maurin et al.
2001, ApJ 555, 585; Strong, Moskalenko & Ptuskin 2007, ARNPS 57, 285), by two exact
representations (see the block comment before :data:`TOLERANCE`): the method of images,
a source at height z_s having images at z_n = 2 n H + (-1)^n z_s with sign (-1)^n, n in
Z (fast for sigma << H), and the slab eigenmode sum (fast for sigma >> H); each point
takes the one that needs fewer terms (:func:`slab_burst`, :func:`slab_continuous`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc

from crknee.errors import InputError

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
    total = np.zeros(np.broadcast_shapes(rho.shape, zs.shape, H.shape, np.shape(t_Myr), np.shape(D_kpc2_Myr)))
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


# ---------------------------------------------------------------------------------------
# The slab |z| <= H with free escape (psi = 0 at |z| = H): two exact representations.
#
# A burst factorises into the 2D free-space kernel in the plane times the 1D slab kernel
# in z, G = G_2(rho, t) G_z(z_s, t), G_2 = exp(-rho^2 / 4Dt) / (4 pi D t).  With the
# observer at z = 0 (the Sun in the mid-plane), tau = D t / H^2 and zeta = |z_s| / H:
#
#   images:     G_z = sum_n (-1)^n exp(-z_n^2 / 4Dt) / sqrt(4 pi D t),  z_n = 2nH + (-1)^n z_s
#   eigenmodes: G_z = (1/H) sum_{m>=0} cos(lambda_m z_s) exp(-D lambda_m^2 t),
#               lambda_m = (2m+1) pi / (2H)                       (the cos modes of the slab)
#   d G_z / dz (observer height, at z = 0):
#   images:     sum_n (-1)^n z_n / (2Dt) exp(-z_n^2 / 4Dt) / sqrt(4 pi D t)
#   eigenmodes: (1/H) sum_{k>=1} mu_k sin(mu_k z_s) exp(-D mu_k^2 t),  mu_k = k pi / H
#                                                                    (the sin modes)
# (Carslaw & Jaeger 1959, ch. II 2.4-2.5 and ch. XIV 14.2: the two forms are the two
# sides of Jacobi's theta-function transformation).  The in-plane gradient is exact in
# both: d G / d rho = -rho / (2 D t) G.
#
# Term counts for a relative tolerance tol (default TOLERANCE) on G and on d G / dz in
# units of G H / (2 D t) (the error of the own dipole 3 D grad G / (c G) is then below
# tol * 3 H / (2 c t), tol times the horizontal burst dipole at d = H):
#   images, N pairs kept: the omitted pairs alternate with decreasing sums, so the error
#     of G relative to the n = 0 term is below 2 exp(-(N+1)(N+1-zeta)/tau) and
#     G >= (1 - rho_1 - rho_-1) x that term, rho_+-1 = exp(-(1 -+ zeta)/tau); the
#     gradient's weights |z_n| < (2|n|+1) H add the factor 2N+3.  N is the smallest with
#     2 (2N+3) exp(-(N+1)(N+1-zeta)/tau) <= tol (1 - rho_1 - rho_-1).
#   eigenmodes, M + 1 cos modes and K sin modes: |cos((2m+1)th)/cos th| <= 2m+1 and
#     |sin(2k th)/cos th| <= 2k (th = pi zeta / 2), kappa = pi^2 tau / 4, so
#     G >= c_e x leading mode, c_e = 1 - sum_{m>=1} (2m+1) exp(-4m(m+1) kappa), and
#     M is the smallest with 2 (2M+3) exp(-4(M+1)(M+2) kappa) <= tol c_e, K the smallest
#     with 4 pi (K+1)^2 exp(-(4(K+1)^2 - 1) kappa) <= tol c_e / (2 tau).
# A representation is eligible where its lower bound c exceeds MIN_LOWER_BOUND; of the
# eligible ones each (energy, parameter set) takes the one with fewer exponentials
# (images: 2N+1; modes: M+1, plus K with the gradient).  Images win for tau below ~0.1
# (sigma = sqrt(4Dt) below ~0.6 H), modes above.
# ---------------------------------------------------------------------------------------

#: Default relative tolerance of the slab sums (see the block comment above).
TOLERANCE = 1e-12
#: A representation is used only where its lower bound on G / (leading term) exceeds this.
MIN_LOWER_BOUND = 0.1


def slab_tau(t_Myr, D_kpc2_Myr, halo_kpc):
    """Dimensionless age tau = D t / H^2 of the slab kernel."""
    H = np.asarray(halo_kpc, dtype=float)
    return np.asarray(D_kpc2_Myr, dtype=float) * np.asarray(t_Myr, dtype=float) / (H * H)


def _image_lower_bound(tau, zeta):
    tau = np.asarray(tau, dtype=float)
    return 1.0 - np.exp(-(1.0 - zeta) / tau) - np.exp(-(1.0 + zeta) / tau)


def image_pairs_needed(tau, zeta, tol=TOLERANCE):
    """Image pairs N (array) for relative tolerance ``tol``; a large sentinel (10^6)
    where the image sum is not eligible (lower bound below MIN_LOWER_BOUND)."""
    tau, zeta = np.broadcast_arrays(np.asarray(tau, dtype=float), np.asarray(zeta, dtype=float))
    c = _image_lower_bound(tau, zeta)
    ok = c > MIN_LOWER_BOUND
    cs = np.where(ok, c, 1.0)
    x = np.ones(tau.shape)
    for _ in range(4):  # fixed point of x (x - zeta) = tau ln(2 (2x + 1) / (tol c)), x = N + 1
        lg = np.log(2.0 * (2.0 * x + 1.0) / (tol * cs))
        x = np.maximum(np.ceil(0.5 * (zeta + np.sqrt(zeta * zeta + 4.0 * tau * lg))), 1.0)
    return np.where(ok, x - 1.0, 1e6).astype(np.int64)


def _mode_lower_bound(kappa):
    m = np.arange(1, 40)
    return 1.0 - np.sum((2 * m + 1) * np.exp(-4.0 * m * (m + 1) * np.asarray(kappa, dtype=float)[..., None]), axis=-1)


def modes_needed(tau, tol=TOLERANCE):
    """(M, K): extra cos modes beyond the first and sin modes of the gradient for relative
    tolerance ``tol``; sentinels 10^6 where the mode sum is not eligible."""
    tau = np.asarray(tau, dtype=float)
    kappa = 0.25 * np.pi**2 * tau
    c = _mode_lower_bound(kappa)
    ok = c > MIN_LOWER_BOUND
    cs = np.where(ok, c, 1.0)
    ks = np.where(ok, kappa, 1.0)
    # smallest M with 4 (M+1)(M+2) kappa >= ln(2 (2M+3) / (tol c)): scan (cheap, monotone)
    M = np.zeros(tau.shape, dtype=np.int64)
    K = np.zeros(tau.shape, dtype=np.int64)
    for _ in range(64):
        bad = 2.0 * (2 * M + 3) * np.exp(-4.0 * (M + 1) * (M + 2) * ks) > tol * cs
        if not bad.any():
            break
        M += bad
    for _ in range(64):
        tail = 4.0 * np.pi * (K + 1) ** 2 * np.exp(-(4.0 * (K + 1) ** 2 - 1.0) * ks)
        bad = tail > tol * cs / (2.0 * np.where(ok, tau, 1.0))
        if not bad.any():
            break
        K += bad
    return np.where(ok, M, 1_000_000), np.where(ok, K, 1_000_000)


def _image_cut_pairs(tau, zeta):
    """Image pairs of the IMAGE_CUT rule (the nearest omitted image IMAGE_CUT sigma away,
    sigma = sqrt(2 D t)): convergent wherever the bound of image_pairs_needed is not."""
    return np.ceil((IMAGE_CUT * np.sqrt(2.0 * np.asarray(tau)) + zeta) / 2.0).astype(np.int64) + 1


def slab_plan(tau_lo, tau_hi, zeta, gradient=True, tol=TOLERANCE):
    """The representation and term counts valid for every tau in [tau_lo, tau_hi] and
    source heights up to zeta H: (use_images, N, M, K) arrays.  Images need 2N+1
    exponentials, modes M+1 (+ K with the gradient); the cheaper eligible one is used,
    and images by the IMAGE_CUT rule where neither bound holds (a source within a few
    sigma of the boundary)."""
    N = image_pairs_needed(tau_hi, zeta, tol)
    M, K = modes_needed(tau_lo, tol)
    if not gradient:
        K = np.where(K > 10**5, K, 0)
    none = (N > 10**5) & (M > 10**5)
    N = np.where(none, _image_cut_pairs(tau_hi, zeta), N)
    use = 2 * N + 1 <= M + 1 + K
    return use, N, M, K


def plane_kernel(rho_kpc, t_Myr, D_kpc2_Myr):
    """2D free-space kernel exp(-rho^2 / 4Dt) / (4 pi D t) [kpc^-2]."""
    s = 4.0 * np.asarray(D_kpc2_Myr, dtype=float) * np.asarray(t_Myr, dtype=float)
    rho = np.asarray(rho_kpc, dtype=float)
    return np.exp(-rho * rho / s) / (np.pi * s)


def slab_images(zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc, n_pairs):
    """(G_z [kpc^-1], d G_z / dz [kpc^-2]) at z = 0 by the image sum with ``n_pairs``."""
    zs, H = np.asarray(zs_kpc, dtype=float), np.asarray(halo_kpc, dtype=float)
    s = 4.0 * np.asarray(D_kpc2_Myr, dtype=float) * np.asarray(t_Myr, dtype=float)
    norm = 1.0 / np.sqrt(np.pi * s)
    G = np.zeros(np.broadcast_shapes(zs.shape, H.shape, s.shape))
    dG = np.zeros(G.shape)
    for n in range(-int(n_pairs), int(n_pairs) + 1):
        sign = -1.0 if n % 2 else 1.0
        zn = 2.0 * n * H + sign * zs
        term = sign * norm * np.exp(-zn * zn / s)
        G = G + term
        dG = dG + term * 2.0 * zn / s
    return G, dG


def slab_modes(zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc, n_cos, n_sin):
    """(G_z [kpc^-1], d G_z / dz [kpc^-2]) at z = 0 by the eigenmode sum: ``n_cos`` cos
    modes (m = 0..n_cos-1) and ``n_sin`` sin modes (k = 1..n_sin)."""
    zs, H = np.asarray(zs_kpc, dtype=float), np.asarray(halo_kpc, dtype=float)
    Dt = np.asarray(D_kpc2_Myr, dtype=float) * np.asarray(t_Myr, dtype=float)
    G = np.zeros(np.broadcast_shapes(zs.shape, H.shape, Dt.shape))
    dG = np.zeros(G.shape)
    for m in range(int(n_cos)):
        lam = (2 * m + 1) * np.pi / (2.0 * H)
        G = G + np.cos(lam * zs) * np.exp(-lam * lam * Dt) / H
    for k in range(1, int(n_sin) + 1):
        mu = k * np.pi / H
        dG = dG + mu * np.sin(mu * zs) * np.exp(-mu * mu * Dt) / H
    return G, dG


def slab_burst(rho_kpc, zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc, method="auto", tol=TOLERANCE):
    """Burst in the halo at the observer (rho, z = 0): (G [kpc^-3], dG/drho, dG/dz [kpc^-4]).

    ``method``: "images", "modes" or "auto" (per element, the one needing fewer
    exponentials for ``tol``; term counts from :func:`image_pairs_needed`,
    :func:`modes_needed`).  ``rho_kpc`` horizontal distance source - observer, ``zs_kpc``
    source height, |zs| < H.
    """
    rho, zs, t, D, H = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (rho_kpc, zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc))
    )
    tau, zeta = slab_tau(t, D, H), np.abs(zs) / H
    if method == "auto":
        use, N, M, K = slab_plan(tau, tau, zeta, True, tol)
    elif method == "images":
        use = np.ones(tau.shape, dtype=bool)
        N = np.minimum(image_pairs_needed(tau, zeta, tol), _image_cut_pairs(tau, zeta))
        M = K = np.zeros(tau.shape, dtype=np.int64)
    elif method == "modes":
        use = np.zeros(tau.shape, dtype=bool)
        N = np.zeros(tau.shape, dtype=np.int64)
        M, K = modes_needed(tau, tol)
        M = np.where(M > 10**5, np.ceil(np.sqrt(40.0 / (np.pi**2 * tau))).astype(np.int64) + 1, M)
        K = np.where(K > 10**5, M + 1, K)
    else:
        raise InputError(f"method must be 'images', 'modes' or 'auto'; got {method!r}")
    Gz, dGz = np.empty(tau.shape), np.empty(tau.shape)
    if use.any():
        Gz[use], dGz[use] = slab_images(zs[use], t[use], D[use], H[use], N[use].max())
    if (~use).any():
        Gz[~use], dGz[~use] = slab_modes(zs[~use], t[~use], D[~use], H[~use], M[~use].max() + 1, K[~use].max())
    G2 = plane_kernel(rho, t, D)
    G = G2 * Gz
    return G, -rho / (2.0 * D * t) * G, G2 * dGz


def survival_probability(t_Myr, D_kpc2_Myr, halo_kpc, zs_kpc=0.0, n_modes=None):
    """Fraction of the particles released at height ``zs_kpc`` still inside |z| < H after
    time t (1D slab): sum_m 4 (-1)^m / ((2m+1) pi) cos(lambda_m z_s) exp(-D lambda_m^2 t)
    (Carslaw & Jaeger 1959, 3.3), ``n_modes`` terms (default: converged to 1e-15)."""
    tau = slab_tau(t_Myr, D_kpc2_Myr, halo_kpc)
    H = np.asarray(halo_kpc, dtype=float)
    if n_modes is None:
        n_modes = int(np.ceil(np.sqrt(40.0 / (np.pi**2 * np.min(tau))))) + 2
    total = 0.0
    for m in range(n_modes):
        lam = (2 * m + 1) * np.pi / (2.0 * H)
        decay = np.exp(-((2 * m + 1) ** 2) * np.pi**2 * tau / 4.0)
        total = total + 4.0 * (-1) ** m / ((2 * m + 1) * np.pi) * np.cos(lam * zs_kpc) * decay
    return total


#: Composite Gauss-Legendre rule of :func:`slab_continuous` (method "quadrature"): panels
#: of at most QUAD_PANEL in ln t', QUAD_NODES nodes each; the burst is negligible
#: (< e^-QUAD_CUT) before t' = r^2 / (4 D QUAD_CUT), r the source's distance.
QUAD_PANEL, QUAD_NODES, QUAD_CUT = 0.5, 16, 50.0


def _window(t_Myr, active_Myr):
    """Start of the emission window in the source's past: age t' runs over [t - active, t]
    (0 if the source is still active, i.e. ``active_Myr`` None or >= t)."""
    t = np.asarray(t_Myr, dtype=float)
    if active_Myr is None:
        return np.zeros(t.shape)
    return np.maximum(t - np.asarray(active_Myr, dtype=float), 0.0)


#: "auto" in :func:`slab_continuous`: a source still active (or active since its birth)
#: takes the closed-form image sum at every tau (equal to the quadrature to 1e-14); one
#: that has stopped takes it up to this tau = D t / H^2, beyond which the difference of
#: the two erfc image sums loses digits (1e-7 at tau = 7), and the quadrature above.
CONTINUOUS_IMAGE_TAU = 0.5


def slab_continuous(rho_kpc, zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc, active_Myr=None, method="auto", tol=TOLERANCE):
    """Constant injection in the halo switched on t ago and active for ``active_Myr``
    (None: still active): (G [kpc^-3 per particle/Myr], dG/drho, dG/dz [kpc^-4 ...]) at
    the observer (rho, z = 0), the burst integrated over emission ages t' in [t - active, t].

    ``method="images"``: exact closed form, sum_n (-1)^n [erfc(r_n / sqrt(4 D t')) /
    (4 pi D r_n)] between the window's ends (Carslaw & Jaeger 1959, 10.4), pairs by the
    IMAGE_CUT rule at the oldest age; ``"quadrature"``: the time integral of
    :func:`slab_burst` (images or eigenmodes per node, ``tol``) by composite
    Gauss-Legendre in ln t' (QUAD_PANEL, QUAD_NODES); ``"auto"``: images, except for a
    source that has stopped at tau > CONTINUOUS_IMAGE_TAU (quadrature).
    """
    rho, zs, t, D, H = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (rho_kpc, zs_kpc, t_Myr, D_kpc2_Myr, halo_kpc))
    )
    if method == "auto":
        ta = None if active_Myr is None else np.broadcast_to(np.asarray(active_Myr, dtype=float), t.shape)
        img = (slab_tau(t, D, H) <= CONTINUOUS_IMAGE_TAU) | (_window(t, ta) == 0.0)
        out = [np.empty(t.shape) for _ in range(3)]
        for mask, how in ((img, "images"), (~img, "quadrature")):
            if mask.any():
                part = slab_continuous(
                    rho[mask], zs[mask], t[mask], D[mask], H[mask], None if ta is None else ta[mask], how, tol
                )
                for o, v in zip(out, part):
                    o[mask] = v
        return tuple(out)
    t0 = _window(t, active_Myr)
    if method == "images":
        N = n_images(t, D, H, zs)
        G = halo_density(rho, zs, t, D, H, "continuous", N)
        g_rho, g_z = halo_gradient(rho, zs, t, D, H, "continuous", N)
        started = t0 > 0
        if started.any():
            ts = np.where(started, t0, t)
            late = (halo_density(rho, zs, ts, D, H, "continuous", N),) + halo_gradient(
                rho, zs, ts, D, H, "continuous", N
            )
            G, g_rho, g_z = (np.where(started, a - b, a) for a, b in zip((G, g_rho, g_z), late))
        return G, g_rho, g_z
    if method != "quadrature":
        raise InputError(f"method must be 'auto', 'images' or 'quadrature'; got {method!r}")
    r2 = rho * rho + zs * zs
    lo = np.log(np.where(t0 > 0, t0, np.minimum(r2 / (4.0 * D * QUAD_CUT), 0.5 * t)))
    hi = np.log(t)
    n_panels = int(np.ceil(np.max(hi - lo) / QUAD_PANEL))
    x, w = np.polynomial.legendre.leggauss(QUAD_NODES)
    edges = np.linspace(0.0, 1.0, n_panels + 1)
    s = (0.5 * (edges[:-1, None] + edges[1:, None]) + 0.5 * (edges[1:, None] - edges[:-1, None]) * x).ravel()
    ws = (0.5 * (edges[1:, None] - edges[:-1, None]) * w).ravel()
    u = lo[..., None] + (hi - lo)[..., None] * s  # ln t' at the nodes
    tp = np.exp(u)
    out = slab_burst(rho[..., None], zs[..., None], tp, D[..., None], H[..., None], tol=tol)
    jac = (hi - lo)[..., None] * ws * tp  # dt' = t' du
    return tuple(np.sum(v * jac, axis=-1) for v in out)
