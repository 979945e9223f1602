"""Maps of the protons at Earth / LHAASO over (n_H a^2, chi, age) with a fit at every point."""

import numpy as np
import pytest

import crknee.data
from crknee.errors import InputError
from crknee.gamma import DEFAULTS, SEDData, datasets_for, fit_sed, ratio_to_data
from crknee.gamma.maps import PLAUSIBLE, ratio_map


@pytest.fixture(scope="module")
def v4641():
    data = SEDData.from_tables([crknee.data.load(n) for n in datasets_for("V4641 Sgr")])
    p = DEFAULTS["V4641 Sgr"]
    m = ratio_map(p, data, n_H_factors=np.geomspace(0.01, 100.0, 5), chis=[0.01, 0.1, 1.0], age_factors=(1.0, 3.0))
    return p, data, m


def test_default_point_is_the_default_fit(v4641):
    """chi = 1, n_ref (gas model), the paper's age: the one-zone fit of the pipeline."""
    p, data, m = v4641
    fit = fit_sed(p, data, sample=False)
    assert m.ratio_ref[0, -1] == pytest.approx(ratio_to_data(fit.params), rel=1e-6)
    assert m.L0_ref[0, -1] == pytest.approx(fit.params.L0_erg_s, rel=1e-6)
    assert m.chi2[0, -1] == pytest.approx(fit.chi2, rel=1e-6)


def test_n_H_only_rescales_L0(v4641):
    """A refit at another n_H finds the same shape and chi^2 with L0 x n_ref / n_H, so R
    along the n_H a^2 axis is R_ref n_ref / n_H (the map's shortcut is exact)."""
    p, data, m = v4641
    f = 7.0
    q = p.replace(n_H_cm3=f * p.n_H_cm3, containment="two_zone", diffusion_suppression=0.1)
    fit = fit_sed(q, data, sample=False)
    assert fit.params.L0_erg_s == pytest.approx(m.L0_ref[0, 1] / f, rel=1e-4)
    assert fit.chi2 == pytest.approx(m.chi2[0, 1], rel=1e-6)
    assert ratio_to_data(fit.params) == pytest.approx(m.ratio_ref[0, 1] / f, rel=1e-4)
    np.testing.assert_allclose(m.ratio[0, 1] * m.n_H_a2, m.ratio_ref[0, 1] * m.n_H_a2_ref, rtol=1e-12)
    assert m.n_H_a2_for_L0(m.L0_ref[0, 2] / 10.0, 0, 2) == pytest.approx(10.0 * m.n_H_a2_ref)


def test_plausible_range_brackets_the_default(v4641):
    _, _, m = v4641
    lo, hi = m.plausible_range()
    r0 = m.ratio_ref[0, -1]
    assert lo < r0 < hi
    inside = m.ratio_ref[:, m.chi >= PLAUSIBLE["chi"][0]]
    assert hi == pytest.approx(np.max(inside) / PLAUSIBLE["n_H_factor"][0])
    assert lo == pytest.approx(np.min(inside) / PLAUSIBLE["n_H_factor"][1])


def test_table2_map_does_not_depend_on_n_H():
    p = DEFAULTS["MAXI J1820+070"]
    m = ratio_map(p, None, n_H_factors=[0.1, 1.0, 10.0], chis=[0.1, 1.0], age_factors=(1.0,))
    assert m.label == "paper parameters, not refitted" and np.all(np.isnan(m.chi2))
    assert np.all(m.ratio[0, 1] == m.ratio_ref[0, 1])
    assert m.ratio_ref[0, 1] == pytest.approx(ratio_to_data(p), rel=1e-8)  # chi = 1: the one-zone value
    assert m.ratio_ref[0, 0] == pytest.approx(
        ratio_to_data(p.replace(containment="two_zone", diffusion_suppression=0.1)), rel=1e-8
    )
    with pytest.raises(InputError, match="no gamma-ray fit"):
        m.n_H_a2_for_L0(1e38, 0, 0)


def test_bad_axes_are_refused():
    with pytest.raises(InputError, match="chis"):
        ratio_map(DEFAULTS["MAXI J1820+070"], None, chis=[0.0, 1.0])
