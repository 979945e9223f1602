"""Galactic-plane frame of the X-ray-binary map (paper Fig. 10).

Galactocentric Cartesian coordinates in the Galactic plane, in astropy's Galactocentric
orientation (no Sun height, no roll): the Galactic centre (GC) is the origin, the Sun sits
at (x, y) = (-R_SUN, 0), +x points from the Sun toward the GC (l = 0) and +y toward
l = 90 deg.  A source at Galactic (l, b, d) is at

    x = d cos b cos l - R_SUN,    y = d cos b sin l,

i.e. the heliocentric Galactic Cartesian vector of ``docs/architecture.md`` shifted by the
Sun-GC distance and projected onto the plane (the posterior samples carry no latitude and
are placed at b = 0, the paper's in-plane assumption).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.units import value_in

#: Sun-Galactic-centre distance, r_sun = 8.5 kpc (paper Sec. 2, below eq. 3; the same
#: value as crknee.propagation's solar radius).
R_SUN = 8.5 * u.kpc


def plane_xy_kpc(l_deg, d_kpc, b_deg=0.0):
    """Float kernel of :func:`galactic_plane_xy`: degrees and kpc in, (x, y) in kpc out."""
    l_rad = np.deg2rad(l_deg)
    rho = np.asarray(d_kpc, dtype=float) * np.cos(np.deg2rad(b_deg))
    return rho * np.cos(l_rad) - R_SUN.to_value(u.kpc), rho * np.sin(l_rad)


def galactic_plane_xy(l, d, b=0 * u.deg):
    """Galactocentric in-plane position (x, y) [kpc] of Galactic (l, b, distance d).

    ``l``, ``b`` are angle Quantities (or floats in deg), ``d`` a length Quantity (or floats
    in kpc); they broadcast.  Raises
    :class:`InputError` for a non-finite angle, |b| > 90 deg, or a negative/non-finite
    distance.  Example: l = 0, d = 8.5 kpc returns (0, 0), the Galactic centre.
    """
    l_deg = np.asarray(value_in("l", l, "deg"), dtype=float)
    b_deg = np.asarray(value_in("b", b, "deg"), dtype=float)
    d_kpc = np.asarray(value_in("d", d, "kpc", "finite-or-nan"), dtype=float)
    if np.any(np.abs(b_deg) > 90.0):
        raise InputError(f"b must lie in [-90, 90] deg; got {b_deg[np.abs(b_deg) > 90].flat[0]!r} deg")
    bad = ~np.isfinite(d_kpc) | (d_kpc < 0)
    if np.any(bad):
        raise InputError(f"distance must be finite and >= 0; got {d_kpc[bad].flat[0]!r} kpc")
    x, y = plane_xy_kpc(l_deg, d_kpc, b_deg)
    return x * u.kpc, y * u.kpc
