"""Source parameters, protons inside the emitting region, and their SED."""

import astropy.units as u
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erfc

from crknee.errors import ConfigError, InputError
from crknee.gamma import DEFAULTS, HadronicSource, SourceParams
from crknee.gamma.emission import gamma_sed
from crknee.gamma.params import NO_CUTOFF_GV, PAPER_SOURCES
from crknee.gamma.source_model import residence_time_Myr
from crknee.sources.injection import q0_from_luminosity, spectrum_shape


@pytest.mark.parametrize("D", [1e-4, 0.01, 0.1, 10.0, 1e3])
def test_residence_time_against_quad(D):
    """T_res = (1/D) int_0^a r erfc(r / sqrt(4 D t)) dr (continuous point source)."""
    a, t = 0.05, 0.3
    ref = quad(lambda r: r * erfc(r / np.sqrt(4 * D * t)) / D, 0, a, epsabs=0, epsrel=1e-12, limit=200)[0]
    assert residence_time_Myr(np.array([D]), a, t)[0] == pytest.approx(ref, rel=1e-9)


def test_residence_time_limits():
    a, t = 0.1, 1.0
    assert residence_time_Myr(np.array([1e-7]), a, t)[0] == pytest.approx(t, rel=1e-6)  # nothing escapes
    assert residence_time_Myr(np.array([1e4]), a, t)[0] == pytest.approx(a * a / (2e4), rel=1e-3)  # steady state
    T = residence_time_Myr(np.geomspace(1e-4, 1e4, 50), a, t)
    assert np.all(np.diff(T) < 0) and np.all(T <= t)


def test_protons_in_region_use_injection_normalisation():
    p = DEFAULTS["V4641 Sgr"]
    src = HadronicSource(p)
    N = src.protons_per_GeV(p.L0_erg_s, p.beta, p.Rcut_GV)
    ref = (
        q0_from_luminosity(p.L0_erg_s, p.beta, p.Rcut_GV)
        * spectrum_shape(src.R_GV, p.beta, p.Rcut_GV)
        * src.dR_dE
        * src.T_res_Myr
    )
    np.testing.assert_allclose(N, ref, rtol=1e-6)
    # vectorised over walkers
    NN = src.protons_per_GeV([p.L0_erg_s, 2 * p.L0_erg_s], [p.beta, p.beta], [p.Rcut_GV, p.Rcut_GV])
    np.testing.assert_allclose(NN[1], 2 * N, rtol=1e-12)
    assert src.protons([1e3] * u.TeV).unit == 1 / u.GeV


def test_sed_equals_emission_of_region_protons():
    p = DEFAULTS["SS 433"]
    src = HadronicSource(p)
    Eg = np.geomspace(1e2, 1e6, 20) * u.GeV
    Ep = src.Ep_GeV * u.GeV
    N = src.protons_per_GeV(p.L0_erg_s, p.beta, p.Rcut_GV) / u.GeV
    ref = gamma_sed(Eg, Ep, N, p.n_H_cm3 / u.cm**3, p.d_kpc * u.kpc, p.pp_model)
    np.testing.assert_allclose(src.sed(Eg).value, ref.value, rtol=1e-12)


def test_scalings_with_density_distance_and_containment():
    p = DEFAULTS["MAXI J1820+070"].replace(n_H_cm3=1.0)  # a fixed density (the gas model follows the position)
    Eg = [1e4, 1e5] * u.GeV
    s0 = HadronicSource(p).sed(Eg)
    np.testing.assert_allclose(HadronicSource(p.replace(n_H_cm3=3.0)).sed(Eg), 3 * s0, rtol=1e-12)
    far = p.replace(d_kpc=2 * p.d_kpc, extension_deg=np.degrees(np.arctan(0.5 * np.tan(np.radians(p.extension_deg)))))
    np.testing.assert_allclose(HadronicSource(far).sed(Eg), 0.25 * s0, rtol=1e-9)  # same region, 2x farther
    assert np.all(HadronicSource(p.replace(containment="all")).sed(Eg) > 10 * s0)
    # slower diffusion keeps more protons in the region
    assert np.all(HadronicSource(p.replace(diffusion_suppression=0.1)).sed(Eg) > s0)


def test_defaults_and_from_dict():
    assert set(PAPER_SOURCES) <= set(DEFAULTS)
    t2 = {"GRS 1915+105": (2.5, 1.5e39), "MAXI J1820+070": (2.5, 1e38), "SS 433": (2.5, 2e39), "V4641 Sgr": (2.2, 5e38)}
    for name, (beta, L0) in t2.items():
        assert (DEFAULTS[name].beta, DEFAULTS[name].L0_erg_s, DEFAULTS[name].table2) == (beta, L0, True)
    assert DEFAULTS["SS 433"].age_Myr == 0.02 and DEFAULTS["V4641 Sgr"].age_Myr == 1.0
    assert DEFAULTS["SS 433"].Rcut_GV == NO_CUTOFF_GV
    p = SourceParams.from_dict({"name": "SS 433", "n_H_cm3": 5.0, "extension_deg": 0.5})
    assert (p.n_H_cm3, p.extension_deg, p.d_kpc) == (5.0, 0.5, 5.5)
    new = {
        "name": "X",
        "l_deg": 1.0,
        "b_deg": 0.0,
        "d_kpc": 3.0,
        "extension_deg": 0.2,
        "n_H_cm3": 1.0,
        "age_Myr": 0.1,
        "beta": 2.0,
        "L0_erg_s": 1e37,
    }
    assert SourceParams.from_dict(new).radius_kpc == pytest.approx(3.0 * np.tan(np.radians(0.2)))
    with pytest.raises(ConfigError, match="missing"):
        SourceParams.from_dict({k: v for k, v in new.items() if k != "beta"})
    with pytest.raises(ConfigError, match="unknown"):
        SourceParams.from_dict({"name": "SS 433", "nH": 1.0})
    assert p.quantities()["n_H"] == 5.0 * u.cm**-3
    assert p.table2 and not SourceParams.from_dict({"name": "SS 433", "beta": 2.1}).table2


@pytest.mark.parametrize(
    "key,value",
    [
        ("L0_erg_s", 0.0),
        ("L0_erg_s", -1e38),
        ("n_H_cm3", -1.0),
        ("d_kpc", float("nan")),
        ("extension_deg", 95.0),
        ("beta", 0.0),
        ("containment", "none"),
        ("high_energy", "x"),
        ("diffusion_suppression", 0.0),
    ],
)
def test_bad_parameters_name_the_value(key, value):
    with pytest.raises(InputError, match=key):
        DEFAULTS["SS 433"].replace(**{key: value})
