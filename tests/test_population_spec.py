"""crknee.population.spec and distributions: defaults, references, one-line config errors."""

import numpy as np
import pytest

from crknee.errors import ConfigError
from crknee.population.distributions import Distribution
from crknee.population.spec import default_path, load_spec, spec_from_dict


def test_defaults_load_and_carry_the_background_halo():
    spec = load_spec()
    assert [c.name for c in spec.classes] == ["snr", "microquasar"]
    assert spec.H_kpc == 4.5 and spec.r_sun_kpc == 8.5 and spec.R_gal_kpc == 20.0  # Table 1 / Sec. 2.2
    assert spec.diffusion.D0 == 3.2e28 and spec.diffusion.delta == 0.33
    snr = spec.classes[0]
    assert snr.rate_per_Myr == 1.9e4 and snr.mode == "burst"  # Diehl et al. 2006
    assert spec.E_GeV[0] == 1e3 and np.isclose(spec.E_GeV[-1], 1e8)
    text = default_path().read_text()
    for ref in ("Diehl et al. 2006", "Table 1", "Table 2", "Mirabel & Rodriguez 1999", "modelling choice"):
        assert ref in text


def test_propagation_section_changes_the_halo():
    spec = spec_from_dict({"propagation": {"H_kpc": 6.0, "D0_cm2_s": 4e28}})
    assert spec.H_kpc == 6.0 and spec.diffusion.D0 == 4e28


@pytest.mark.parametrize(
    "doc,key",
    [
        ({"population": {"rho_min_kpc": -1.0}}, "population.rho_min_kpc"),
        ({"population": {"bogus": 1}}, "population.bogus"),
        ({"population": {"E_min_GeV": 1e6, "E_max_GeV": 1e4}}, "population.E_max_GeV"),
        ({"population": {"composition": "iron"}}, "population.composition"),
        ({"population": {"points_per_decade": 2.5}}, "population.points_per_decade"),
        ({"population": {"snr": {"rate_per_Myr": -3.0}}}, "population.snr.rate_per_Myr"),
        ({"population": {"snr": {"energy_erg": {"dist": "gauss", "value": 1}}}}, "population.snr.energy_erg.dist"),
        (
            {"population": {"snr": {"energy_erg": {"dist": "loguniform", "low": 1e51, "high": 1e50}}}},
            "population.snr.energy_erg",
        ),
        (
            {"population": {"snr": {"Rcut_GV": {"dist": "lognormal", "median": 2e5, "sigma_dex": 0.0}}}},
            "population.snr.Rcut_GV.sigma_dex",
        ),
        ({"population": {"snr": {"beta": "steep"}}}, "population.snr.beta"),
        ({"population": {"snr": {"luminosity_erg_s": 1e38}}}, "population.snr.luminosity_erg_s"),
        ({"population": {"microquasar": {"radial": "spiral"}}}, "population.microquasar.radial"),
        ({"population": {"microquasar": {"mode": "flare"}}}, "population.microquasar.mode"),
        ({"propagation": {"H_kpc": -2.0}}, "propagation.H_kpc"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_key(doc, key):
    with pytest.raises(ConfigError) as info:
        spec_from_dict(doc)
    msg = str(info.value)
    assert msg.startswith(key) and "\n" not in msg


def test_bad_file_is_a_config_error(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text("[population\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_spec(f)


@pytest.mark.parametrize(
    "table,mean",
    [
        ({"dist": "fixed", "value": 2.0}, 2.0),
        ({"dist": "uniform", "low": 1.0, "high": 3.0}, 2.0),
        ({"dist": "loguniform", "low": 1.0, "high": np.e}, np.e - 1.0),
        ({"dist": "lognormal", "median": 1.0, "sigma_dex": 0.2}, np.exp(0.5 * (0.2 * np.log(10)) ** 2)),
    ],
)
def test_distribution_moments_samples_and_quadrature_agree(table, mean):
    d = Distribution.from_toml("k", table)
    assert d.mean() == pytest.approx(mean, rel=1e-12)
    x, w = d.nodes()
    assert np.sum(w * x) == pytest.approx(mean, rel=1e-9)
    draws = d.sample(np.random.default_rng(0), 200_000)
    assert draws.mean() == pytest.approx(mean, rel=5e-3)
    # survival function against the draws
    q = np.quantile(draws, 0.3)
    assert d.survival(q) == pytest.approx(np.mean(draws > q), abs=5e-3) or d.kind == "fixed"
