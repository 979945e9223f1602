"""Bands of Figs. 2-3 over the plausible box, and the map options from the config."""

import astropy.units as u
import numpy as np
import pytest

import crknee.data
from crknee.config import load
from crknee.gamma import DEFAULTS, HadronicSource, SEDData, datasets_for, fit_sed, protons_at_earth
from crknee.gamma.bands import earth_band, knee_constraints, map_options, sed_envelope
from crknee.gamma.fit import paper_result
from crknee.gamma.maps import ratio_map

E = np.geomspace(1e3, 1e8, 9) * u.GeV
EG = np.geomspace(1e3, 1e6, 6) * u.GeV


@pytest.fixture(scope="module")
def v4641_map():
    data = SEDData.from_tables([crknee.data.load(n) for n in datasets_for("V4641 Sgr")])
    return ratio_map(DEFAULTS["V4641 Sgr"], data, chis=[3e-3, 0.1, 1.0], age_factors=(1.0,)), data


def test_bands_contain_the_default_configuration(v4641_map):
    m, data = v4641_map
    best = fit_sed(DEFAULTS["V4641 Sgr"], data, sample=False).params
    lo, hi = earth_band(m, E, n_energies=9)
    J, _ = protons_at_earth(best, E)
    assert np.all(lo <= J * (1 + 1e-6)) and np.all(J <= hi * (1 + 1e-6))
    # n_H only rescales: the band spans at least the factor 100 of the n_H box
    assert np.all(hi[-3:] / lo[-3:] >= 100 * (1 - 1e-9))
    slo, shi = sed_envelope(m, EG)
    sed = HadronicSource(best).sed(EG)
    assert np.all(slo <= sed * (1 + 1e-6)) and np.all(sed <= shi * (1 + 1e-6))


def test_table2_band_has_no_n_H_spread():
    m = ratio_map(DEFAULTS["MAXI J1820+070"], None, chis=[1.0], age_factors=(1.0,))
    lo, hi = earth_band(m, E, n_energies=9)
    np.testing.assert_allclose(lo.value, hi.value, rtol=1e-12)
    np.testing.assert_allclose(lo.value, protons_at_earth(DEFAULTS["MAXI J1820+070"], E)[0].value, rtol=1e-6)


def test_map_options_put_the_box_edges_on_the_grid():
    o = map_options(load().for_run(True)["gamma"])
    assert 3e-3 in o["chis"] and o["chis"][-1] == 1.0
    assert o["age_factors"][1] == 1.0 and len(o["age_factors"]) == 3
    kc = knee_constraints({"MAXI J1820+070": paper_result(DEFAULTS["MAXI J1820+070"])}, **o)
    c = kc["MAXI J1820+070"]
    assert c.leptonic is None and c.range[0] <= c.map.ratio_ref[1, -1] <= c.range[1]
