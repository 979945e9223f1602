"""crknee.fit.propagation: covariance and likelihood algebra, cross-section nuisances in the
solve, injection-recovery, and the one-line errors of bad input."""

import numpy as np
import pytest
from scipy.integrate import quad

from crknee.errors import ConfigError
from crknee.fit.propagation.covariance import covariance
from crknee.fit.propagation.likelihood import CorrelatedGaussian, marginal_linear
from crknee.fit.propagation.mock import mock_problem
from crknee.fit.propagation.model import problem_from_settings
from crknee.fit.propagation.settings import load_settings

#: A coarse, small problem (C12-and-lighter network): B/C and the C spectrum, 5-500 GV.
_COARSE = {"heaviest": "C12", "n_modes": 4, "points_per_decade": 6, "ekn_min_GeV": 0.1, "ekn_max_GeV": 3.0e3}
_DATA = [
    {"name": "bc/AMS02_2021_PhysRep", "window_GV": [5.0, 500.0]},
    {"name": "nuclei/AMS02_C", "window_GV": [5.0, 500.0]},
]


def _fixed(settings, keep):
    for name, spec in settings["parameters"].items():
        if name not in keep:
            spec = {k: v for k, v in spec.items() if k not in ("mu", "sigma")}
            settings["parameters"][name] = {**spec, "prior": "fixed"}
    return settings


def _coarse(keep=("D0_1e28_cm2_s",), **changes):
    s = load_settings()
    s.update(_COARSE, datasets=list(_DATA), **changes)
    return _fixed(s, keep)


# -- covariance and likelihood ------------------------------------------------------------


def test_correlated_chi2_is_the_diagonal_chi2_for_a_diagonal_covariance():
    rng = np.random.default_rng(1)
    R = np.geomspace(2.0, 2000.0, 40)
    stat, sys = rng.uniform(0.01, 0.1, 40), rng.uniform(0.01, 0.1, 40)
    C = covariance(R, stat, sys, 0.0)
    assert np.array_equal(C, np.diag(stat**2 + sys**2))
    r = rng.normal(size=40)
    assert CorrelatedGaussian(C).chi2(r) == pytest.approx(np.sum(r**2 / (stat**2 + sys**2)), rel=1e-13)


@pytest.mark.parametrize("kernel", ["exponential", "gaussian"])
def test_correlated_chi2_is_r_Cinv_r(kernel):
    rng = np.random.default_rng(2)
    R = np.geomspace(2.0, 2000.0, 30)
    stat, sys = rng.uniform(0.01, 0.05, 30), rng.uniform(0.02, 0.1, 30)
    C = covariance(R, stat, sys, 0.3, kernel)
    # sys fully correlated between equal rigidities, stat never
    assert np.allclose(np.diag(C), stat**2 + sys**2)
    x = np.abs(np.log10(R[0] / R[1])) / 0.3
    rho = np.exp(-x) if kernel == "exponential" else np.exp(-0.5 * x * x)
    assert C[0, 1] == pytest.approx(sys[0] * sys[1] * rho, rel=1e-12)
    r = rng.normal(size=30) * 0.05
    assert CorrelatedGaussian(C).chi2(r) == pytest.approx(r @ np.linalg.solve(C, r), rel=1e-9)


def test_linear_marginalisation_equals_the_integral_over_the_amplitude():
    """-2 ln int exp(-chi2(q)/2) dq = chi2(q_hat) + ln F - ln(2 pi) for one amplitude."""
    rng = np.random.default_rng(3)
    m = rng.uniform(0.5, 2.0, 12)
    d = 1.7 * m + rng.normal(size=12) * 0.3
    chi2_min, logdet, q = marginal_linear(d, m[:, None])
    assert q[0] == pytest.approx(np.sum(m * d) / np.sum(m * m), rel=1e-12)
    integral, _ = quad(lambda a: np.exp(-0.5 * (np.sum((d - a * m) ** 2) - chi2_min)), q[0] - 5, q[0] + 5)
    assert -2 * np.log(integral) == pytest.approx(logdet - np.log(2 * np.pi), abs=1e-8)


# -- nuisances in the solve --------------------------------------------------------------


def test_boron_production_nuisance_scales_the_boron_production_exactly():
    """In the C12-and-lighter network 11B is fed only by 12C (cumulative GALPROP17 table) and
    is not injected: scaling every channel into B by 1.2 scales 11B by exactly 1.2 at every
    rigidity and leaves 12C unchanged; 10B rises by more (11B -> 10B is a B -> B channel, so
    1.2 x 1.2 on that part) and 10Be, fed by 11B, by a little (tertiary)."""
    import astropy.units as u

    p = problem_from_settings(_coarse(keep=("D0_1e28_cm2_s", "xs_B")))
    names = p.parameters.names
    base = p.parameters.full(p.parameters.truth())[0]
    scaled = base.copy()
    scaled[names.index("xs_B")] = 1.2
    (s0, _), (s1, _) = p.model.solution(base), p.model.solution(scaled)
    R = np.geomspace(5.0, 2000.0, 7) * u.GV

    def ratio(name):
        return s1.lis(name, R, "R").value / s0.lis(name, R, "R").value

    assert np.allclose(ratio("B11"), 1.2, rtol=1e-10)
    assert np.allclose(ratio("C12"), 1.0, rtol=1e-12)
    assert np.all((ratio("B10") > 1.2) & (ratio("B10") < 1.44))
    assert np.all((ratio("Be10") > 1.0) & (ratio("Be10") < 1.1))


# -- injection-recovery ------------------------------------------------------------------


def test_injection_recovery_of_D0_within_68_percent():
    """Mock B/C + C made by the solver at D0 = 3.2e28 cm^2/s with AMS-02 errors (correlated
    systematics); the exact 1-D posterior of D0 on a grid contains the truth in its central
    68 % interval in at least 5 of 10 trials (expected 6.8; binomial P(<= 4) = 3 %)."""
    p = problem_from_settings(_coarse())
    truth = p.parameters.full(p.parameters.truth())[0]
    grid = np.linspace(2.6, 3.9, 27)
    inside = 0
    for seed in range(10):
        mp = mock_problem(p, truth, np.random.default_rng(seed))
        names = mp.parameters.names
        logL = []
        for v in grid:
            vals = truth.copy()
            vals[names.index("D0_1e28_cm2_s")] = v
            logL.append(mp.model.evaluate(vals)["loglike"])
        w = np.exp(np.array(logL) - max(logL))
        cdf = np.cumsum(w) / np.sum(w)
        lo, hi = np.interp([0.1587, 0.8413], cdf, grid)
        assert grid[0] < lo and hi < grid[-1]  # the posterior lies inside the grid
        inside += lo <= 3.2 <= hi
    assert inside >= 5


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda s: s["datasets"].append({"name": "anisotropy/KASCADE-Grande_2019"}),
            "propagation_fit.datasets[2].name: dataset 'anisotropy/KASCADE-Grande_2019' "
            "is in quantity family 'anisotropy'",
        ),
        (
            lambda s: s["datasets"].append({"name": "ratio/AMS02_Fe_O"}),
            "propagation_fit.datasets[2].name: ratio/AMS02_Fe_O needs 'Fe', which is not in the fit's network",
        ),
        (
            lambda s: s["parameters"].update(
                xs_B={"value": 1.0, "min": 0.4, "max": 1.8, "prior": "gaussian", "mu": 1.0, "sigma": 0.0}
            ),
            "propagation_fit.parameters.xs_B.sigma must be > 0; got 0.0",
        ),
        (
            lambda s: s["parameters"].update(a_Fe={"value": 1.0, "min": 0.2, "max": 3.0}),
            "propagation_fit.parameters.a_Fe is free but the fit's network (up to C12) holds no Fe",
        ),
        (
            lambda s: s["datasets"].append({"name": "ratio/AMS02_H_He"}),
            "ratio/AMS02_H_He is a ratio across primary groups (H in H, He in He)",
        ),
    ],
)
def test_bad_input_is_one_line_naming_it(change, message):
    s = _coarse()
    change(s)
    with pytest.raises(ConfigError) as exc:
        problem_from_settings(s)
    assert message in str(exc.value) and "\n" not in str(exc.value)


# -- observables at Earth, MAP, proposal ---------------------------------------------------


def test_projection_equals_solution_earth_and_ratio():
    """The plain-float observables of the fit's hot loop (crknee.fit.propagation.projection)
    are Solution.earth / Solution.ratio (force field, isotopes summed, per unit R) to 1e-12."""
    import astropy.units as u

    from crknee.propagation.solution import Q_UNIT

    s = _coarse()
    s["datasets"] = [*_DATA, {"name": "ratio/AMS02_Be_B", "window_GV": [5.0, 500.0]}]
    p = problem_from_settings(s)
    m = p.model
    sol, phi = m.solution(p.parameters.full(p.parameters.truth()[None])[0])
    for k, o in enumerate(m.observables):
        R = o.R_GV * u.GV
        if o.kind == "ratio":
            ref = sol.ratio(o.species[0], o.species[1], R, "R", "earth", phi * u.MV)
        else:
            ref = np.stack(
                [
                    sol.with_norms(e * Q_UNIT).earth(o.species[0], R, "R", phi * u.MV).to_value(o.unit)
                    for e in np.eye(3)
                ],
                axis=1,
            )
            ref = np.where(ref > 1e-250, ref, 0.0)
        np.testing.assert_allclose(m.predict(sol, k, phi), ref, rtol=1e-12, atol=0.0)


def test_map_search_finds_the_maximum_of_a_gaussian_with_an_active_bound():
    """L-BFGS-B in the prior box: a Gaussian posterior centred inside in one parameter and
    outside (above max) in the other peaks at (centre, max)."""
    from crknee.fit.parameters import Parameter, ParameterSet
    from crknee.fit.propagation.start import maximum_a_posteriori

    ps = ParameterSet([Parameter("a", "", 0.0, -5.0, 5.0), Parameter("b", "", 0.0, -1.0, 1.0)])
    centre = np.array([1.3, 2.0])

    def log_post(theta):
        return -0.5 * np.sum(((np.atleast_2d(theta) - centre) / np.array([0.7, 0.5])) ** 2, axis=1)

    best, lp = maximum_a_posteriori(log_post, ps, 600)
    np.testing.assert_allclose(best, [1.3, 1.0], atol=1e-4)
    assert lp == pytest.approx(-0.5 * (1.0 / 0.5) ** 2, abs=1e-6)


def test_laplace_covariance_of_a_gaussian_is_its_covariance():
    from crknee.fit.parameters import Parameter, ParameterSet
    from crknee.fit.propagation.proposal import laplace_covariance

    ps = ParameterSet([Parameter(n, "", 0.0, -10.0, 10.0) for n in "abc"])
    C = np.array([[1.0, 0.6, -0.2], [0.6, 2.0, 0.3], [-0.2, 0.3, 0.5]])
    P = np.linalg.inv(C)
    mu = np.array([0.5, -1.0, 2.0])

    def log_post(theta):
        d = np.atleast_2d(theta) - mu
        return -0.5 * np.einsum("ni,ij,nj->n", d, P, d)

    np.testing.assert_allclose(laplace_covariance(log_post, ps, mu), C, rtol=1e-6, atol=1e-8)


def test_independence_move_samples_the_target_whatever_its_proposal():
    """Detailed balance of the independence Metropolis-Hastings move (Hastings ratio with
    q(x)/q(x')): with a proposal centred off the target and with the wrong covariance,
    emcee with only this move reproduces a correlated Gaussian target's mean and covariance."""
    import emcee

    from crknee.fit.propagation.proposal import IndependenceMove

    C = np.array([[1.0, 0.8], [0.8, 1.0]])
    P, mu = np.linalg.inv(C), np.array([1.0, -2.0])

    def log_prob(x):
        d = np.atleast_2d(x) - mu
        return -0.5 * np.einsum("ni,ij,nj->n", d, P, d)

    move = IndependenceMove(mu + np.array([0.5, 0.3]), np.diag([2.0, 0.8]))
    s = emcee.EnsembleSampler(16, 2, log_prob, vectorize=True, moves=[(move, 1.0)])
    s.random_state = np.random.RandomState(np.random.MT19937(3)).get_state()
    s.run_mcmc(move.draw(np.random.default_rng(4), 16), 3000, progress=False)
    x = s.get_chain(discard=200, flat=True)
    np.testing.assert_allclose(x.mean(axis=0), mu, atol=0.06)
    np.testing.assert_allclose(np.cov(x.T), C, atol=0.08)


def test_saved_proposal_is_reused_only_for_the_same_problem(tmp_path):
    from crknee.fit.propagation.proposal import IndependenceMove
    from crknee.fit.propagation.run import load_proposal, save_proposal

    p = problem_from_settings(_coarse(keep=("D0_1e28_cm2_s", "delta")))
    move = IndependenceMove([3.0, 0.4], [[0.04, 0.001], [0.001, 0.0004]])
    save_proposal(tmp_path / "proposal.json", p, move)
    back = load_proposal(tmp_path / "proposal.json", p)
    np.testing.assert_array_equal(back.mean, move.mean)
    np.testing.assert_array_equal(back.cov, move.cov)
    other = problem_from_settings(_coarse(keep=("D0_1e28_cm2_s", "delta"), sys_correlation_length_dex=0.1))
    assert load_proposal(tmp_path / "proposal.json", other) is None
    (tmp_path / "proposal.json").write_text("{not json", encoding="utf-8")
    assert load_proposal(tmp_path / "proposal.json", p) is None
