"""The full Bessel/thin-disk solver against an independent 2D finite-volume solution.

A three-nuclide toy network with constant cross sections (duck-typing the Network
interface): a primary P (C12) fragments in the disk into a radioactive secondary S
(Be10, decaying everywhere in the halo) which decays into T (B10), also fed directly by
P.  With no energy change (v_A = 0, no losses, V_c = 0) each energy is an independent
2D steady diffusion problem (eq. 1 with eq. 3's source), solved here on an (r, z) grid
with scipy.sparse, independently of the Bessel expansion, the adjoint source reduction
and the decay overlap of the solver.
"""

from types import SimpleNamespace

import astropy.units as u
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from crknee.constants import C_CM_MYR, MB_CM2
from crknee.errors import InputError
from crknee.kinematics import beta_of_momentum, momentum_from, nuclide
from crknee.propagation.model import PropagationModel
from crknee.propagation.solution import Q_UNIT, solve
from crknee.propagation.solver import injection_shape, source_radial
from toy_networks import ToyNetwork


def toy_network(tau_S=2.0):
    return ToyNetwork(
        ["C12", "Be10", "B10"],
        [250.0, 200.0, 210.0],
        {(0, 1): 10.0, (0, 2): 30.0},
        [1.0, 0.0, 0.0],
        tau_Myr=[np.inf, tau_S, np.inf],
        decay_child=[-1, 2, -1],
    )


DISK = SimpleNamespace(h_kpc=0.1, n_H=1.0, n_He=0.0)


def _no_loss(p, Z, A, m, nH, nHe):
    return np.zeros_like(p)


def _fv_2d(K, G_rad, G_disk, src_disk_per_area, src_volume, m, nr=160, nz=300):
    """Finite-volume solution of -K lap N + G_rad N + 2h delta(z) G_disk N = sources on the
    cylinder (r < R, |z| < L), N = 0 on its surface; returns N(r_sun, 0).

    ``src_volume(r, z_lo, z_hi)`` returns the source integrated over [z_lo, z_hi] per unit
    area; ``src_disk_per_area(r_index)`` the disk source times h (one half of 2h)."""
    R, L, rs, h = m.R_gal, m.H, m.r_sun, m.h
    dr, dz = R / nr, L / nz
    r = (np.arange(nr) + 0.5) * dr
    z = np.arange(nz) * dz  # node 0 on the plane: half cell [0, dz/2]
    hz = np.full(nz, dz)
    hz[0] = dz / 2
    idx = np.arange(nr * nz).reshape(nr, nz)
    rows, cols, vals = [], [], []
    diag = np.zeros((nr, nz))
    # radial faces
    for i in range(nr):
        if i < nr - 1:
            c = K * (i + 1) * dr / dr * hz
            rows += [idx[i], idx[i + 1]]
            cols += [idx[i + 1], idx[i]]
            vals += [-c / (r[i] * dr * hz), -c / (r[i + 1] * dr * hz)]
            diag[i] += c / (r[i] * dr * hz)
            diag[i + 1] += c / (r[i + 1] * dr * hz)
        else:
            diag[i] += K * R / (dr / 2) * hz / (r[i] * dr * hz)
    # vertical faces
    c = K / dz
    for j in range(nz):
        if j < nz - 1:
            rows += [idx[:, j], idx[:, j + 1]]
            cols += [idx[:, j + 1], idx[:, j]]
            vals += [np.full(nr, -c / hz[j]), np.full(nr, -c / hz[j + 1])]
            diag[:, j] += c / hz[j]
            diag[:, j + 1] += c / hz[j + 1]
        else:
            diag[:, j] += c / hz[j]
    diag += G_rad
    diag[:, 0] += h * G_disk / hz[0]
    rhs = np.zeros((nr, nz))
    zlo = np.maximum(z - dz / 2, 0.0)
    zhi = z + dz / 2
    rhs += src_volume(r[:, None], zlo[None, :], zhi[None, :]) / hz
    rhs[:, 0] += src_disk_per_area / hz[0]
    A = sp.coo_matrix(
        (
            np.concatenate([np.ravel(v) for v in vals] + [diag.ravel()]),
            (
                np.concatenate([np.ravel(v) for v in rows] + [idx.ravel()]),
                np.concatenate([np.ravel(v) for v in cols] + [idx.ravel()]),
            ),
        ),
        shape=(nr * nz, nr * nz),
    ).tocsc()
    N = spsolve(A, rhs.ravel()).reshape(nr, nz)
    # quadratic interpolation in r at r_sun, z = 0
    i = int(np.clip(np.searchsorted(r, rs) - 1, 1, nr - 2))
    return N, np.polyval(np.polyfit(r[i - 1 : i + 2], N[i - 1 : i + 2, 0], 2), rs), r, z


def test_solver_matches_2d_finite_volume():
    """Primary, radioactive secondary (decaying in the halo) and its stable daughter at
    Ekn = 1 GeV/n agree with the 2D finite-volume solution to < 0.05 % (measured: 3e-5)."""
    model = PropagationModel(
        v_A=0 * u.km / u.s, n_modes=60, points_per_decade=4, ekn_min=0.1 * u.GeV, ekn_max=100 * u.GeV
    )
    net = toy_network()
    sol = solve(model, network=net, disk=DISK, loss_rate=_no_loss, norms=[0, 0, 1] * Q_UNIT)
    e = int(np.argmin(np.abs(sol.raw.ekn - 1.0)))
    ekn = sol.raw.ekn[e]
    f = model.floats()
    par = []
    for n, tau in zip(net.nuclides, net.tau_decay_Myr):
        p = momentum_from(ekn, "Ekn", n.Z, n.A, n.mass_GeV)
        beta = beta_of_momentum(p, n.mass_GeV)
        K = model.diffusion.kpc2_Myr(p / n.Z, beta)
        gam = np.hypot(p, n.mass_GeV) / n.mass_GeV
        par.append(dict(p=p, beta=beta, K=float(K), G=0.0 if np.isinf(tau) else 1 / (gam * tau), A=n.A, Z=n.Z))

    def rate(sig, b):
        return DISK.n_H * sig * MB_CM2 * C_CM_MYR * b

    # primary: source Q f(r) exp(-|z|/z_s) F(R) a A^(nu2-1) Z^-nu2 (exactly integrated over the cell)
    P = par[0]
    amp = (
        1.0
        * P["A"] ** (f.nu2 - 1)
        * P["Z"] ** (-f.nu2)
        * injection_shape(P["p"] / P["Z"], f.nu1, f.nu2, f.R_br, f.R_cut)
    )

    def src_P(r, zl, zh):
        return amp * source_radial(r, f.r_sun) * f.z_s * (np.exp(-zl / f.z_s) - np.exp(-zh / f.z_s))

    NP, P0, r, z = _fv_2d(P["K"], 0.0, rate(250.0, P["beta"]), 0.0, src_P, f)
    # secondary S: disk production from P, decay everywhere
    S = par[1]
    prodS = rate(10.0, S["beta"]) * P["A"] / S["A"] * f.h * NP[:, 0]
    NS, S0, *_ = _fv_2d(S["K"], S["G"], rate(200.0, S["beta"]), prodS, lambda r, zl, zh: 0.0 * r * zl, f)
    # T: disk production from P + decay of S in the halo (source G_S N_S(r, z), cell average)
    T = par[2]
    prodT = rate(30.0, T["beta"]) * P["A"] / T["A"] * f.h * NP[:, 0]
    dz = z[1]
    hz = np.full(z.size, dz)
    hz[0] = dz / 2
    NT, T0, *_ = _fv_2d(T["K"], 0.0, rate(210.0, T["beta"]), prodT, lambda r, zl, zh: S["G"] * NS * hz, f)
    got = sol.raw.psi[:, e, 2]
    np.testing.assert_allclose(got, [P0, S0, T0], rtol=5e-4)


def test_bessel_convergence_in_modes():
    """Fluxes at the Sun change by < 0.3 % from 40 to 80 Bessel modes (toy network)."""
    kw = dict(network=toy_network(), disk=DISK, loss_rate=_no_loss, norms=[0, 0, 1] * Q_UNIT)
    base = PropagationModel(points_per_decade=6, ekn_max=1e4 * u.GeV)
    a = solve(base, **kw).raw.psi[..., 2]
    b = solve(PropagationModel(points_per_decade=6, ekn_max=1e4 * u.GeV, n_modes=80), **kw).raw.psi[..., 2]
    assert np.max(np.abs(a / b - 1)) < 3e-3


def test_primary_follows_injection_at_high_energy():
    """Without spallation, reacceleration and convection every Bessel mode is q_i / A_i with
    A_i proportional to D_xx, so the primary is q / D exactly: between 1 and 10 TeV/n
    (grid nodes; R = 2-20 TV, above R_br) its slope is -(nu2 + delta) - dR / (R_cut ln 10) (eq. 2, 4)."""
    model = PropagationModel(v_A=0 * u.km / u.s, points_per_decade=8)
    net = ToyNetwork(["C12"], [0.0], {}, [1.0])
    sol = solve(model, network=net, disk=DISK, loss_rate=_no_loss, norms=[0, 0, 1] * Q_UNIT)
    E = np.array([1e3, 1e4]) * u.GeV
    j = sol.lis("C12", E).value
    slope = np.log(j[1] / j[0]) / np.log(10.0)
    R = (E.value + 0.9315) * 12 / 6
    expected = -(model.nu2 + model.delta) - (R[1] - R[0]) / (model.R_cut.to_value(u.GV) * np.log(10))
    assert slope == pytest.approx(expected, abs=1e-3)


def test_primary_follows_diffusion_break():
    """Same exact limit with the high-rigidity break of crknee.transport: psi = q / D at every
    mode, so the broken/unbroken primary ratio is 1 / B(R) at every grid node, and far
    above R_b the slope hardens by Delta_delta."""
    kw = dict(network=ToyNetwork(["C12"], [0.0], {}, [1.0]), disk=DISK, loss_rate=_no_loss, norms=[0, 0, 1] * Q_UNIT)
    base = dict(v_A=0 * u.km / u.s, points_per_decade=8, R_cut=1e9 * u.GV)
    broken = PropagationModel(**base, R_b=200 * u.GV, Delta_delta=0.2, s_b=0.1)
    a = solve(PropagationModel(**base), **kw)
    b = solve(broken, **kw)
    c12 = nuclide("C12")
    R = momentum_from(a.raw.ekn, "Ekn", c12.Z, c12.A, c12.mass_GeV) / c12.Z
    np.testing.assert_allclose(
        b.raw.psi[0, :, 2] / a.raw.psi[0, :, 2], 1.0 / broken.diffusion.break_factor(R), rtol=1e-10
    )
    E = np.array([1e6, 1e7]) * u.GeV
    j = b.lis("C12", E).value
    slope = np.log(j[1] / j[0]) / np.log(10.0)
    RE = momentum_from(E.value, "Ekn", c12.Z, c12.A, c12.mass_GeV) / c12.Z
    expected = -(broken.nu2 + broken.delta - broken.Delta_delta) - (RE[1] - RE[0]) / (1e9 * np.log(10))
    assert slope == pytest.approx(expected, abs=1e-4)


def test_decay_suppresses_radioactive_secondary():
    """A longer lifetime gives more Be10 and, through decay, less B10 from Be10."""
    kw = dict(disk=DISK, loss_rate=_no_loss, norms=[0, 0, 1] * Q_UNIT)
    m = PropagationModel(points_per_decade=6, ekn_max=1e4 * u.GeV)
    short = solve(m, network=toy_network(tau_S=0.5), **kw)
    long_ = solve(m, network=toy_network(tau_S=50.0), **kw)
    E = 1.0 * u.GeV
    assert long_.lis("Be10", E) > 1.5 * short.lis("Be10", E)
    assert long_.lis("B10", E) < short.lis("B10", E)


def test_disk_height_mismatch_and_bad_model_raise():
    with pytest.raises(InputError, match="differs"):
        solve(
            PropagationModel(h=0.2 * u.kpc, ekn_max=1e3 * u.GeV),
            network=toy_network(),
            disk=DISK,
            loss_rate=_no_loss,
            norms=[1, 1, 1] * Q_UNIT,
        )
    for bad in (
        dict(D0=-1 * u.cm**2 / u.s),
        dict(delta=1.5),
        dict(H=0.05 * u.kpc),
        dict(nu1=0.5),
        dict(R_br=3 * u.kpc),
        dict(reacceleration="both"),
        dict(n_modes=0),
        dict(v_A=-1 * u.km / u.s),
        dict(r_sun=30 * u.kpc),
        dict(ekn_max=0.05 * u.GeV),
    ):
        with pytest.raises(InputError):
            PropagationModel(**bad)


def test_network_order_against_decay_is_resolved_by_second_pass():
    """A daughter listed before its radioactive parent (B10 before Be10) gets the same
    fluxes as the parent-first order: the solver makes a second pass (GALPROP's
    network_iterations = 2)."""
    kw = dict(disk=DISK, loss_rate=_no_loss, norms=[0, 0, 1] * Q_UNIT)
    m = PropagationModel(points_per_decade=6, ekn_max=1e4 * u.GeV)
    good = solve(m, network=toy_network(), **kw)
    swapped = ToyNetwork(
        ["C12", "B10", "Be10"],
        [250.0, 210.0, 200.0],
        {(0, 2): 10.0, (0, 1): 30.0},
        [1.0, 0.0, 0.0],
        tau_Myr=[np.inf, np.inf, 2.0],
        decay_child=[-1, -1, 1],
    )
    bad = solve(m, network=swapped, **kw)
    E = np.array([0.5, 5.0, 50.0]) * u.GeV
    for name in ("B10", "Be10", "C12"):
        np.testing.assert_allclose(bad.lis(name, E).value, good.lis(name, E).value, rtol=1e-12)
