"""Field-aligned dipole (crknee.anisotropy.field): projection on the local magnetic field."""

import astropy.units as u
import numpy as np
import pytest

from crknee.anisotropy import equatorial, unit_vector
from crknee.anisotropy.field import (
    IBEX_FIELD,
    IBEX_RIBBON_CENTRE_ECLIPTIC_DEG,
    IBEX_RIBBON_CENTRE_GALACTIC_DEG,
    FieldAlignment,
)
from crknee.errors import CrkneeError


def _perpendicular(b):
    """A unit vector perpendicular to b."""
    v = np.cross(b, [0.0, 0.0, 1.0])
    return v / np.linalg.norm(v)


def test_ibex_direction_is_the_funsten_ribbon_centre_in_galactic_coordinates():
    from astropy.coordinates import BarycentricMeanEcliptic, SkyCoord

    lam, beta = IBEX_RIBBON_CENTRE_ECLIPTIC_DEG
    gal = SkyCoord(lam * u.deg, beta * u.deg, frame=BarycentricMeanEcliptic(equinox="J2000")).galactic
    assert IBEX_RIBBON_CENTRE_GALACTIC_DEG == pytest.approx((gal.l.deg, gal.b.deg), abs=1e-6)
    assert (IBEX_FIELD.l_deg, IBEX_FIELD.b_deg) == IBEX_RIBBON_CENTRE_GALACTIC_DEG
    assert 0.0 <= IBEX_FIELD.ratio < 1.0


@pytest.mark.parametrize("ratio", [0.0, 0.01, 0.1, 0.5])
def test_parallel_unchanged_perpendicular_suppressed_by_the_ratio(ratio):
    f = FieldAlignment(120.0, -30.0, ratio)
    b = unit_vector(120.0, -30.0)
    perp = _perpendicular(b)
    np.testing.assert_allclose(f.project(3e-3 * b), 3e-3 * b, rtol=1e-14, atol=1e-18)
    np.testing.assert_allclose(f.project(-2e-3 * b), -2e-3 * b, rtol=1e-14, atol=1e-18)
    np.testing.assert_allclose(f.project(5e-3 * perp), ratio * 5e-3 * perp, rtol=1e-14, atol=1e-18)
    # a general vector: its parallel part kept, its perpendicular part times the ratio
    v = 1e-3 * (0.6 * b + 0.8 * perp)
    np.testing.assert_allclose(f.project(v), 1e-3 * (0.6 * b + 0.8 * ratio * perp), rtol=1e-13, atol=1e-19)


def test_ratio_one_is_the_identity_and_the_field_is_an_axis():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(4, 5, 3))
    np.testing.assert_allclose(FieldAlignment(33.0, 12.0, 1.0).project(v), v, rtol=0, atol=1e-15)
    f, g = FieldAlignment(33.0, 12.0, 0.2), FieldAlignment(33.0 + 180.0, -12.0, 0.2)  # b and -b
    np.testing.assert_allclose(f.project(v), g.project(v), rtol=0, atol=1e-14)


def test_projection_is_linear_symmetric_and_shrinks():
    rng = np.random.default_rng(4)
    f = FieldAlignment(250.0, 40.0, 0.05)
    x, y = rng.normal(size=(2, 100, 3))
    np.testing.assert_allclose(f.project(2.0 * x - 3.0 * y), 2.0 * f.project(x) - 3.0 * f.project(y), atol=1e-13)
    # symmetric operator: x . P y = P x . y; idempotent only for ratio 0 or 1
    np.testing.assert_allclose(np.sum(x * f.project(y), -1), np.sum(f.project(x) * y, -1), atol=1e-13)
    p0 = FieldAlignment(250.0, 40.0, 0.0)
    np.testing.assert_allclose(p0.project(p0.project(x)), p0.project(x), atol=1e-14)
    # never longer than the input, never shorter than ratio x the input
    n_in, n_out = np.linalg.norm(x, axis=-1), np.linalg.norm(f.project(x), axis=-1)
    assert np.all(n_out <= n_in * (1 + 1e-12)) and np.all(n_out >= 0.05 * n_in * (1 - 1e-12))
    # NaN (no flux, no direction) stays NaN
    assert np.all(np.isnan(f.project(np.full(3, np.nan))))


@pytest.mark.parametrize("l_deg, b_deg", [(34.68, 56.61), (270.0, 10.0), (100.0, -60.0)])
def test_phase_of_a_strongly_projected_dipole_follows_the_field_ra(l_deg, b_deg):
    f = FieldAlignment(l_deg, b_deg, 0.0)
    _, ra_field = equatorial(unit_vector(l_deg, b_deg))
    rng = np.random.default_rng(5)
    v = rng.normal(size=(200, 3))
    v = v[np.abs(v @ unit_vector(l_deg, b_deg)) > 0.1]  # gradients not perpendicular to the field
    _, ra = equatorial(f.project(v))
    diff = (ra[:, None] - np.array([ra_field, ra_field + 180.0])[None, :] + 180.0) % 360.0 - 180.0
    assert np.all(np.min(np.abs(diff), axis=1) < 1e-9)  # the axis, either sign
    # the sign follows the gradient's side of the field
    toward = (v @ unit_vector(l_deg, b_deg)) > 0
    assert np.all(np.abs(diff[toward, 0]) < 1e-9) and np.all(np.abs(diff[~toward, 1]) < 1e-9)


def test_quantities_accepted_and_bad_input_rejected():
    f = FieldAlignment(0.5 * np.pi * u.rad, 10 * u.deg, 0.3 * u.dimensionless_unscaled)
    assert f.l_deg == pytest.approx(90.0) and f.b_deg == pytest.approx(10.0) and f.ratio == pytest.approx(0.3)
    for kwargs, match in (
        ({"ratio": 1.5}, "ratio"),
        ({"ratio": -0.1}, "ratio"),
        ({"ratio": np.nan}, "ratio"),
        ({"b_deg": 95.0}, "latitude"),
        ({"l_deg": np.inf}, "longitude"),
        ({"l_deg": 3 * u.kpc}, "angle"),
        ({"ratio": "x"}, "ratio"),
    ):
        with pytest.raises(CrkneeError, match=match):
            FieldAlignment(**kwargs)
    with pytest.raises(CrkneeError, match="length 3"):
        IBEX_FIELD.project(np.zeros((4, 2)))
