"""pp -> gamma cross sections: Kafexhiu et al. 2014 and Kelner et al. 2006 against naima,
the boundary matching, and the emission of a proton population against naima's PionDecay."""

import astropy.units as u
import naima
import numpy as np
import pytest

from crknee.constants import C_CM_S, MB_CM2
from crknee.errors import InputError
from crknee.gamma import emission, kafexhiu, kelner
from crknee.gamma.emission import PPModel, gamma_sed

EG = np.logspace(0, 6, 100) * u.GeV  # 1 GeV - 1 PeV, the accuracy range of the issue


@pytest.mark.parametrize("model", kafexhiu.MODELS)
@pytest.mark.parametrize("nuclear", [True, False])
def test_kafexhiu_matches_naima_formulae(model, nuclear):
    """Our vectorised dsigma/dE equals naima's exact (non-LUT) one, point by point."""
    pp = naima.models.PionDecay(
        naima.models.PowerLaw(1 / u.eV, 1 * u.TeV, 2.0), useLUT=False, hiEmodel=model, nuclear_enhancement=nuclear
    )
    Ep = np.logspace(np.log10(1.25), 7, 300)
    Eg = np.logspace(-1, 6, 40)
    ref = np.array([pp._diffsigma(Ep, e) for e in Eg]) * 1e27  # cm^2 -> mb
    mine = kafexhiu.dsigma_dEg_mb_GeV(Ep[None, :] - kafexhiu.M_P, Eg[:, None], model, nuclear)
    assert np.array_equal(mine > 0, ref > 0)
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=0)


def test_kafexhiu_published_numbers():
    """KATV14 eq. 1 at 1 TeV and the nuclear factor's high-energy value eps_C + ... (Sec. IV)."""
    L = np.log(1e3 / kafexhiu.T_TH)
    assert kafexhiu.sigma_inel_mb(1e3) == pytest.approx(
        (30.7 - 0.96 * L + 0.18 * L * L) * (1 - (kafexhiu.T_TH / 1e3) ** 1.9) ** 3
    )
    # KATV14 and KAB06 (34.3 mb at 1 TeV) agree within 2 %
    assert kafexhiu.sigma_inel_mb(1e3) == pytest.approx(kelner.sigma_inel_mb(1e3 + kafexhiu.M_P), rel=0.02)
    eps = kafexhiu.nuclear_enhancement(np.array([0.1, 0.5, 1e3]))
    assert eps[0] == 0.0 and eps[1] == 1.9141
    assert eps[2] == pytest.approx(1.37 + 0.39 * 10 * np.pi / kafexhiu.sigma_inel_mb(1e3))
    assert kafexhiu.egamma_max(1e6) < 1e6 + kafexhiu.M_P


def test_kelner_matches_naima():
    k06 = naima.radiative.PionDecayKelner06(naima.models.PowerLaw(1 / u.eV, 1 * u.TeV, 2.0))
    Ep_TeV = np.array([1.0, 1e3, 1e4, 1e5])
    for x in (1e-3, 0.01, 0.3, 0.9):
        ref = np.array([k06._Fgamma(x, e) for e in Ep_TeV])
        np.testing.assert_allclose(kelner.f_gamma(x, Ep_TeV * 1e3), ref, rtol=1e-12)
    np.testing.assert_allclose(
        kelner.sigma_inel_mb(Ep_TeV * 1e3), [k06._sigma_inel(e) * 1e27 for e in Ep_TeV], rtol=1e-10
    )
    assert kelner.f_gamma(1.0, 1e6) == 0.0 and kelner.f_gamma(1.5, 1e6) == 0.0


def test_kelner_matching_at_the_boundary():
    """Above 1 PeV the scaled Kelner cross section carries the same photon energy per
    collision as Kafexhiu just below (continuity of int E dsigma/dE at the switch)."""
    model = PPModel()
    eg = np.logspace(-2, 6.01, 6000)
    Tsw = model.switch_GeV
    below = emission.dsigma_dEg_mb_GeV(Tsw * (1 - 1e-9) + kafexhiu.M_P, eg, model)
    above = emission.dsigma_dEg_mb_GeV(Tsw * (1 + 1e-9) + kafexhiu.M_P, eg, model)
    wb, wa = (np.trapezoid(eg * eg * d, np.log(eg)) for d in (below, above))
    assert wa == pytest.approx(wb, rel=2e-3)
    assert 0.75 < emission.kelner_match_factor("Pythia8", 1e6) < 0.9
    # the choice is used: Kelner above the switch differs from extrapolated Kafexhiu
    kaf = emission.dsigma_dEg_mb_GeV(1e7, 1e6, PPModel(high_energy="kafexhiu"))
    kel = emission.dsigma_dEg_mb_GeV(1e7, 1e6, PPModel(high_energy="kelner"))
    assert abs(kel / kaf - 1) > 0.1


@pytest.mark.parametrize("index,cutoff", [(2.0, None), (2.7, None), (2.2, 1 * u.PeV)])
def test_sed_matches_naima_within_1_percent(index, cutoff):
    """Emission of a proton spectrum vs naima's PionDecay (Pythia8, nuclear enhancement,
    lookup table; protons to naima's 10 PeV) over 1 GeV - 1 PeV photons: <= 1 %."""
    if cutoff is None:
        pl = naima.models.PowerLaw(1e36 / u.eV, 1 * u.TeV, index)
    else:
        pl = naima.models.ExponentialCutoffPowerLaw(1e36 / u.eV, 1 * u.TeV, index, cutoff)
    ref = naima.models.PionDecay(pl, nh=1 / u.cm**3).sed(EG, distance=1 * u.kpc)
    Ep = emission.proton_grid(1e7) * u.GeV
    mine = gamma_sed(EG, Ep, pl(Ep), 1 / u.cm**3, 1 * u.kpc, PPModel(high_energy="kafexhiu"))
    assert mine.unit == u.erg / u.cm**2 / u.s
    dev = np.abs((mine / ref).decompose().value - 1)
    assert np.max(dev) <= 0.01


def test_energy_conservation():
    """Photon power < power the protons lose in inelastic collisions, c n sigma_inel T_p
    (the nuclear factor multiplies both); here the photons carry ~1/6-1/3 of it."""
    Ep = emission.proton_grid(1e8)
    N = Ep**-2.2 * np.exp(-Ep / 1e6)
    Eg = np.geomspace(1e-2, 1e8, 800)
    for model in (PPModel(), PPModel(nuclear_enhancement=False), PPModel(high_energy="kafexhiu")):
        K = emission.kernel(Eg, Ep, model)
        L_gamma = np.trapezoid((K @ N) * Eg, Eg)  # GeV/s per n_H
        Tp = Ep - kafexhiu.M_P
        eps = kafexhiu.nuclear_enhancement(Tp) if model.nuclear_enhancement else 1.0
        sig = np.where(Tp <= 1e6, kafexhiu.sigma_inel_mb(Tp), kelner.sigma_inel_mb(Ep))
        L_loss = np.trapezoid(C_CM_S * MB_CM2 * sig * eps * Tp * N, Ep)
        assert 0.1 < L_gamma / L_loss < 0.5


def test_no_silent_proton_cut():
    """Protons above naima's default 10 PeV do contribute near 1 PeV photons."""
    Ep = emission.proton_grid(1e8) * u.GeV
    N = (Ep.value**-2.0) / u.GeV
    full = gamma_sed([1e6] * u.GeV, Ep, N, 1 / u.cm**3, 1 * u.kpc)
    cut = gamma_sed([1e6] * u.GeV, Ep, N * (Ep.value <= 1e7), 1 / u.cm**3, 1 * u.kpc)
    assert full[0] > 1.2 * cut[0]


def test_bad_inputs():
    Ep = emission.proton_grid(1e7) * u.GeV
    N = np.ones(Ep.size) / u.GeV
    with pytest.raises(InputError, match="n_H"):
        gamma_sed(EG, Ep, N, -1 / u.cm**3, 1 * u.kpc)
    with pytest.raises(InputError, match="E_gamma"):  # a length is not an energy
        gamma_sed(np.ones(3) * u.m, Ep, N, 1 / u.cm**3, 1 * u.kpc)
    with pytest.raises(InputError, match="dN_dE_p"):
        gamma_sed(EG, Ep, N.value * u.s, 1 / u.cm**3, 1 * u.kpc)
    # floats are taken in the documented units (GeV, 1/GeV, cm^-3, kpc; issue 14)
    np.testing.assert_array_equal(
        gamma_sed(EG.to_value(u.GeV), Ep.value, N.value, 1.0, 1.0).value,
        gamma_sed(EG, Ep, N, 1 / u.cm**3, 1 * u.kpc).value,
    )
    with pytest.raises(InputError, match="E_p"):
        gamma_sed(EG, Ep[::-1], N, 1 / u.cm**3, 1 * u.kpc)
    with pytest.raises(InputError, match="hadronic"):
        PPModel(hadronic="EPOS")
    with pytest.raises(InputError, match="high_energy"):
        PPModel(high_energy="none")
    with pytest.raises(InputError, match="ep_max"):
        emission.proton_grid(1.0)
