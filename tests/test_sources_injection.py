"""Eq. (5) and its normalisation to an energy or a luminosity."""

import astropy.units as u
import numpy as np
import pytest
from scipy.integrate import quad

from crknee.errors import InputError
from crknee.kinematics import nuclide
from crknee.sources import injection as inj


def _quad_energy(beta, rc, species):
    n = nuclide(species)
    rmin = inj.threshold_rigidity(n)

    def f(x):
        R = np.exp(x)
        return (np.hypot(n.Z * R, n.mass_GeV) - n.mass_GeV) * R ** (1 - beta) * np.exp(-R / rc)

    pts = [np.log(rc)] if rc > rmin else None
    return quad(f, np.log(rmin), np.log(max(rc, rmin)) + 6, points=pts, epsabs=0, epsrel=1e-13, limit=500)[0]


@pytest.mark.parametrize("species", ["H1", "He4", "Fe56"])
@pytest.mark.parametrize("beta,rc", [(1.5, 5.0), (2.0, 300.0), (2.5, 1e5), (3.2, 1e8)])
def test_energy_integral_matches_quad(species, beta, rc):
    assert inj.energy_integral(beta, rc, species) == pytest.approx(_quad_energy(beta, rc, species), rel=1e-9)


def test_threshold_is_one_GeV_kinetic():
    for sp in ("H1", "He4"):
        n = nuclide(sp)
        p = n.Z * inj.threshold_rigidity(n)
        assert np.hypot(p, n.mass_GeV) - n.mass_GeV == pytest.approx(1.0, rel=1e-12)


def test_table_matches_exact_integral():
    comp = inj.galprop_composition()
    rng = np.random.default_rng(3)
    b, rc = rng.uniform(1.0, 4.0, 300), 10 ** rng.uniform(0, 11, 300)
    np.testing.assert_allclose(inj.energy_integral_fast(b, rc, comp), comp.energy_integral(b, rc), rtol=2e-7)
    with pytest.raises(InputError, match="beta"):
        inj.energy_integral_fast(4.5, 1e3, comp)


def test_burst_normalisation_recovers_energy():
    # energy of the spectrum above 1 GeV, summed over species, is the input (1e-9)
    comp = inj.Composition.from_mapping({"H1": 1.0, "He4": 0.1})
    W = 1e50
    total = 0.0
    for sp in ("H1", "He4"):
        n = nuclide(sp)
        R0 = inj.threshold_rigidity(n)

        def q(x):
            return (
                (np.hypot(n.Z * np.exp(x), n.mass_GeV) - n.mass_GeV)
                * np.exp(x)
                * inj.injection_spectrum(
                    np.exp(x) * u.GV, sp, 2.2, 1e6 * u.GV, energy=W * u.erg, composition=comp
                ).to_value(1 / u.GV)
            )

        total += quad(q, np.log(R0), np.log(1e6) + 6, points=[np.log(1e6)], epsrel=1e-12, epsabs=0, limit=400)[0]
    assert total / inj.GEV_PER_ERG == pytest.approx(W, rel=1e-9)


def test_luminosity_is_energy_per_Myr():
    q_b = inj.q0_from_energy(1e38 * inj.S_PER_MYR, 2.5, 1e7)
    assert inj.q0_from_luminosity(1e38, 2.5, 1e7) == pytest.approx(q_b, rel=1e-14)
    assert inj.S_PER_MYR == pytest.approx(3.15576e13, rel=1e-6)
    assert inj.GEV_PER_ERG == pytest.approx(624.15091, rel=1e-7)


def test_galprop_composition_values():
    comp = inj.galprop_composition()
    assert comp.fraction("H1") == 1.0
    assert comp.fraction("He4") == pytest.approx((7.199e4 + 9.033) / 1.06e6, rel=1e-12)
    # Fe isotopes 54, 56, 57, 58 folded onto Fe56 (galdef lines 337-340)
    assert comp.fraction("Fe56") == pytest.approx((49.08 + 697.7 + 21.67 + 3.335) / 1.06e6, rel=1e-12)


@pytest.mark.parametrize(
    "beta,rc,msg", [(0.0, 1e3, "beta"), (-1.0, 1e3, "beta"), (2.0, 0.0, "Rcut"), (2.0, -5.0, "Rcut")]
)
def test_bad_spectrum_raises(beta, rc, msg):
    with pytest.raises(InputError, match=msg):
        inj.injection_spectrum(10 * u.GV, "H1", beta, rc * u.GV, energy=1e50 * u.erg)


def test_energy_or_luminosity_exactly_one():
    with pytest.raises(InputError, match="exactly one"):
        inj.injection_spectrum(10 * u.GV, "H1", 2.0, 1e3 * u.GV)
    with pytest.raises(InputError, match="abundance"):
        inj.Composition.from_mapping({"H1": -1.0})


def test_composition_members_by_element_nuclide_and_all():
    from crknee.errors import UnknownSpeciesError
    from crknee.sources.injection import Composition

    comp = Composition.from_mapping({"H1": 1.0, "He3": 0.01, "He4": 0.07})
    assert comp.members("all") == ["H1", "He3", "He4"]
    assert comp.members("He") == ["He3", "He4"] and comp.members("4He") == ["He4"]
    with pytest.raises(UnknownSpeciesError, match="'C12' is not in the composition"):
        comp.members("C12")
