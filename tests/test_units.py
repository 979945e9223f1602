"""crknee.units.value_in: the one conversion at public boundaries (issue 14)."""

import astropy.units as u
import numpy as np
import pytest

from crknee.errors import InputError
from crknee.units import value_in


def test_quantity_and_float_give_the_same_value():
    assert value_in("d_kpc", 2.64 * u.kpc, "kpc") == value_in("d_kpc", 2.64, "kpc") == 2.64
    assert value_in("d_kpc", 2640 * u.pc, "kpc") == pytest.approx(2.64, rel=1e-15)
    assert value_in("D0", 3.2e24 * u.m**2 / u.s, "cm2 / s") == pytest.approx(3.2e28, rel=1e-15)


def test_arrays_keep_their_shape():
    out = value_in("E", [1.0, 2.0] * u.TeV, "GeV")
    assert isinstance(out, np.ndarray) and np.allclose(out, [1e3, 2e3])


def test_wrong_dimension_names_the_argument():
    with pytest.raises(InputError, match="^D0 has unit .*not convertible to cm2 / s"):
        value_in("D0", 4e24 * u.m, "cm2 / s")


@pytest.mark.parametrize("bad", [-1.0, 0.0, np.nan, np.inf])
def test_domain_positive(bad):
    with pytest.raises(InputError, match="^age_Myr must be finite and > 0"):
        value_in("age_Myr", bad, "Myr", "positive")


def test_non_numeric_value():
    with pytest.raises(InputError, match="^beta must be a number"):
        value_in("beta", "steep", "")
