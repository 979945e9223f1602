"""Fit of (L0, beta[, R_cut]) to SED points: recovery of injected parameters, upper limits,
bad input."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable
from scipy.stats import norm

from crknee.errors import InputError
from crknee.gamma import DEFAULTS, HadronicSource, SEDData, fit_sed, sed_band
from crknee.gamma.fit import LABEL_FIT, LABEL_PAPER, UL_SIGMA, paper_result

SED = u.erg / u.cm**2 / u.s


def synthetic(params, E_TeV, rel_err=0.15, ul_at=None):
    """An Asimov SED (points = model) with relative errors, and optional upper limits."""
    y = HadronicSource(params).sed(E_TeV * u.TeV).value
    ul = np.zeros(E_TeV.size, bool)
    if ul_at is not None:
        ul[ul_at] = True
        y[ul_at] *= 3.0  # a limit well above the model
    t = QTable(
        {
            "x": E_TeV * u.TeV,
            "y": y * SED,
            "y_err_lo": rel_err * y * SED,
            "y_err_hi": rel_err * y * SED,
            "upper_limit": ul,
        }
    )
    t.meta["name"] = "gamma/synthetic"
    return t


@pytest.mark.parametrize("truth", [dict(beta=2.3, L0_erg_s=3e38), dict(beta=1.8, L0_erg_s=1e39, Rcut_GV=1e6)])
def test_fit_recovers_injected_parameters(truth):
    p = DEFAULTS["V4641 Sgr"].replace(**truth)
    data = SEDData.from_tables([synthetic(p, np.geomspace(1.0, 800.0, 14), ul_at=[13])])
    r = fit_sed(DEFAULTS["V4641 Sgr"], data, nsteps=700, burn=250)
    assert r.label == LABEL_FIT and r.cutoff == ("Rcut_GV" in truth)
    # Asimov data: at the truth only the upper limit (3x the model) costs chi^2
    assert r.chi2 <= data.chi2(HadronicSource(p).sed(data.E_GeV * u.GeV).value) + 1e-4
    assert data.chi2(HadronicSource(p).sed(data.E_GeV * u.GeV).value) == pytest.approx(
        -2 * (norm.logcdf(UL_SIGMA * 2 / 3) - norm.logcdf(UL_SIGMA))
    )
    for key, true in (
        ("log10_L0", np.log10(truth["L0_erg_s"])),
        ("beta", truth["beta"]),
        ("log10_Rcut", np.log10(truth.get("Rcut_GV", np.nan))),
    ):
        if key in r.median:
            assert abs(r.median[key] - true) < max(r.err_lo[key], r.err_hi[key])  # within 1 sigma
            assert 0 < r.err_lo[key] < 0.5
    assert r.params.beta == pytest.approx(truth["beta"], abs=0.02)
    assert r.params.L0_erg_s == pytest.approx(truth["L0_erg_s"], rel=0.05)
    assert r.n_points == 14 and r.n_upper == 1 and r.ndof == 14 - (3 if r.cutoff else 2)
    lo, best, hi = sed_band(r, [10, 100] * u.TeV)
    assert np.all(lo <= best * 1.0001) and np.all(best <= hi * 1.0001)


def test_upper_limit_likelihood():
    t = QTable(
        {
            "x": [10.0, 20.0] * u.TeV,
            "y": [1e-12, 1e-12] * SED,
            "y_err_lo": [2e-13, np.nan] * SED,
            "y_err_hi": [3e-13, np.nan] * SED,
            "upper_limit": [False, True],
        }
    )
    d = SEDData.from_tables([t])
    assert d.chi2([1e-12, 0.0]) == pytest.approx(0.0, abs=1e-12)  # zero model: no UL penalty
    assert d.chi2([1.3e-12, 0.0]) == pytest.approx(1.0)  # err_hi above the point
    assert d.chi2([0.8e-12, 0.0]) == pytest.approx(1.0)  # err_lo below
    # a model at the limit costs -2 ln Phi(0) + 2 ln Phi(z) = 2 ln 2 - ...
    assert d.chi2([1e-12, 1e-12]) == pytest.approx(-2 * np.log(0.5) + 2 * np.log(norm.cdf(UL_SIGMA)))
    assert d.chi2([1e-12, 2e-12]) > d.chi2([1e-12, 1e-12]) > d.chi2([1e-12, 0.5e-12])


def test_bad_sed_input():
    good = synthetic(DEFAULTS["SS 433"], np.array([1.0, 10.0]))
    with pytest.raises(InputError, match="empty"):
        SEDData.from_tables([])
    with pytest.raises(InputError, match="empty"):
        SEDData.from_tables([good[:0]])
    wrong = good.copy()
    wrong["y"] = wrong["y"].value / (u.TeV * u.cm**2 * u.s)  # dN/dE, not E^2 dN/dE
    with pytest.raises(InputError, match="erg"):
        SEDData.from_tables([wrong])
    wrong = good.copy()
    wrong["x"] = wrong["x"].value * u.cm
    with pytest.raises(InputError, match="energy"):
        SEDData.from_tables([wrong])
    neg = good.copy()
    neg["y_err_lo"][0] = -1 * SED
    with pytest.raises(InputError, match="errors"):
        SEDData.from_tables([neg])
    d = SEDData.from_tables([good])
    with pytest.raises(InputError, match="cutoff"):
        fit_sed(DEFAULTS["SS 433"], d, cutoff="maybe")


def test_paper_result_is_labelled():
    r = paper_result(DEFAULTS["GRS 1915+105"])
    assert r.label == LABEL_PAPER == "paper parameters, not refitted"
    lo, best, hi = sed_band(r, [100] * u.TeV)
    assert lo == best == hi
    assert r.summary()["ndof"] is None and r.summary()["chi2"] is None and r.summary()["dchi2_cutoff"] is None
