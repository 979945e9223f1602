"""The two-zone containment of the microquasars: its one-zone and no-escape limits."""

import astropy.units as u
import numpy as np
import pytest

from crknee.errors import InputError
from crknee.gamma import DEFAULTS, HadronicSource, protons_at_earth

EG = [1e3, 1e4, 1e5, 5e5] * u.GeV
EP = np.geomspace(100.0, 1e8, 12) * u.GeV


@pytest.mark.parametrize("injection", ["continuous", "burst"])
@pytest.mark.parametrize("name", ["V4641 Sgr", "MAXI J1820+070"])
def test_chi_one_is_the_one_zone_model(name, injection):
    one = DEFAULTS[name].replace(injection=injection, diffusion_suppression=1.0)
    two = one.replace(containment="two_zone")
    # Talbot's error is absolute (~1e-12 of the injected number): 1e-5 relative where a
    # burst leaves only ~1e-8 of its protons in the region (MAXI J1820+070 at PeV)
    np.testing.assert_allclose(HadronicSource(two).sed(EG), HadronicSource(one).sed(EG), rtol=1e-4)
    J1, v1 = protons_at_earth(one, EP)
    J2, v2 = protons_at_earth(two, EP)
    np.testing.assert_allclose(J2.value, J1.value, rtol=1e-8)
    assert np.array_equal(v1, v2)


@pytest.mark.parametrize("injection", ["continuous", "burst"])
def test_chi_to_zero_is_full_confinement(injection):
    p = DEFAULTS["V4641 Sgr"].replace(injection=injection)
    confined = p.replace(containment="two_zone", diffusion_suppression=1e-9)
    np.testing.assert_allclose(
        HadronicSource(confined).sed(EG), HadronicSource(p.replace(containment="all")).sed(EG), rtol=1e-8
    )
    J0, _ = protons_at_earth(confined, EP)
    J1, _ = protons_at_earth(p.replace(containment="two_zone"), EP)
    assert np.all(J0.value <= 1e-6 * J1.value)


def test_a_slow_zone_trades_earth_flux_for_gamma_rays():
    """At fixed L0 a slower zone keeps more protons (more gamma rays) and sends fewer to
    Earth, monotonically in chi, whereas the uniform suppression of the one-zone model
    raises the flux at Earth for moderate chi (docs/gamma.md, Cyg X-1)."""
    p = DEFAULTS["V4641 Sgr"].replace(containment="two_zone")
    chis = [1.0, 0.3, 0.1, 0.03, 0.01]
    sed = [HadronicSource(p.replace(diffusion_suppression=c)).sed(EG[2:3])[0].value for c in chis]
    earth = [protons_at_earth(p.replace(diffusion_suppression=c), [1e6] * u.GeV)[0][0].value for c in chis]
    assert np.all(np.diff(sed) > 0) and np.all(np.diff(earth) < 0)


def test_injection_is_validated():
    with pytest.raises(InputError, match="injection"):
        DEFAULTS["SS 433"].replace(injection="pulsed")
