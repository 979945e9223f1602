"""crknee.fit.parameters and crknee.fit.likelihood: priors, bounds, pieces, circular phases."""

import numpy as np
import pytest
from scipy.stats import norm

from crknee.errors import ConfigError
from crknee.fit.likelihood import Piece, wrapped_difference_deg
from crknee.fit.parameters import ParameterSet

UNITS = {"a_kpc": "kpc", "b_deg": "deg"}


def _spec(**over):
    spec = {
        "a_kpc": {"value": 1.0, "min": 0.0, "max": 2.0},
        "b_deg": {"value": 0.0, "min": -5.0, "max": 5.0, "prior": "gaussian", "mu": 0.0, "sigma": 1.0},
    }
    spec.update(over)
    return spec


def test_log_prior_is_vectorised_uniform_times_gaussian():
    ps = ParameterSet.from_config(_spec(), UNITS)
    lp = ps.log_prior([[1.0, 0.0], [1.5, 2.0], [2.5, 0.0], [1.0, -6.0]])
    assert lp[0] == 0.0
    assert lp[1] == pytest.approx(-2.0)  # -0.5 (2/1)^2
    assert np.isneginf(lp[2]) and np.isneginf(lp[3])


def test_prior_intervals():
    ps = ParameterSet.from_config(_spec(), UNITS)
    a, b = ps.parameters
    assert a.prior_interval() == pytest.approx((0.3173, 1.6827), abs=1e-4)
    # |b| < 5 sigma truncation is negligible: N(0, 1) 68 % interval
    assert b.prior_interval() == pytest.approx((-1.0, 1.0), abs=1e-6)


def test_fixed_parameter_is_not_sampled_but_passed_to_the_model():
    ps = ParameterSet.from_config(_spec(a_kpc={"value": 1.2, "min": 0.0, "max": 2.0, "prior": "fixed"}), UNITS)
    assert ps.free_names == ["b_deg"]
    assert ps.full([[0.3], [0.4]]).tolist() == [[1.2, 0.3], [1.2, 0.4]]


def test_initial_ball_and_prior_stay_in_bounds():
    ps = ParameterSet.from_config(_spec(a_kpc={"value": 2.0, "min": 0.0, "max": 2.0}), UNITS)
    rng = np.random.default_rng(1)
    for mode in ("ball", "prior"):
        x = ps.initial(rng, 200, mode, 0.05)
        assert x.shape == (200, 2) and np.all(np.isfinite(ps.log_prior(x)))


@pytest.mark.parametrize(
    "over, match",
    [
        ({"a_kpc": {"value": 1.0, "min": 2.0, "max": 2.0}}, "a_kpc: min"),
        ({"a_kpc": {"value": 1.0, "min": 3.0, "max": 2.0}}, "a_kpc: min"),
        ({"a_kpc": {"value": 5.0, "min": 0.0, "max": 2.0}}, "a_kpc.value"),
        ({"a_kpc": {"value": 1.0, "min": 0.0, "max": 2.0, "prior": "flat"}}, "a_kpc.prior"),
        ({"a_kpc": {"value": 1.0, "min": 0.0, "max": 2.0, "width": 1}}, "unknown key 'width'"),
        ({"b_deg": {"value": 0.0, "min": -5.0, "max": 5.0, "prior": "gaussian", "mu": 0.0, "sigma": 0.0}}, "sigma"),
        ({"b_deg": {"value": 0.0, "min": -5.0, "max": 5.0, "mu": 0.0}}, "only allowed"),
        ({"c": {"value": 0.0, "min": -5.0, "max": 5.0}}, "unknown parameter 'c'"),
    ],
)
def test_bad_parameter_config_names_the_key(over, match):
    with pytest.raises(ConfigError, match=match):
        ParameterSet.from_config(_spec(**over), UNITS)


def test_undeclared_parameter_is_an_error():
    spec = _spec()
    del spec["b_deg"]
    with pytest.raises(ConfigError, match="'b_deg' is not declared"):
        ParameterSet.from_config(spec, UNITS)


def test_wrapped_difference():
    assert wrapped_difference_deg(350.0, 10.0) == pytest.approx(-20.0)
    assert wrapped_difference_deg(10.0, 350.0) == pytest.approx(20.0)
    assert wrapped_difference_deg(190.0, 10.0) == pytest.approx(180.0)
    assert wrapped_difference_deg([725.0], [0.0]) == pytest.approx([5.0])


def _piece(obs="amplitude", y=(1.0,), lo=(0.1,), hi=(0.2,), ul=(False,), **kw):
    n = len(y)
    return Piece("t", obs, np.full(n, 1e6), np.array(y), np.array(lo), np.array(hi), np.array(ul), **kw)


def test_split_normal_uses_the_error_on_the_side_of_the_model():
    p = _piece()
    assert p.log_like([[1.4]])[0] == pytest.approx(-0.5 * (0.4 / 0.2) ** 2)
    assert p.log_like([[0.6]])[0] == pytest.approx(-0.5 * (0.4 / 0.1) ** 2)


def test_phase_residual_is_circular():
    p = _piece("phase", y=(355.0,), lo=(10.0,), hi=(10.0,))
    assert p.log_like([[5.0]])[0] == pytest.approx(-0.5)  # 10 deg away, not 350
    assert p.log_like([[5.0 + 360.0]])[0] == pytest.approx(-0.5)


def test_upper_limit_term():
    # a 95 % CL limit without an error: sigma = UL / 1.645
    p = _piece(y=(0.01,), lo=(0.0,), hi=(0.0,), ul=(True,), ul_cl=0.95)
    sig = 0.01 / norm.ppf(0.95)
    assert p.log_like([[0.0]])[0] == pytest.approx(np.log(norm.cdf(0.01 / sig)))
    assert p.log_like([[0.02]])[0] == pytest.approx(np.log(norm.cdf(-0.01 / sig)))
    assert p.log_like([[1e-9]])[0] > p.log_like([[0.01]])[0] > p.log_like([[0.03]])[0]


def test_piece_validation():
    with pytest.raises(ConfigError, match="non-positive error"):
        _piece(lo=(0.0,))
    with pytest.raises(ConfigError, match="needs a species"):
        _piece("flux")
    with pytest.raises(ConfigError, match="neither an energy nor a bin"):
        Piece("t", "amplitude", [np.nan], [1.0], [0.1], [0.1], [False])
