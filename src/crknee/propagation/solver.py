"""Steady-state background solver of eq. (1)-(4): semi-analytic 2D thin-disk model.

Method (Maurin, Donato, Taillet & Salati 2001, ApJ 555, 585, "M01"; USINE, Maurin 2020,
CPC 247, 106942):

* Cylinder of radius ``R_gal`` and half height ``H`` with free escape (psi = 0) on its
  surface; spatially uniform D_xx(R) of eq. (2); convection V_c sign(z) (default 0).
* Gas, spallation, ionisation/Coulomb losses and adiabatic losses (dp/dt = -p V_c /(3h),
  from div V = 2 V_c delta(z)) live in the thin disk of half thickness h (M01 Sec. 2).
  Radioactive decay acts everywhere (it enters the halo operator, M01 App. A).
* Psi = sum_i psi_i(z) J0(zeta_i r / R_gal) (``n_modes`` zeros of J0).  The z problem is
  solved analytically per mode (:mod:`crknee.propagation.halo`), leaving at z = 0 a
  second-order equation in momentum per mode (:mod:`crknee.propagation.energy`):

      [A_i/(2h) + Gamma_inel] psi_i + d/dp[-b psi_i] - d/dp[p^2 W_i D_pp d/dp(psi_i/p^2)] = q_i

  with A_i = V_c + 2 K b_i coth(b_i H), Gamma_inel = c beta (n_H sigma_H + n_He sigma_He),
  b = -dp/dt (ionisation + Coulomb from :mod:`crknee.propagation.losses`, plus adiabatic).
* Reacceleration: D_pp = 4 v_A^2 p^2 / (3 delta (4 - delta^2)(4 - delta) w D_xx), w = 1
  (Seo & Ptuskin 1994 ApJ 431, 705; as in GALPROP, Strong & Moskalenko 1998 ApJ 509, 212).  With
  ``reacceleration="disk"`` it acts in the disk (W_i = 1, USINE); with ``"halo"``
  (default, GALPROP/DRAGON, where Table 1's v_A comes from) it acts in the whole halo and
  is projected on the mode's vertical profile with the adjoint profile as test function:
  W_i = (1/h) int_0^H g_i g_adj,i dz (Petrov-Galerkin, exact to first order in D_pp;
  W ~ H/(3h) = 15 for the fundamental mode; docs/propagation.md).
* Source, eq. (3): f(r) (r/r_sun)^1.69 exp(-3.33 (r - r_sun)/r_sun) exp(-|z|/z_s)
  (Case & Bhattacharya 1996); the radial part is expanded in Bessel modes, the vertical
  part enters exactly per mode through the adjoint profile: q_i -> q_i (1/h) int_0^H
  exp(-z/z_s) g_adj dz (M01 App. A; halo module).  Spectrum, eq. (4), per unit momentum
  q_a(p) = Q_g a_a A^(nu2-1) Z^(-nu2) F(R), F(R_br) = 1 (GALPROP abundance convention,
  :mod:`crknee.propagation.abundances`), with Q_g one normalisation per group
  H (Z = 1), He (Z = 2), heavier (Z >= 3); each group is a separate right-hand side.
* Network from heavy to light: secondary source of i = sum_j c beta (A_j/A_i)
  (n_H sigma^H_ji + n_He sigma^He_ji) psi_j (straight-ahead: Ekn conserved; the A ratio
  turns densities per unit momentum of j into those of i), plus radioactive feeding
  (A_j/A_i) psi_j /(gamma tau_j) weighted by the overlap of the parent's vertical
  profile with the child's adjoint profile.  Couplings against the order (1H -> 2H)
  are handled by a second pass, as GALPROP's network_iterations = 2.

Hot loops use plain floats: GeV, kpc, Myr, cm^-3, mb.  Densities psi are per unit
momentum p c, in cm^-3 GeV^-1 for Q_g in cm^-3 GeV^-1 Myr^-1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import j0, j1, jn_zeros

from crknee.constants import C_CM_MYR, KM_S_KPC_MYR, MB_CM2
from crknee.errors import InputError
from crknee.kinematics import beta_of_momentum, momentum_from
from crknee.propagation import energy, halo

#: Case & Bhattacharya (1996, ApJ 464, L95 as used by the paper's eq. 3): shape exponents.
CB96_ALPHA, CB96_BETA = 1.69, 3.33
#: Primary groups, one normalisation each: name and charge selector.
GROUPS = ("H", "He", "Z>2")
#: Composite Gauss-Legendre rule of the radial source projection: panels x nodes per
#: panel (200 x 16 integrate J0(zeta r/R) exactly to double precision up to ~1000 zeros).
_RADIAL_PANELS, _RADIAL_NODES = 200, 16


def ekn_grid(ekn_min_GeV: float, ekn_max_GeV: float, points_per_decade: int) -> np.ndarray:
    """Log grid in kinetic energy per nucleon [GeV/n] from min to max (both included)."""
    n = int(round(points_per_decade * np.log10(ekn_max_GeV / ekn_min_GeV))) + 1
    return np.geomspace(ekn_min_GeV, ekn_max_GeV, n)


def source_radial(r_kpc, r_sun_kpc: float) -> np.ndarray:
    """Eq. (3) radial factor (r/r_sun)^1.69 exp(-3.33 (r - r_sun)/r_sun), 1 at r_sun."""
    r = np.asarray(r_kpc, dtype=float)
    return (r / r_sun_kpc) ** CB96_ALPHA * np.exp(-CB96_BETA * (r - r_sun_kpc) / r_sun_kpc)


def bessel_coefficients(func: Callable, zeta: np.ndarray, R_kpc: float) -> np.ndarray:
    """q_i = 2 / (R^2 J1(zeta_i)^2) int_0^R r f(r) J0(zeta_i r / R) dr (M01 App. A)."""
    x, w = np.polynomial.legendre.leggauss(_RADIAL_NODES)
    width = R_kpc / _RADIAL_PANELS
    r = ((np.arange(_RADIAL_PANELS)[:, None] + 0.5 * (x + 1.0)) * width).ravel()
    w = np.tile(0.5 * width * w, _RADIAL_PANELS)
    integ = (w * r * func(r)) @ j0(np.outer(r, zeta) / R_kpc)
    return 2.0 * integ / (R_kpc**2 * j1(zeta) ** 2)


def injection_shape(R_GV, nu1: float, nu2: float, R_br_GV: float, R_cut_GV: float) -> np.ndarray:
    """F(R) of eq. (4): (R/R_br)^-nu1 below R_br, (R/R_br)^-nu2 exp(-R/R_cut) above.

    Written as printed in the paper: the cutoff factor multiplies only the high branch,
    so F jumps by exp(-R_br/R_cut) (0.17 % for Table 1) at R_br.
    """
    R = np.asarray(R_GV, dtype=float)
    x = R / R_br_GV
    return np.where(R < R_br_GV, x ** (-nu1), x ** (-nu2) * np.exp(-R / R_cut_GV))


def dpp_coefficient(p_GeV, v_A_kpc_Myr: float, delta: float, K_kpc2_Myr) -> np.ndarray:
    """D_pp = 4 v_A^2 p^2 / (3 delta (4 - delta^2)(4 - delta) D_xx) [GeV^2/Myr], w = 1
    (Seo & Ptuskin 1994, ApJ 431, 705; the form used by GALPROP)."""
    return 4.0 * v_A_kpc_Myr**2 * p_GeV**2 / (3.0 * delta * (4.0 - delta**2) * (4.0 - delta) * K_kpc2_Myr)


@dataclass(frozen=True)
class RawSolution:
    """Solver output in hot-loop units, per primary group (last axis, :data:`GROUPS`).

    ``ekn`` (n_E,) [GeV/n]; ``psi`` (n_nuc, n_E, n_g) at the Sun [cm^-3 GeV^-1 per unit
    Q_g in cm^-3 GeV^-1 Myr^-1]; ``dpsi_dr``, ``dpsi_dz`` the same per kpc (dz at z=0+).
    ``modes`` (n_nuc, n_modes, n_E, n_g): the Bessel amplitudes psi_i(z=0).
    """

    ekn: np.ndarray
    psi: np.ndarray
    dpsi_dr: np.ndarray
    dpsi_dz: np.ndarray
    modes: np.ndarray


def _check_network(network):
    nucs = tuple(network.nuclides)
    if not nucs:
        raise InputError("the network holds no nuclide")
    n = len(nucs)
    tau = np.asarray(network.tau_decay_Myr, dtype=float)
    child = np.asarray(network.decay_child, dtype=int)
    ab = np.asarray(network.source_abundance, dtype=float)
    for name, arr in (("tau_decay_Myr", tau), ("decay_child", child), ("source_abundance", ab)):
        if arr.shape != (n,):
            raise InputError(f"network.{name} has shape {arr.shape}, expected ({n},)")
    if np.any(~(tau > 0)):
        raise InputError(f"network.tau_decay_Myr must be > 0 (inf if stable); got {tau[~(tau > 0)][0]!r}")
    if np.any((child < -1) | (child >= n)):
        raise InputError(f"network.decay_child outside -1..{n - 1}: {child[(child < -1) | (child >= n)][0]!r}")
    if np.any(~np.isfinite(ab) | (ab < 0)):
        raise InputError(
            f"network.source_abundance must be finite and >= 0; got {ab[~np.isfinite(ab) | (ab < 0)][0]!r}"
        )
    return nucs, tau, child, ab


def _cross_sections(network, ekn, n: int):
    """(inelastic (n, n_E), production [parent, child] (n, n, n_E)) on H and He [mb], checked."""
    sig = [np.asarray(x, dtype=float) for x in network.sigma_inel(ekn)]
    prod = [np.asarray(x, dtype=float) for x in network.sigma_prod(ekn)]
    for name, arrs, shape in (("sigma_inel", sig, (n, ekn.size)), ("sigma_prod", prod, (n, n, ekn.size))):
        for arr in arrs:
            if arr.shape != shape:
                raise InputError(f"network.{name} returned shape {arr.shape}, expected {shape}")
            if np.any(~np.isfinite(arr) | (arr < 0)):
                raise InputError(
                    f"network.{name} must be finite and >= 0 mb; got {arr[~np.isfinite(arr) | (arr < 0)][0]!r}"
                )
    return sig, prod


#: :class:`PropagationModel` fields that the parameter-independent work of
#: :func:`prepare` depends on (geometry, gas, grid, network).  Every other field (D0,
#: delta, R0, eta, R_b, Delta_delta, s_b, v_A, V_c, H, z_s, nu1, nu2, R_br, R_cut,
#: reacceleration, source_abundance, source_index) may change between solves sharing
#: one :class:`Setup`.
SETUP_FIELDS = (
    "R_gal",
    "r_sun",
    "h",
    "he_to_h",
    "n_modes",
    "points_per_decade",
    "ekn_min",
    "ekn_max",
    "species",
    "heaviest",
    "production",
    "inelastic",
)


@dataclass(frozen=True, eq=False)
class Setup:
    """Work of :func:`solve_raw` that does not depend on the transport or source
    parameters, computed once by :func:`prepare` and reused across solves.

    ``key``: values of :data:`SETUP_FIELDS` it was made for; ``network``, ``disk``: the
    objects it was made from; ``ekn`` (n_E,); per nuclide (n_nuc, n_E): momentum ``p``
    [GeV], ``beta``, ``gamma``, ionisation + Coulomb ``loss`` [GeV/Myr]; ``gas_prod``
    (n, n, n_E) and ``gas_inel`` (n, n_E) [1/Myr per unit beta]; Bessel ``zeta``, ``k``
    [1/kpc], source coefficients ``q_modes``, ``J0_sun``, ``dJ0_sun``; the solve
    ``order`` and spallation ``feeds`` [parent, child].
    """

    key: tuple
    network: object
    disk: object
    ekn: np.ndarray
    nucs: tuple
    tau: np.ndarray
    child: np.ndarray
    abund: np.ndarray
    A: np.ndarray
    p: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    loss: np.ndarray
    gas_prod: np.ndarray
    gas_inel: np.ndarray
    feeds: np.ndarray
    order: tuple
    zeta: np.ndarray
    k: np.ndarray
    q_modes: np.ndarray
    J0_sun: np.ndarray
    dJ0_sun: np.ndarray


def setup_key(model) -> tuple:
    """Values of :data:`SETUP_FIELDS` of ``model`` (floats in the solver's units)."""
    f = model.floats()
    return tuple(getattr(f, name) for name in SETUP_FIELDS)


def prepare(model, network, disk, loss_rate: Callable) -> Setup:
    """Everything of :func:`solve_raw` that depends only on :data:`SETUP_FIELDS`, the
    network, the disk and the loss rate (arguments as for :func:`solve_raw`)."""
    f = model.floats()
    if not np.isclose(disk.h_kpc, f.h, rtol=1e-9):
        raise InputError(f"disk half thickness {disk.h_kpc!r} kpc differs from PropagationModel.h = {f.h!r} kpc")
    ekn = ekn_grid(f.ekn_min, f.ekn_max, f.points_per_decade)
    nucs, tau, child, abund = _check_network(network)
    n_nuc = len(nucs)
    (sig_H, sig_He), (prod_H, prod_He) = _cross_sections(network, ekn, n_nuc)
    to_rate = MB_CM2 * C_CM_MYR  # n [cm^-3] sigma [mb] c -> [1/Myr]
    gas_prod = (disk.n_H * prod_H + disk.n_He * prod_He) * to_rate
    gas_inel = (disk.n_H * sig_H + disk.n_He * sig_He) * to_rate
    A_arr = np.array([n.A for n in nucs], dtype=float)
    p = np.array([momentum_from(ekn, "Ekn", n.Z, n.A, n.mass_GeV) for n in nucs])
    mass = np.array([n.mass_GeV for n in nucs])[:, None]
    beta = beta_of_momentum(p, mass)
    gamma = np.hypot(p, mass) / mass
    loss = np.array([loss_rate(p[i], n.Z, n.A, n.mass_GeV, disk.n_H, disk.n_He) for i, n in enumerate(nucs)])

    zeta = jn_zeros(0, f.n_modes)
    k = zeta / f.R_gal  # (m,) [1/kpc]
    q_modes = bessel_coefficients(lambda r: source_radial(r, f.r_sun), zeta, f.R_gal)

    feeds = np.any(gas_prod > 0, axis=2)  # [parent, child] by spallation
    # children fed by a nuclide solved after them (1H -> 2H, or a daughter before its
    # radioactive parent) are solved again in a second pass (GALPROP network_iterations = 2)
    backward = [int(i) for _, i in np.argwhere(np.tril(feeds, -1))] + [
        int(child[j]) for j in range(n_nuc) if 0 <= child[j] < j
    ]
    order = tuple(range(n_nuc)) + (tuple(range(min(backward), n_nuc)) if backward else ())
    return Setup(
        key=setup_key(model),
        network=network,
        disk=disk,
        ekn=ekn,
        nucs=nucs,
        tau=tau,
        child=child,
        abund=abund,
        A=A_arr,
        p=p,
        beta=beta,
        gamma=gamma,
        loss=loss,
        gas_prod=gas_prod,
        gas_inel=gas_inel,
        feeds=feeds,
        order=order,
        zeta=zeta,
        k=k,
        q_modes=q_modes,
        J0_sun=j0(zeta * f.r_sun / f.R_gal),
        dJ0_sun=-k * j1(zeta * f.r_sun / f.R_gal),
    )


@dataclass(frozen=True)
class _Operators:
    """Mode equations of every nuclide at once: halo profile (a (N, 1, n_E), b (N, m,
    n_E)), decay rate G_rad (N, n_E) [1/Myr], banded matrix ``ab`` (4, N m n_E) whose
    columns i m n_E ... (i+1) m n_E are nuclide i's system, primary source ``prim``
    (N, m, n_E, n_g)."""

    a: np.ndarray
    b: np.ndarray
    G_rad: np.ndarray
    ab: np.ndarray
    prim: np.ndarray


def _operators(st: Setup, f, model) -> _Operators:
    """Assemble the mode equations of all nuclides (module docstring; f = model.floats()),
    vectorised over (nuclide, mode, energy)."""
    h, L = f.h, f.H
    V, vA = f.V_c * KM_S_KPC_MYR, f.v_A * KM_S_KPC_MYR
    n_nuc, m, n_E = len(st.nucs), st.k.size, st.ekn.size
    Z = np.array([abs(n.Z) for n in st.nucs], dtype=float)[:, None]
    K = model.diffusion.kpc2_Myr(st.p / Z, st.beta)  # (N, n_E) [kpc^2/Myr]
    G_rad = 1.0 / (st.gamma * st.tau[:, None])  # 0 for stable (tau = inf)
    a = (V / (2.0 * K))[:, None, :]  # (N, 1, n_E) [1/kpc]
    b = np.sqrt(a**2 + st.k[None, :, None] ** 2 + (G_rad / K)[:, None, :])  # (N, m, n_E)
    C = halo.rate(K[:, None, :], V, b, L) / (2.0 * h) + (st.beta * st.gas_inel)[:, None, :]  # [1/Myr]
    loss = st.loss + st.p * V / (3.0 * h)
    W = halo.overlap_adjoint(b, L) / h if model.reacceleration == "halo" else np.ones_like(b)
    Dpp = W * dpp_coefficient(st.p, vA, model.delta, K)[:, None, :]
    prim = np.zeros((n_nuc, m, n_E, len(GROUPS)))
    inj = [model.injection(n.element) for n in st.nucs]
    amplitude = np.array([x[0] for x in inj]) * st.abund
    src = np.flatnonzero(amplitude > 0)
    if src.size:
        nu1 = np.array([inj[i][1] for i in src])[:, None]
        nu2 = np.array([inj[i][2] for i in src])[:, None]
        A = st.A[src][:, None]
        shape = (
            amplitude[src][:, None]
            * A ** (nu2 - 1.0)
            * Z[src] ** (-nu2)
            * injection_shape(st.p[src] / Z[src], nu1, nu2, f.R_br, f.R_cut)
        )  # (N_src, n_E)
        src_w = halo.integral(-a[src], b[src], L, -1.0 / f.z_s) / h  # vertical source weight
        group = np.array([GROUPS.index("H" if z == 1 else "He" if z == 2 else "Z>2") for z in Z[src, 0]])
        prim[src, :, :, group] = st.q_modes[None, :, None] * src_w * shape[:, None, :]
    ab = energy.assemble(st.p[:, None, :], np.broadcast_to(C, (n_nuc, m, n_E)), loss[:, None, :], Dpp)
    return _Operators(a=a, b=b, G_rad=G_rad, ab=ab, prim=prim)


def solve_raw(
    model, network, disk, loss_rate: Callable, setup: Setup | None = None, production_factor=None
) -> RawSolution:
    """Solve eq. (1) for every nuclide of ``network`` and each primary group.

    ``model``: :class:`~crknee.propagation.model.PropagationModel`; ``network``: object
    with the :class:`~crknee.propagation.network.Network` interface; ``disk``: object with
    ``h_kpc``, ``n_H``, ``n_He`` [cm^-3]; ``loss_rate(p_GeV, Z, A, mass_GeV, n_H, n_He)``
    -> -dp/dt [GeV/Myr] in the disk (ionisation + Coulomb).  ``setup``: the result of
    :func:`prepare` for the same network, disk, loss rate and :data:`SETUP_FIELDS`
    (None: computed here); a ``setup`` made for other values raises InputError naming
    the first differing field.  ``production_factor``: None, or an array (n, n) or
    (n, n, n_E) of finite factors >= 0 multiplying the production rate parent j -> child
    i (``[j, i]``, network order): cross-section nuisances, or channels switched off.
    """
    if setup is None:
        setup = prepare(model, network, disk, loss_rate)
    else:
        check_setup(setup, model, network, disk)
    st, f = setup, model.floats()
    gas_prod = st.gas_prod
    if production_factor is not None:
        fac = np.asarray(production_factor, dtype=float)
        n = len(st.nucs)
        if fac.shape not in ((n, n), (n, n, st.ekn.size)):
            raise InputError(
                f"production_factor has shape {fac.shape}, expected ({n}, {n}) or ({n}, {n}, {st.ekn.size})"
            )
        if np.any(~np.isfinite(fac) | (fac < 0)):
            raise InputError(
                f"production_factor must be finite and >= 0; got {fac[~np.isfinite(fac) | (fac < 0)][0]!r}"
            )
        gas_prod = gas_prod * (fac[..., None] if fac.ndim == 2 else fac)
    n_nuc, m, n_E = len(st.nucs), st.k.size, st.ekn.size
    ops = _operators(st, f, model)
    block = m * n_E
    n_g = len(GROUPS)
    modes = np.zeros((n_nuc, m, n_E, n_g))
    # secondary source of child i at energy e: sum_j feed[e, i, j] modes[j, :, e, :], with
    # feed = c beta_i (A_j/A_i) (n sigma)_ji; the parents' modes are kept energy-major
    # (n_E, n_nuc, m n_g) so that this is one batched matrix product per child
    feed = np.transpose(gas_prod * st.beta[None, :, :] * (st.A[:, None] / st.A[None, :])[..., None], (2, 1, 0))
    solved = np.zeros((n_E, n_nuc, m * n_g))
    for i in st.order:
        rhs = ops.prim[i].copy()
        if st.feeds[:, i].any():
            sec = np.matmul(feed[:, i : i + 1, :], solved)  # (n_E, 1, m n_g)
            rhs += sec.reshape(n_E, m, n_g).transpose(1, 0, 2)
        for j in np.flatnonzero(st.child == i):
            ov = halo.overlap(ops.a[j], ops.b[j], -ops.a[i], ops.b[i], f.H) / f.h
            rhs += ((st.A[j] / st.A[i]) * ops.G_rad[j] * ov)[..., None] * modes[j]
        modes[i] = energy.solve(ops.ab[:, i * block : (i + 1) * block].copy(), rhs)
        solved[:, i, :] = modes[i].transpose(1, 0, 2).reshape(n_E, m * n_g)

    psi = np.einsum("m,nmeg->neg", st.J0_sun, modes)
    dpsi_dr = np.einsum("m,nmeg->neg", st.dJ0_sun, modes)
    slopes = halo.slope(ops.a, ops.b, f.H)  # (n, m, n_E)
    dpsi_dz = np.einsum("m,nme,nmeg->neg", st.J0_sun, slopes, modes)
    return RawSolution(ekn=st.ekn, psi=psi, dpsi_dr=dpsi_dr, dpsi_dz=dpsi_dz, modes=modes)


def check_setup(setup: Setup, model, network, disk) -> None:
    """InputError unless ``setup`` was prepared for ``network``, ``disk`` and the
    :data:`SETUP_FIELDS` values of ``model``."""
    if network is not setup.network:
        raise InputError("the prepared setup was made for another network object")
    if disk is not setup.disk:
        raise InputError("the prepared setup was made for another disk object")
    for name, have, want in zip(SETUP_FIELDS, setup.key, setup_key(model)):
        if have != want:
            raise InputError(
                f"PropagationModel.{name} = {want!r} differs from the prepared setup's {have!r}; "
                "prepare a new setup for it"
            )
