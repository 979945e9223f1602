"""Exact-solution tests of the two kernels of the background solver.

* halo: the Bessel-mode vertical reduction (M01 App. A) against a direct numerical
  solution of the z boundary-value problem (scipy.integrate.solve_bvp);
* energy: the finite-volume momentum operator against closed-form power-law solutions
  with losses b = b0 p and with momentum diffusion D = d p^2, plus exact particle
  conservation and second-order convergence.
"""

import numpy as np
import pytest
from scipy.integrate import quad, solve_bvp

from crknee.propagation import energy, halo

L = 4.5


def _bvp_N0(K, V, k, G, src):
    """psi(0) of -K N'' + V N' + (K k^2 + G) N = src(z) on (0, L), K N'(0) = V N(0), N(L) = 0.

    This is the halo half of eq. (1) for one Bessel mode with a source spread in the halo
    and no disk term (the jump condition -2K N'(0+) + 2V N(0) = 0)."""
    z = np.linspace(0.0, L, 4001)

    def f(z, y):
        return np.vstack([y[1], (V * y[1] + (K * k**2 + G) * y[0] - src(z)) / K])

    def bc(ya, yb):
        return np.array([K * ya[1] - V * ya[0], yb[0]])

    sol = solve_bvp(f, bc, z, np.zeros((2, z.size)), tol=1e-10, max_nodes=200000)
    assert sol.success
    return sol.sol(0.0)[0]


@pytest.mark.parametrize("K,V,k,G", [(0.1, 0.0, 0.12, 0.0), (0.05, 0.02, 0.4, 0.0), (0.03, 0.01, 0.2, 0.3)])
def test_halo_source_reduction_matches_bvp(K, V, k, G):
    """N(0) = int_{-L}^{L} s g_adj dz / A  for s = exp(-|z|/z_s) (eq. 3 profile, z_s = 0.2 kpc)."""
    zs = 0.2
    a = V / (2 * K)
    b = np.sqrt(a * a + k * k + G / K)
    reduced = 2.0 * halo.integral(-a, b, L, -1.0 / zs) / halo.rate(K, V, b, L)
    exact = _bvp_N0(K, V, k, G, lambda z: np.exp(-z / zs))
    assert reduced == pytest.approx(exact, rel=1e-6)


@pytest.mark.parametrize("V", [0.0, 0.015])
def test_halo_decay_overlap_matches_bvp(V):
    """A radioactive parent of profile g_p decaying in the halo feeds its daughter through
    int g_p g_adj,child dz (Donato, Maurin & Taillet 2002): check against the BVP."""
    Kp, Kc, k, Gp = 0.04, 0.06, 0.15, 0.5
    ap, ac = V / (2 * Kp), V / (2 * Kc)
    bp = np.sqrt(ap * ap + k * k + Gp / Kp)
    bc = np.sqrt(ac * ac + k * k)
    reduced = 2.0 * Gp * halo.overlap(ap, bp, -ac, bc, L) / halo.rate(Kc, V, bc, L)
    exact = _bvp_N0(Kc, V, k, 0.0, lambda z: Gp * halo.profile(z, ap, bp, L))
    assert reduced == pytest.approx(exact, rel=1e-6)


def test_halo_profile_and_slope():
    """g(0) = 1, g(L) = 0, integral and slope against quadrature / finite differences."""
    a, b = 0.3, 1.7
    assert halo.profile(0.0, a, b, L) == pytest.approx(1.0)
    assert halo.profile(L, a, b, L) == pytest.approx(0.0, abs=1e-14)
    assert halo.integral(a, b, L) == pytest.approx(quad(lambda z: halo.profile(z, a, b, L), 0, L)[0], rel=1e-10)
    eps = 1e-6
    fd = (np.log(halo.profile(eps, a, b, L)) - np.log(halo.profile(0.0, a, b, L))) / eps
    assert halo.slope(a, b, L) == pytest.approx(fd, rel=1e-5)
    # large b L: no overflow, A -> V + 2 K b
    assert halo.rate(0.1, 0.0, 400.0, L) == pytest.approx(80.0)
    assert np.isfinite(halo.overlap(0.0, 400.0, 0.0, 300.0, L))


def _grid(n_per_decade, lo=0.1, hi=1e5):
    n = int(round(n_per_decade * np.log10(hi / lo))) + 1
    return np.geomspace(lo, hi, n)


def _loss_problem(p, s=2.7, C=0.5, b0=0.2):
    ab = energy.assemble(p, np.full((1, p.size), C), b0 * p, np.zeros((1, p.size)))
    psi = energy.solve(ab, (p**-s)[None, :, None])[0, :, 0]
    exact = p**-s / (b0 * (s - 1.0) + C)  # G = b psi = int_p^inf q (p/p')^(C/b0) dp'
    return psi, exact


@pytest.mark.parametrize("s", [2.2, 2.7, 3.2])
def test_energy_losses_exact_power_law(s):
    """C psi - d/dp(b0 p psi) = p^-s  =>  psi = p^-s / (b0 (s-1) + C): 14 points/decade
    reproduce it to < 0.2 % over the interior decades (slopes 0.5 away from S_REF)."""
    p = _grid(14)
    psi, exact = _loss_problem(p, s=s)
    inner = (p > 1.0) & (p < 1e3)
    err = np.max(np.abs(psi[inner] / exact[inner] - 1))
    assert err < (1e-9 if s == energy.S_REF else 2e-3)


def test_energy_losses_second_order():
    errs = []
    for n in (8, 16, 32):
        p = _grid(n)
        psi, exact = _loss_problem(p, s=3.5)
        at = np.argmin(np.abs(p - 10.0))
        errs.append(abs(psi[at] / exact[at] - 1))
    assert errs[0] / errs[1] > 3.0 and errs[1] / errs[2] > 3.0


@pytest.mark.parametrize("s", [2.2, 3.2])
def test_energy_reacceleration_exact_power_law(s):
    """C psi - d/dp[p^2 d p^2 d/dp(psi/p^2)] = p^-s  =>  psi = p^-s / (C - d (s+2)(s-1)),
    to < 0.5 % at 14 points/decade (reacceleration term ~ 20-50 % of C here)."""
    C, d = 1.0, 0.05
    p = _grid(14, 1e-3, 1e7)
    ab = energy.assemble(p, np.full((1, p.size), C), np.zeros(p.size), (d * p * p)[None])
    psi = energy.solve(ab, (p**-s)[None, :, None])[0, :, 0]
    exact = p**-s / (C - d * (s + 2) * (s - 1))
    inner = (p > 1e0) & (p < 1e4)
    assert np.max(np.abs(psi[inner] / exact[inner] - 1)) < 5e-3


def test_energy_operator_conserves_particles():
    """With zero-flux end faces, momentum diffusion moves particles but never loses any:
    sum_j C psi_j w_j = sum_j q_j w_j exactly (w = cell widths)."""
    p = _grid(10, 0.1, 1e4)
    rng = np.random.default_rng(1)
    C = rng.uniform(0.1, 1.0, (3, p.size))
    D = rng.uniform(0.1, 1.0, (3, p.size)) * p**2
    q = rng.uniform(0.0, 1.0, (3, p.size, 2))
    psi = energy.solve(energy.assemble(p, C, np.zeros(p.size), D), q)
    _, w, _ = energy.geometry(p)
    assert np.einsum("mn,mnk,n->mk", C, psi, w) == pytest.approx(np.einsum("mnk,n->mk", q, w), rel=1e-10)
    assert np.all(psi >= 0)


def test_energy_modes_are_independent():
    """Stacking modes in one banded system must not couple neighbouring blocks."""
    p = _grid(10, 0.1, 1e3)
    C = np.array([[0.3] * p.size, [0.7] * p.size])
    b = 0.1 * p
    D = 0.02 * p**2 * np.ones((2, 1))
    q = np.zeros((2, p.size, 1))
    q[0, :, 0] = p**-2.5
    both = energy.solve(energy.assemble(p, C, b, D), q)
    alone = energy.solve(energy.assemble(p, C[:1], b, D[:1]), q[:1])
    assert np.all(both[1] == 0.0)
    np.testing.assert_allclose(both[0], alone[0], rtol=1e-12)


def _band(A):
    """solve_banded layout (l=1, u=2) of a dense matrix."""
    n = A.shape[0]
    ab = np.zeros((4, n))
    for i in range(n):
        for j in range(max(0, i - 1), min(n, i + 3)):
            ab[2 + i - j, j] = A[i, j]
    return ab


def test_band_elimination_exact_solution():
    """The compiled elimination solves a band system with a known solution to rounding,
    and leaves ``ab`` untouched (it is reused for every right-hand side)."""
    rng = np.random.default_rng(7)
    n = 40
    A = np.diag(rng.uniform(2.0, 3.0, n)) + np.diag(rng.uniform(-1, 0, n - 1), -1)
    A += np.diag(rng.uniform(-0.5, 0.5, n - 1), 1) + np.diag(rng.uniform(-0.4, 0.4, n - 2), 2)
    x = rng.normal(size=(1, n, 3))
    ab = _band(A)
    before = ab.copy()
    got = energy.solve(ab, np.einsum("ij,mjk->mik", A, x))
    np.testing.assert_allclose(got, x, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(ab, before)


def test_band_solve_pivots_where_elimination_cannot():
    """A zero leading pivot: the solve hands the system to LAPACK's pivoted band solver
    and still returns the exact solution."""
    A = np.array([[0.0, 1.0, 0.5, 0.0], [2.0, 1.0, 0.0, 0.3], [0.0, 1.0, 3.0, 1.0], [0.0, 0.0, 1.0, 4.0]])
    x = np.array([1.0, -2.0, 0.5, 3.0])
    assert not energy._eliminate(_band(A), (A @ x)[:, None], np.empty((4, 1)))
    np.testing.assert_allclose(energy.solve(_band(A), (A @ x)[None, :, None])[0, :, 0], x, rtol=1e-13)


@pytest.mark.parametrize("changes", [{}, {"v_A": 80.0, "V_c": 40.0}, {"eta": -2.0, "v_A": 60.0}])
def test_band_elimination_equals_lapack_on_the_network(monkeypatch, changes):
    """Every nuclide's mode amplitudes of a whole-network solve (up to Fe56, fit
    resolution; strong reacceleration, convection, eta < 0) agree with LAPACK's pivoted
    band solver to 1e-11."""
    import astropy.units as u
    from scipy.linalg import solve_banded

    from crknee.propagation import PreparedSolver, fit_resolution_model

    ps = PreparedSolver(fit_resolution_model(heaviest="Fe56"))
    kw = {k: (v * u.km / u.s if k in ("v_A", "V_c") else v) for k, v in changes.items()}
    compiled = ps.solve(**kw).raw.modes

    def lapack(ab, rhs):
        m, n, k = rhs.shape
        return solve_banded((1, 2), ab, rhs.reshape(m * n, k), check_finite=False).reshape(m, n, k)

    monkeypatch.setattr(energy, "solve", lapack)
    reference = ps.solve(**kw).raw.modes
    live = np.abs(reference) > 1e-280
    assert np.array_equal(live, np.abs(compiled) > 1e-280)
    np.testing.assert_allclose(compiled[live], reference[live], rtol=1e-11)


@pytest.mark.parametrize("L", [1.0, 4.5, 15.0])
def test_adjoint_overlap_closed_form(L):
    """int g g_adj dz in closed form equals the quadrature of the profiles, for any a, from
    the series branch (b L < 1e-3) to b L = 200."""
    for b in (1e-5 / L, 0.9e-3 / L, 1.1e-3 / L, 0.01, 0.3, 2.0, 200.0 / L):
        for a in (0.0, 0.2, -0.7):
            exact = quad(lambda z: halo.profile(z, a, b, L) * halo.profile(z, -a, b, L), 0, L, epsrel=1e-13)[0]
            assert halo.overlap_adjoint(b, L) == pytest.approx(exact, rel=2e-9)
