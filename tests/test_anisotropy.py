"""Dipole formula, vector sums and the equatorial projection."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from crknee import anisotropy as an
from crknee.constants import C_CM_S, KPC_PER_CM
from crknee.errors import InputError


def test_galactic_centre_phase_is_sgr_a_star():
    amp, ra = an.equatorial(an.unit_vector(0.0, 0.0))
    assert ra == pytest.approx(266.40, abs=0.01)  # Sgr A*: RA 17h45m40s = 266.4 deg
    _, ra_anti = an.equatorial(an.unit_vector(180.0, 0.0))
    assert ra_anti == pytest.approx(266.40 - 180.0, abs=0.01)
    assert amp == pytest.approx(np.cos(np.radians(-28.936)), abs=1e-4)


def test_pole_projects_to_zero():
    pole_gal = SkyCoord(ra=0 * u.deg, dec=90 * u.deg, frame="icrs").galactic
    amp, _ = an.equatorial(0.3 * an.unit_vector(pole_gal.l.deg, pole_gal.b.deg))
    assert amp < 1e-12


def test_projection_matches_astropy_for_random_vectors():
    rng = np.random.default_rng(5)
    l, b, r = rng.uniform(0, 360, 50), np.degrees(np.arcsin(rng.uniform(-1, 1, 50))), rng.uniform(0.01, 1, 50)
    amp, ra = an.equatorial(r[:, None] * an.unit_vector(l, b))
    sc = SkyCoord(l=l * u.deg, b=b * u.deg, frame="galactic").icrs
    np.testing.assert_allclose(amp, r * np.cos(sc.dec.rad), rtol=1e-10)
    np.testing.assert_allclose(np.cos(np.radians(ra - sc.ra.deg)), 1.0, atol=1e-12)


def test_dipole_from_gradient_units():
    # lambda = 3 D / c: D = 1e29 cm^2/s -> 1e19 cm = 3.2408e-3 kpc; grad ln psi = 1/kpc along y
    d = an.dipole_from_gradient(1e29, np.array([0.0, 2.0, 0.0]), 2.0)
    assert d == pytest.approx([0.0, 3e29 / C_CM_S * KPC_PER_CM, 0.0], rel=1e-12)
    assert KPC_PER_CM == pytest.approx(1 / 3.0857e21, rel=1e-4)


def test_background_radial_gradient_points_outward_as_minus_x():
    v = an.background_gradient_vector(0.5, -0.1)
    assert v.tolist() == [-0.5, 0.0, -0.1]


def test_combine_is_flux_weighted():
    J, d = an.combine([1.0, 3.0], [[1.0, 0, 0], [0, 1.0, 0]])
    assert J == 4.0
    assert d.tolist() == [0.25, 0.75, 0.0]


def test_bad_vector_shape():
    with pytest.raises(InputError, match="length 3"):
        an.equatorial(np.zeros((4, 2)))


def test_equatorial_quantity_units():
    amp, ra = an.equatorial_quantity(an.unit_vector(0.0, 0.0))
    assert amp.unit == u.dimensionless_unscaled and ra.unit == u.deg
    assert ra.value == pytest.approx(266.40, abs=0.01)


def test_combine_without_particles_is_nan():
    _, d = an.combine([[0.0], [0.0]], [[[1.0, 0, 0]], [[0, 1.0, 0]]])
    assert np.isnan(d).all()


def test_combine_ignores_empty_component_with_nan_dipole():
    """An empty component (e.g. the background above its solver grid, whose own dipole
    is NaN there) must not turn the total dipole into NaN."""
    J, d = an.combine([[0.0, 1.0], [2.0, 3.0]], [[[np.nan] * 3, [1.0, 0, 0]], [[0, 1.0, 0], [0, 1.0, 0]]])
    np.testing.assert_allclose(J, [2.0, 4.0])
    np.testing.assert_allclose(d, [[0, 1.0, 0], [0.25, 0.75, 0]])
