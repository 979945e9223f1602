"""Validation of the background solver against exact limits (issue 3, "Validation").

Each reference here is computed independently of the solver:

* pure diffusion in the cylinder: the double Bessel-Fourier series of the Dirichlet
  problem -K lap N = f(r) exp(-|z|/z_s), with the radial coefficients by adaptive
  quadrature (scipy.integrate.quad) and the z coefficients in closed form;
* leaky-box / weighted-slab secondary-to-primary ratio of a thin disk in a thin halo
  (Jones et al. 2001, ApJ 547, 264, Sec. 2; grammage X = mu v H / (2 K));
* momentum operator alone (crknee.propagation.energy): a delta-function injection with
  losses only (steady flux b psi = injection rate) and with reacceleration only (power
  laws whose indices solve d (s + 2)(s - 1) = C);
* grid convergence of B/C at R = 10 GV;
* bad parameters are rejected before any linear system is solved.
"""

import os
from types import SimpleNamespace

import astropy.units as u
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import j0, j1, jn_zeros

from crknee.constants import C_CM_MYR, MB_CM2
from crknee.errors import CrkneeError, InputError
from crknee.kinematics import beta_of_momentum, momentum_from, nuclide
from crknee.propagation import Q_UNIT, PropagationModel, energy, solve
from crknee.propagation.network import build_network
from crknee.propagation.solver import injection_shape, source_radial
from toy_networks import ToyNetwork

REDUCED = os.environ.get("CRKNEE_REDUCED") == "1"


def _no_loss(p, Z, A, m, nH, nHe):
    return np.zeros_like(p)


# -- pure diffusion vs the Bessel-Fourier series --------------------------------------------
def _bessel_fourier_at_sun(K, R, H, r_sun, z_s, n_r=150, n_z=50_000):
    """N(r_sun, 0) of -K lap N = f(r) exp(-|z|/z_s), N = 0 at r = R and |z| = H.

    N = sum_{i,n} a_i b_n J0(zeta_i r/R) cos(kappa_n z) / (K (k_i^2 + kappa_n^2)),
    kappa_n = (n + 1/2) pi / H; a_i = 2/(R^2 J1(zeta_i)^2) int_0^R r f J0(zeta_i r/R) dr;
    b_n = (2/H) int_0^H e^{-z/z_s} cos(kappa_n z) dz = (2/H)(alpha + (-1)^n kappa_n
    e^{-alpha H}) / (alpha^2 + kappa_n^2), alpha = 1/z_s.  Truncation: the z terms fall as
    n^-4 (tail < 1e-12 here); 100, 300 and 600 radial modes agree to 1e-6 at r_sun.
    """
    zeta = jn_zeros(0, n_r)
    a = (
        np.array([quad(lambda r: r * source_radial(r, r_sun) * j0(z * r / R), 0.0, R, limit=400)[0] for z in zeta])
        * 2.0
        / (R**2 * j1(zeta) ** 2)
    )
    n = np.arange(n_z)
    kappa = (n + 0.5) * np.pi / H
    alpha = 1.0 / z_s
    b = (2.0 / H) * (alpha + (-1.0) ** n * kappa * np.exp(-alpha * H)) / (alpha**2 + kappa**2)
    k2 = (zeta / R) ** 2
    inner = np.array([np.sum(b / (k + kappa**2)) for k in k2])
    return float(np.sum(a * j0(zeta * r_sun / R) * inner) / K)


def test_pure_diffusion_matches_bessel_fourier_series():
    """No gas, losses, reacceleration or convection: the proton density at the Sun is
    F(R) N_unit(K(R)) at every energy, N_unit from the exact series.  Issue 3 asks <= 1 %;
    measured 1.1e-5 (40 Bessel modes), so the test holds it to 0.1 %."""
    model = PropagationModel(v_A=0 * u.km / u.s, ekn_min=1 * u.GeV, ekn_max=1e4 * u.GeV, points_per_decade=4)
    net = ToyNetwork(["H1"], [0.0], {}, [1.0])
    disk = SimpleNamespace(h_kpc=0.1, n_H=0.0, n_He=0.0)
    sol = solve(model, network=net, disk=disk, loss_rate=_no_loss, norms=[1, 0, 0] * Q_UNIT)
    f = model.floats()
    ekn = sol.raw.ekn[::4]
    proton = nuclide("H1")
    p = momentum_from(ekn, "Ekn", 1, 1, proton.mass_GeV)
    K = model.diffusion.kpc2_Myr(p, beta_of_momentum(p, proton.mass_GeV))  # [kpc^2/Myr]
    F = injection_shape(p, f.nu1, f.nu2, f.R_br, f.R_cut)
    n_unit_K1 = _bessel_fourier_at_sun(1.0, f.R_gal, f.H, f.r_sun, f.z_s)  # K = 1 kpc^2/Myr
    exact = F * n_unit_K1 / K
    got = sol.raw.psi[0, ::4, 0]
    assert np.max(np.abs(got / exact - 1)) < 1e-3
    # the 1/K law itself: D ~ R^0.33 makes psi/F fall by 10^(4 x 0.33) over 4 decades
    assert (got[0] / F[0]) / (got[-1] / F[-1]) == pytest.approx(K[-1] / K[0], rel=1e-6)


# -- leaky box / weighted slab ----------------------------------------------------------------
def test_secondary_to_primary_matches_leaky_box():
    """Primary C12 -> secondary B10 with constant cross sections, no energy change, halo
    much thinner than the source's radial scale (slab limit): B/C per unit Ekn =
    (X/m) sigma_CB / (1 + (X/m) sigma_B), X/m = h n_H H v / K (column of target atoms
    crossed, Jones et al. 2001).  Issue 3 asks <= 2 %; measured 6e-4 (the residual is the
    radial escape, (k H)^2/3 per Bessel mode), held here to 0.5 %."""
    h, H, n_H = 0.01, 0.3, 2000.0  # kpc, kpc, cm^-3: X ~ 1-10 g/cm^2
    sig_C, sig_B, sig_CB = 250.0, 200.0, 60.0  # mb
    model = PropagationModel(
        v_A=0 * u.km / u.s,
        H=H * u.kpc,
        h=h * u.kpc,
        z_s=1e-3 * u.kpc,
        ekn_min=0.5 * u.GeV,
        ekn_max=1e4 * u.GeV,
        points_per_decade=4,
    )
    net = ToyNetwork(["C12", "B10"], [sig_C, sig_B], {(0, 1): sig_CB}, [1.0, 0.0])
    disk = SimpleNamespace(h_kpc=h, n_H=n_H, n_He=0.0)
    sol = solve(model, network=net, disk=disk, loss_rate=_no_loss, norms=[0, 0, 1] * Q_UNIT)
    ekn = np.array([1.0, 10.0, 100.0, 1e3])
    c12 = nuclide("C12")
    p = momentum_from(ekn, "Ekn", c12.Z, c12.A, c12.mass_GeV)
    beta = beta_of_momentum(p, c12.mass_GeV)
    K = model.diffusion.kpc2_Myr(p / c12.Z, beta)  # [kpc^2/Myr]
    x_over_m = h * H * n_H * beta * C_CM_MYR / K * MB_CM2  # [1/mb]
    expected = x_over_m * sig_CB / (1.0 + x_over_m * sig_B)
    got = sol.ratio("B10", "C12", ekn * u.GeV, at="lis")
    assert expected[0] > 0.2 and expected[-1] < 0.15  # near saturation sigma_CB/sigma_B = 0.3, then thin
    np.testing.assert_allclose(got, expected, rtol=5e-3)


# -- momentum operator: losses only, reacceleration only --------------------------------------
def _delta_injection(p, j0_, C, b, D):
    """Steady psi for Q = 1 particle per Myr injected in cell j0_ (energy module)."""
    _, width, _ = energy.geometry(p)
    q = np.zeros((1, p.size, 1))
    q[0, j0_, 0] = 1.0 / width[j0_]
    psi = energy.solve(energy.assemble(p, np.full((1, p.size), C), b, D), q)[0, :, 0]
    return psi, width


def test_losses_only_delta_injection_conserves_number():
    """Losses b = b0 p^2 only (no escape, C = 0): below the injection momentum p0 the
    steady flux b psi equals the injection rate Q in every cell (particles are only moved
    down), above it psi = 0."""
    p = np.geomspace(1e-2, 1e3, 5 * 40 + 1)
    j0_ = np.argmin(np.abs(p - 100.0))
    b = 0.3 * p**2  # [GeV/Myr]
    psi, _ = _delta_injection(p, j0_, 0.0, b, np.zeros((1, p.size)))
    assert np.all(psi[j0_ + 1 :] == 0.0)
    below = slice(1, j0_ - 5)  # 6+ cells below p0: the upwind start-up error decays 3x per cell
    np.testing.assert_allclose(b[below] * psi[below], 1.0, rtol=2e-3)


def test_losses_with_catastrophic_sink_follow_exponential_depletion():
    """b = b0 p and a catastrophic rate C: psi(p) = Q/(b0 p) (p/p0)^(C/b0) below p0, and
    the particles removed (sum C psi w) plus those leaving the bottom (Q (p_min/p0)^(C/b0))
    add up to Q."""
    b0, C = 0.5, 0.4
    p = np.geomspace(1e-2, 1e2, 4 * 40 + 1)
    j0_ = np.argmin(np.abs(p - 10.0))
    p0 = p[j0_]
    psi, w = _delta_injection(p, j0_, C, b0 * p, np.zeros((1, p.size)))
    cells = slice(40, j0_ - 2)
    exact = (p / p0) ** (C / b0) / (b0 * p)
    np.testing.assert_allclose(psi[cells], exact[cells], rtol=2e-2)
    removed = np.sum(C * psi * w)
    assert removed + (p[0] / p0) ** (C / b0) == pytest.approx(1.0, rel=2e-2)


def test_reacceleration_only_delta_injection_spreads_as_power_laws():
    """D_pp = d p^2 (Seo & Ptuskin form at fixed K) with escape C: a delta injection at p0
    spreads to psi ~ (p/p0)^-s+ above and (p/p0)^-s- below, s = (-1 +- sqrt(9 + 4C/d))/2,
    and no particle is created or lost by the momentum diffusion: sum C psi w = Q."""
    d, C = 0.1, 0.8  # 1/Myr
    p = np.geomspace(1e-4, 1e4, 8 * 40 + 1)
    j0_ = np.argmin(np.abs(p - 1.0))
    psi, w = _delta_injection(p, j0_, C, np.zeros(p.size), (d * p**2)[None])
    root = np.sqrt(9.0 + 4.0 * C / d)
    s_up, s_down = (-1.0 + root) / 2.0, (-1.0 - root) / 2.0
    slope = lambda lo, hi: -np.log(psi[hi] / psi[lo]) / np.log(p[hi] / p[lo])  # noqa: E731
    up = np.argmin(np.abs(p - 3.0)), np.argmin(np.abs(p - 30.0))
    down = np.argmin(np.abs(p - 0.03)), np.argmin(np.abs(p - 0.3))
    assert slope(*up) == pytest.approx(s_up, rel=1e-2)
    assert slope(*down) == pytest.approx(s_down, rel=1e-2)
    assert np.sum(C * psi * w) == pytest.approx(1.0, rel=1e-10)


# -- grid convergence ---------------------------------------------------------------------------
def test_bc_at_10_GV_converges_when_steps_are_halved():
    """The coarsest production grid (paper config: 14 points/decade, 40 Bessel modes) against
    halved steps (28 points/decade, 80 modes): B/C at R = 10 GV moves by < 1 % (issue 3),
    at Earth and in the LIS (measured: 0.02 % and 0.07 %)."""
    network = build_network(heaviest="O16" if REDUCED else "Fe56")
    kw = dict(network=network, norms=[1, 1, 1] * Q_UNIT)
    coarse = solve(PropagationModel(points_per_decade=14, n_modes=40), **kw)
    fine = solve(PropagationModel(points_per_decade=28, n_modes=80), **kw)
    R = 10 * u.GV
    for at in ("earth", "lis"):
        a, b = coarse.ratio("B", "C", R, "R", at), fine.ratio("B", "C", R, "R", at)
        assert abs(a / b - 1) < 1e-2
        assert 0.1 < b < 0.5


# -- bad parameters -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, word",
    [
        (dict(D0=-3.2e28 * u.cm**2 / u.s), "D0"),
        (dict(D0=np.nan * u.cm**2 / u.s), "D0"),
        (dict(delta=0.0), "delta"),
        (dict(delta=1.0), "delta"),
        (dict(delta=-0.3), "delta"),
        (dict(delta=1.5), "delta"),
        (dict(delta=np.nan), "delta"),
        (dict(H=0 * u.kpc), "H"),
        (dict(H=-4.5 * u.kpc), "H"),
        (dict(H=np.nan * u.kpc), "H"),
        (dict(v_A=np.nan * u.km / u.s), "v_A"),
        (dict(nu2=np.nan), "nu2"),
    ],
)
def test_bad_parameters_raise_naming_them(kw, word):
    with pytest.raises(InputError, match=word):
        PropagationModel(**kw)


def test_empty_network_raises_before_solving(monkeypatch):
    def forbidden(*args):
        raise AssertionError("a linear system was solved")

    monkeypatch.setattr(energy, "solve", forbidden)
    with pytest.raises(CrkneeError, match="nuclide"):
        solve(PropagationModel(species=()))
    with pytest.raises(InputError, match="no nuclide"):
        solve(
            PropagationModel(),
            network=ToyNetwork([], [], {}, []),
            disk=SimpleNamespace(h_kpc=0.1, n_H=1.0, n_He=0.1),
            loss_rate=_no_loss,
            norms=[1, 1, 1] * Q_UNIT,
        )
    with pytest.raises(InputError, match="source_abundance"):
        solve(
            PropagationModel(),
            network=ToyNetwork(["C12"], [250.0], {}, [np.nan]),
            disk=SimpleNamespace(h_kpc=0.1, n_H=1.0, n_He=0.1),
            loss_rate=_no_loss,
            norms=[1, 1, 1] * Q_UNIT,
        )
