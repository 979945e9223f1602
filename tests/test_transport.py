"""Diffusion coefficient, eq. (2) of the paper."""

import astropy.units as u
import numpy as np
import pytest

from crknee.errors import InputError
from crknee.transport import Diffusion


def test_table1_normalisation_and_scaling():
    d = Diffusion()  # Table 1: D0 = 3.2e28 cm^2/s, delta = 0.33, R0 = 1 GV
    assert d.cm2_s(1.0) == pytest.approx(3.2e28)
    assert d.cm2_s(1e3) / d.cm2_s(1.0) == pytest.approx(1e3**0.33)
    assert d(10 * u.GV).unit == u.cm**2 / u.s


def test_beta_dependence_and_units():
    d = Diffusion(eta=1.0)
    assert d.cm2_s(4.0, beta=0.5) == pytest.approx(0.5 * d.cm2_s(4.0))
    # 1 kpc^2/Myr = (3.0857e21 cm)^2 / 3.15576e13 s = 3.0173e29 cm^2/s
    assert d.kpc2_Myr(1.0) == pytest.approx(3.2e28 / 3.0173e29, rel=1e-4)


def test_reference_rigidity_moves_normalisation():
    assert Diffusion(R0=4.0).cm2_s(4.0) == pytest.approx(Diffusion(R0=1.0).cm2_s(1.0))


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"D0": -1.0}, "D0"),
        ({"delta": 1.2}, "delta"),
        ({"delta": 0.0}, "delta"),
        ({"R0": np.nan}, "R0"),
        ({"eta": np.inf}, "eta"),
    ],
)
def test_bad_parameters(kw, match):
    with pytest.raises(InputError, match=match):
        Diffusion(**kw)


def test_quantity_and_float_inputs():
    """crknee.units convention: a Quantity of any compatible unit, or a float in cm^2/s / GV."""
    d = Diffusion(D0=4e24 * u.m**2 / u.s, R0=4 * u.GV, R_b=0.25 * u.TV)
    assert d.D0 == pytest.approx(4e28, rel=1e-12)
    assert (d.R0, d.R_b) == (pytest.approx(4.0), pytest.approx(250.0))
    assert Diffusion(D0=4e28, R0=4.0).cm2_s(7.0) == pytest.approx(d.cm2_s(7.0), rel=1e-12)
    with pytest.raises(InputError, match="D0"):
        Diffusion(D0=4e24 * u.m)
    with pytest.raises(InputError, match="R_b"):
        Diffusion(R_b=3 * u.kpc)


def test_no_break_by_default_is_the_pure_power_law():
    """Table 1 has no break: with Delta_delta = 0 (default) D is D0 beta^eta (R/R0)^delta
    exactly at every rigidity, whatever R_b and s_b are."""
    R = np.logspace(-1, 8, 50)
    pure = 3.2e28 * 0.7 * (R / 1.0) ** 0.33
    for d in (Diffusion(), Diffusion(R_b=10.0, s_b=0.3)):
        assert not d.has_break
        np.testing.assert_array_equal(d.cm2_s(R, beta=0.7), pure)


def test_break_slopes_and_value_at_R_b():
    """B(R) = [1 + (R/R_b)^(Delta_delta/s_b)]^-s_b (Génolini et al. 2017): local slope of D
    delta below R_b, delta - Delta_delta (hardening) above, and B(R_b) = 2^-s_b."""
    d = Diffusion(delta=0.5, R_b=300.0, Delta_delta=0.2, s_b=0.05)
    slope = lambda R: np.log(d.cm2_s(R * 1.01) / d.cm2_s(R)) / np.log(1.01)  # noqa: E731
    assert slope(10.0) == pytest.approx(0.5, abs=1e-6)
    assert slope(3e4) == pytest.approx(0.3, abs=1e-6)
    assert d.break_factor(300.0) == pytest.approx(2.0**-0.05, rel=1e-12)
    assert np.all(np.isfinite(d.break_factor(np.array([1e-3, 1e12]))))


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"Delta_delta": -0.1}, "Delta_delta"),
        ({"s_b": 0.0}, "s_b"),
        ({"R_b": -5.0}, "R_b"),
        ({"Delta_delta": 1.0}, "Delta_delta"),
    ],
)
def test_bad_break_parameters(kw, match):
    with pytest.raises(InputError, match=match):
        Diffusion(**kw)


def test_break_through_the_propagation_config():
    """[propagation] keys Rb_GV, Delta_delta, s_b reach the one Diffusion of the model; a bad
    value is a ConfigError naming the key."""
    from crknee.errors import ConfigError
    from crknee.propagation.model import model_from_config

    d = model_from_config({"Rb_GV": 250.0, "Delta_delta": 0.12, "s_b": 0.04}).diffusion
    assert (d.R_b, d.Delta_delta, d.s_b) == (250.0, 0.12, 0.04) and d.has_break
    with pytest.raises(ConfigError, match="propagation.Delta_delta"):
        model_from_config({"Delta_delta": -0.1})
