"""Periodic parameters (Galactic longitude without walls): configuration, wrapping, the
circular DE move, emcee on a posterior centred on the anti-centre (l = 180 deg, the old
wall), the circular summary and the re-centred corner plot."""

import logging
import warnings

import numpy as np
import pytest
from scipy.stats import vonmises

from crknee.errors import ConfigError
from crknee.fit.likelihood import wrapped_difference_deg
from crknee.fit.parameters import ParameterSet
from crknee.fit.sampler import CircularDEMove, NotConvergedWarning, SamplerSettings, run
from crknee.fit.summary import circular_mean, posterior_table, read_chain, unwrap_about_mean

UNITS = {"l_deg": "deg", "d_kpc": "kpc"}
#: von Mises concentration of the test posterior in l: sigma ~ 1/sqrt(kappa) = 20 deg
KAPPA = 8.0


def _ps(l_value=180.0, **l_over):
    return ParameterSet.from_config(
        {
            "l_deg": {"value": l_value, "min": -180.0, "max": 180.0, "periodic": True, **l_over},
            "d_kpc": {"value": 2.6, "min": 0.1, "max": 10.0},
        },
        UNITS,
    )


class AntiCentre:
    """Vectorised log-posterior: von Mises in l centred on ``mu_deg`` x normal N(2.6, 0.4) in d,
    on the parameters' prior (the exact target of the tests)."""

    def __init__(self, parameters, mu_deg=180.0):
        self.parameters, self.mu = parameters, np.deg2rad(mu_deg)

    def log_likelihood(self, theta):
        theta = np.atleast_2d(theta)
        return KAPPA * np.cos(np.deg2rad(theta[:, 0]) - self.mu) - 0.5 * ((theta[:, 1] - 2.6) / 0.4) ** 2

    def __call__(self, theta):
        lp = self.parameters.log_prior(theta)
        ok = np.isfinite(lp)
        lp[ok] += self.log_likelihood(np.atleast_2d(theta)[ok])
        return lp


def exact_interval_deg():
    """Central 68.27 % interval of the von Mises half-widths [deg] (symmetric)."""
    return float(np.rad2deg(vonmises.ppf(0.5 + 0.6826894921370859 / 2, KAPPA)))


def check_anti_centre_summary(samples, logp, ps, tol_deg, rel=0.08):
    """The posterior centred on 180 deg is whole and unbiased, with the right 68 % width."""
    l = samples[:, 0]
    assert np.all((l >= -180.0) & (l < 180.0))
    assert abs(wrapped_difference_deg(circular_mean(l, -180.0, 360.0), 180.0)) < tol_deg
    # not split: the two sides of the old wall hold half of the posterior each
    assert np.mean(l > 0) == pytest.approx(0.5, abs=0.05)
    row = posterior_table(samples, logp, ps)[0]
    assert abs(wrapped_difference_deg(row["median"], 180.0)) < tol_deg
    half = exact_interval_deg()
    assert row["minus"] == pytest.approx(half, rel=rel) and row["plus"] == pytest.approx(half, rel=rel)
    # the interval straddles the wall: p16 on the positive side, p84 on the negative
    assert row["p16"] == pytest.approx(180.0 - row["minus"], abs=tol_deg)
    assert row["p84"] == pytest.approx(-180.0 + row["plus"], abs=tol_deg)
    assert row["width_ratio"] == pytest.approx(2 * half / (0.6826894921370859 * 360.0), rel=rel)
    assert not row["at_prior_edge"] and not row["prior_dominated"]
    assert -180.0 <= row["map"] < 180.0


def test_periodic_configuration():
    ps = _ps()
    assert ps.free[0].periodic and ps.free[0].value == -180.0  # max is min, one period on
    assert ps.free[0].period == 360.0
    with pytest.raises(ConfigError, match="l_deg.periodic must be true or false"):
        _ps(periodic="yes")
    with pytest.raises(ConfigError, match="periodic parameter takes prior = 'uniform'"):
        _ps(prior="gaussian", mu=0.0, sigma=10.0)


def test_wrap_prior_and_start_ball_have_no_wall():
    ps = _ps()
    x = np.array([[190.0, 2.0], [-540.0, 2.0], [180.0, 2.0], [-180.0, 2.0]])
    assert ps.wrap(x)[:, 0].tolist() == [-170.0, -180.0, -180.0, -180.0]
    assert ps.full(x)[:, 0].tolist() == [-170.0, -180.0, -180.0, -180.0]
    assert np.all(ps.log_prior(x) == 0.0)  # a periodic coordinate is never outside
    assert np.isneginf(ps.log_prior([[0.0, 11.0]])[0])
    # a ball around 180 deg straddles the wall, wrapped, symmetric about it
    ball = ps.initial(np.random.default_rng(0), 2000, "ball", 0.05)
    assert np.all((ball[:, 0] >= -180.0) & (ball[:, 0] < 180.0))
    assert np.all(np.abs(wrapped_difference_deg(ball[:, 0], 180.0)) <= 18.0 + 1e-9)
    assert np.mean(ball[:, 0] > 0) == pytest.approx(0.5, abs=0.05)


def test_circular_de_move_wraps_and_is_emcee_de_without_periodic():
    import emcee

    move = CircularDEMove([-180.0], [360.0], [0])
    move.setup(np.zeros((4, 2)))
    s = np.array([[179.0, 1.0], [-179.0, 1.0]])
    c = [np.array([[170.0, 0.0], [-170.0, 0.0]])]
    q, _ = move.get_proposal(s, c, np.random.RandomState(1))
    assert np.all((q[:, 0] >= -180.0) & (q[:, 0] < 180.0))
    # the two complementary walkers are 20 deg apart the short way: steps of gamma x 20 deg
    step = np.abs(wrapped_difference_deg(q[:, 0], s[:, 0]))
    assert step == pytest.approx(np.full(2, move.g0 * 20.0), rel=1e-3)
    # no periodic coordinate: emcee's DEMove, random number for random number
    ref, mine = emcee.moves.DEMove(), CircularDEMove([], [], [])
    coords = np.random.default_rng(2).normal(size=(16, 3))
    for m in (ref, mine):
        m.setup(coords)
    a = ref.get_proposal(coords[:8], [coords[8:]], np.random.RandomState(5))[0]
    b = mine.get_proposal(coords[:8], [coords[8:]], np.random.RandomState(5))[0]
    assert np.array_equal(a, b)


def test_stretch_move_refuses_a_periodic_parameter(tmp_path):
    ps = _ps()
    with pytest.raises(ConfigError, match="moves = 'stretch' cannot sample the periodic parameter 'l_deg'"):
        run(AntiCentre(ps), ps, SamplerSettings(nsteps=2, moves="stretch", progress=False), tmp_path / "c.h5")


def test_emcee_posterior_on_the_anti_centre_is_whole_and_unbiased(tmp_path):
    ps = _ps(l_value=150.0)  # start 30 deg away, on one side of the wall
    settings = SamplerSettings(nwalkers=32, nsteps=2500, seed=3, check_every=500, n_tau=50, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        res = run(AntiCentre(ps), ps, settings, tmp_path / "chain.h5")
    samples, logp, names = read_chain(tmp_path / "chain.h5", res.tau)
    assert names == ["l_deg", "d_kpc"]
    assert res.n_tau_reached > 50  # the wrapped DE move mixes across the wall
    check_anti_centre_summary(samples, logp, ps, tol_deg=2.0)


def test_unwrap_about_mean():
    x = np.array([170.0, -175.0, 178.0, -179.0])
    y, m = unwrap_about_mean(x, -180.0, 360.0)
    assert abs(wrapped_difference_deg(m, 178.5)) < 0.1
    assert y.tolist() == [170.0, 185.0, 178.0, 181.0]


def test_corner_recentres_periodic_and_is_quiet_for_sparse_samples(tmp_path, monkeypatch, recwarn, caplog):
    import corner

    from crknee.plots.fit import corner_figure

    seen = {}
    real = corner.corner

    def spy(data, **kw):
        seen["data"], seen["kw"] = np.array(data), kw
        return real(data, **kw)

    monkeypatch.setattr(corner, "corner", spy)
    ps = _ps()
    rng = np.random.default_rng(8)
    samples = np.column_stack([np.rad2deg(rng.vonmises(np.pi, KAPPA, 60)), rng.normal(2.6, 0.4, 60)])
    with caplog.at_level(logging.WARNING):
        written = corner_figure(samples, ps, tmp_path / "corner.png", truth=[179.0, 2.6])
    assert [p.suffix for p in written] == [".png", ".pdf"]
    l = seen["data"][:, 0]
    # drawn on one period around 180 deg: one connected cluster, not two halves at +-180
    assert np.ptp(l) < 180.0 and abs(wrapped_difference_deg(np.median(l), 180.0)) < 10.0
    truth = seen["kw"]["truths"][0]
    assert abs(wrapped_difference_deg(truth, 179.0)) < 1e-9 and l.min() < truth < l.max()
    assert "mod 360" in seen["kw"]["labels"][0]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert not [w for w in recwarn.list if "contour" in str(w.message).lower()]


def test_autocorrelation_time_of_a_chain_across_the_wall():
    """An AR(1) chain x_t = rho x_(t-1) + noise around 180 deg (sd 20 deg), stored wrapped
    into [-180, 180): tau = (1 + rho) / (1 - rho) = 19 exactly; the wrapped series, whose
    wall crossings look like jumps of 360 deg, would give a much shorter one."""
    from emcee.autocorr import integrated_time

    from crknee.fit.sampler import autocorr_time

    rho, n, walkers = 0.9, 20_000, 8
    rng = np.random.default_rng(4)
    x = np.empty((n, walkers))
    x[0] = rng.normal(0.0, 20.0, walkers)
    noise = rng.normal(0.0, 20.0 * np.sqrt(1 - rho**2), (n, walkers))
    for t in range(1, n):
        x[t] = rho * x[t - 1] + noise[t]
    chain = np.stack([np.mod(x + 360.0, 360.0) - 180.0, x / 20.0], axis=2)  # l wrapped, a dimensionless copy

    class Backend:
        def get_chain(self):
            return chain.copy()

    tau = autocorr_time(Backend(), _ps())
    assert tau == pytest.approx([19.0, 19.0], rel=0.1)
    assert integrated_time(chain, tol=0)[0] < 0.7 * 19.0
