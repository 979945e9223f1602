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


@pytest.mark.parametrize("kw,match", [({"D0": -1.0}, "D0"), ({"delta": 1.2}, "delta"), ({"delta": 0.0}, "delta"),
                                      ({"R0": np.nan}, "R0"), ({"eta": np.inf}, "eta")])
def test_bad_parameters(kw, match):
    with pytest.raises(InputError, match=match):
        Diffusion(**kw)
