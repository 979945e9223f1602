"""The leptonic (inverse-Compton, naima) fit and the hadronic/leptonic likelihood ratio."""

import astropy.units as u
import naima
import numpy as np
import pytest

from crknee.errors import InputError
from crknee.gamma import DEFAULTS, SEDData
from crknee.gamma.fit import paper_result
from crknee.gamma.leptonic import E0, E_ELECTRON, FIELDS, _seed, fit_leptonic, likelihood_ratio

TRUTH = {"alpha": 2.3, "Ecut_TeV": 80.0, "amplitude": 3e36}
D_KPC = 4.0


def simulated(rel_err=0.1, rng=None):
    """A naima-simulated IC spectrum (ECPL electrons on CMB + dust + starlight) at 14
    energies, 1-500 TeV, with 10 % errors (Asimov data without ``rng``)."""
    pd = naima.models.ExponentialCutoffPowerLaw(
        TRUTH["amplitude"] / u.eV, E0, TRUTH["alpha"], TRUTH["Ecut_TeV"] * u.TeV
    )
    ic = naima.models.InverseCompton(pd, seed_photon_fields=_seed(FIELDS), Eemin=E_ELECTRON[0], Eemax=E_ELECTRON[1])
    E = np.geomspace(1.0, 500.0, 14) * u.TeV
    m = ic.sed(E, distance=D_KPC * u.kpc).to_value(u.erg / u.cm**2 / u.s)
    y = m if rng is None else m * (1.0 + rel_err * rng.standard_normal(m.size))
    err = rel_err * m
    return SEDData(E.to_value(u.GeV), y, err, err, np.zeros(m.size, dtype=bool), ("simulated",))


@pytest.fixture(scope="module")
def asimov():
    return fit_leptonic(simulated(), D_KPC, name="sim")


def test_fit_recovers_a_naima_simulated_spectrum(asimov):
    r = asimov
    assert r.chi2 < 1e-3
    assert r.alpha == pytest.approx(TRUTH["alpha"], abs=0.01)
    assert np.log10(r.Ecut_TeV) == pytest.approx(np.log10(TRUTH["Ecut_TeV"]), abs=0.01)
    assert r.amplitude_per_eV == pytest.approx(TRUTH["amplitude"], rel=0.03)
    E = np.geomspace(1.0, 500.0, 5) * u.TeV
    assert r.sed(E).unit == u.erg / u.cm**2 / u.s


def test_noisy_fit_is_consistent_with_the_truth():
    """With 10 % scatter the truth lies within chi2_min + 7.8 (3 parameters, 95 %)."""
    data = simulated(rng=np.random.default_rng(4))
    r = fit_leptonic(data, D_KPC, name="sim")
    pd = naima.models.ExponentialCutoffPowerLaw(
        TRUTH["amplitude"] / u.eV, E0, TRUTH["alpha"], TRUTH["Ecut_TeV"] * u.TeV
    )
    ic = naima.models.InverseCompton(pd, seed_photon_fields=_seed(FIELDS), Eemin=E_ELECTRON[0], Eemax=E_ELECTRON[1])
    truth = data.chi2(ic.sed(data.E_GeV * u.GeV, distance=D_KPC * u.kpc).to_value(u.erg / u.cm**2 / u.s))
    assert r.chi2 <= truth + 1e-6
    assert truth - r.chi2 < 7.8


def test_likelihood_ratio_needs_a_hadronic_fit(asimov):
    with pytest.raises(InputError, match="no hadronic fit"):
        likelihood_ratio(paper_result(DEFAULTS["GRS 1915+105"]), asimov)
