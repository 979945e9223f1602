"""Protons of the gamma-ray sources at Earth, the comparison with LHAASO, and the
end-to-end analysis (datasets per source, user-added SEDs)."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

import crknee.data
from crknee.errors import InputError
from crknee.gamma import DEFAULTS, analyse, datasets_for, protons_at_earth, ratio_to_data
from crknee.gamma.analysis import knee_ratio_per_gamma_flux
from crknee.gamma.earth import LHAASO_PROTONS, data_flux_at
from crknee.gamma.fit import LABEL_FIT, LABEL_PAPER
from crknee.sources.greens import continuous_density
from crknee.sources.injection import q0_from_luminosity, spectrum_shape
from crknee.sources.point import FLUX_PER_DENSITY
from crknee.transport import Diffusion


@pytest.mark.parametrize("chi", [1.0, 0.1])
def test_protons_at_earth_is_continuous_injection_over_the_age(chi):
    """J = c/(4 pi) n, n = q(R) dR/dE G_c(d, t, chi D) (independent evaluation at E >> phi)."""
    p = DEFAULTS["GRS 1915+105"].replace(diffusion_suppression=chi, Rcut_GV=3e6)
    E = np.array([1e4, 1e6, 1e7])
    J, valid = protons_at_earth(p, E * u.GeV)
    R = np.sqrt(E**2 - 0.938272**2)
    D = chi * Diffusion().kpc2_Myr(R, R / E)
    n = (
        q0_from_luminosity(p.L0_erg_s, p.beta, p.Rcut_GV)
        * spectrum_shape(R, p.beta, p.Rcut_GV)
        * (E / R)
        * continuous_density(p.d_kpc, p.age_Myr, D)
    )
    np.testing.assert_allclose(
        J.to_value(u.m**-2 * u.s**-1 * u.sr**-1 / u.GeV), FLUX_PER_DENSITY * (R / E) * n, rtol=2e-3
    )
    assert valid.dtype == bool and valid.shape == E.shape


def test_ss433_protons_cannot_arrive_in_20_kyr():
    J, valid = protons_at_earth(DEFAULTS["SS 433"], [1e6] * u.GeV)
    assert not valid[0]  # c t = 6.1 kpc < 10 d
    assert ratio_to_data(DEFAULTS["SS 433"]) < 1e-10


def test_ratio_to_lhaaso_at_1PeV():
    p = DEFAULTS["MAXI J1820+070"]
    J, _ = protons_at_earth(p, [1e6] * u.GeV)
    ref = data_flux_at(1 * u.PeV)
    assert ratio_to_data(p) == pytest.approx((J[0] / ref[0]).to_value(u.one), rel=1e-12)
    assert ratio_to_data(p.replace(L0_erg_s=2 * p.L0_erg_s)) == pytest.approx(2 * ratio_to_data(p), rel=1e-12)
    t = crknee.data.load(LHAASO_PROTONS)
    x = t["x"].to_value(u.GeV)
    i = np.argmin(abs(x - 1e6))
    assert data_flux_at(x[i] * u.GeV)[0].to_value(t["y"].unit) == pytest.approx(t["y"][i].value, rel=1e-9)
    with pytest.raises(InputError, match="outside"):
        data_flux_at(1 * u.TeV)


def test_datasets_per_source():
    assert datasets_for("V4641 Sgr") == ["gamma/V4641Sgr_HAWC_total", "gamma/V4641Sgr_HESS", "gamma/V4641Sgr_LHAASO"]
    assert all(n.startswith("gamma/SS433") for n in datasets_for("SS 433")) and len(datasets_for("SS 433")) == 4
    assert datasets_for("MAXI J1820+070") == []
    r = analyse("MAXI J1820+070")
    assert r.label == LABEL_PAPER and r.params == DEFAULTS["MAXI J1820+070"]
    assert analyse("V4641 Sgr", refit=False).label == LABEL_PAPER


def test_user_sed_is_fitted_the_same_way(tmp_path, monkeypatch):
    monkeypatch.setenv("CRKNEE_USER_DATA", str(tmp_path / "user"))
    sed = u.erg / u.cm**2 / u.s
    E = np.array([20.0, 50.0, 100.0, 200.0])
    y = np.array([3e-13, 2e-13, 1.2e-13, 8e-14])
    t = QTable(
        {
            "x": E * u.TeV,
            "y": y * sed,
            "y_err_lo": 0.2 * y * sed,
            "y_err_hi": 0.2 * y * sed,
            "upper_limit": np.zeros(4, bool),
        }
    )
    t.meta.update(
        {
            "source": "GRS 1915+105",
            "experiment": "test",
            "reference": "synthetic test points",
            "origin": "tests/test_gamma_earth.py",
            "licence": "MIT",
        }
    )
    path = tmp_path / "GRS1915_test.ecsv"
    t.write(path, format="ascii.ecsv")
    name = crknee.data.add(path, "gamma")
    assert datasets_for("GRS 1915+105") == [name]
    r = analyse("GRS 1915+105", nsteps=300, burn=100)
    assert r.label == LABEL_FIT and r.datasets == (name,) and r.n_points == 4


def test_cygnus_slow_diffusion_at_fixed_gamma_flux():
    """Per unit gamma-ray flux, slower diffusion around Cyg X-1 lowers its protons at Earth
    (the gamma rays need fewer protons, and fewer of them reach 2.2 kpc); L0 cancels."""
    p = DEFAULTS["Cyg X-1"]
    r = [
        knee_ratio_per_gamma_flux(p.replace(diffusion_suppression=chi)).to_value(u.cm**2 * u.s / u.erg)
        for chi in (1.0, 0.1, 0.01)
    ]
    assert r[0] > r[1] > r[2] > 0 and r[2] < 1e-4 * r[0]
    r2 = knee_ratio_per_gamma_flux(p.replace(L0_erg_s=7 * p.L0_erg_s)).to_value(u.cm**2 * u.s / u.erg)
    assert r2 == pytest.approx(r[1], rel=1e-10)  # the default chi is 0.1


def test_user_csv_sed_is_fitted_with_the_paper_config(tmp_path, monkeypatch):
    """Table 2 stays (labelled) for a source without points; a CSV added with
    ``crknee data add`` is picked up by the paper config (sed = [], refit = true)."""
    from crknee.config import load
    from crknee.gamma import analyse_all

    monkeypatch.setenv("CRKNEE_USER_DATA", str(tmp_path / "user"))
    opts = dict(load()["gamma"]["sources"]["MAXI J1820+070"].items())
    assert opts["sed"] == [] and opts["refit"] is True
    name = "MAXI J1820+070"
    assert analyse_all([name], {name: dict(opts)})[name].label == LABEL_PAPER
    csv = tmp_path / "MAXI_test.csv"
    csv.write_text(
        "# experiment: test\n# reference: synthetic test points\n# source: MAXI J1820+070\n"
        "# x_unit: TeV\n# y_unit: erg cm-2 s-1\nx,y,y_err_lo,y_err_hi,upper_limit\n"
        "10,4e-13,8e-14,8e-14,0\n30,3e-13,6e-14,6e-14,0\n100,1.5e-13,4e-14,4e-14,0\n300,1e-13,,,1\n"
    )
    added = crknee.data.add(csv, "gamma")
    r = analyse_all([name], {name: dict(opts)}, nsteps=300, burn=100)[name]
    assert r.label == LABEL_FIT and r.datasets == (added,) and (r.n_points, r.n_upper) == (4, 1)
