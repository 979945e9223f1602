"""Simulated event skies of a ground array and their first-harmonic (Rayleigh) analysis.

A sky is ``N`` arrival directions drawn from the intensity ``1 + delta . n`` over the
exposure of an array at latitude ``lat`` with a zenith cut ``theta_max``, full duty cycle
(uniform in sidereal time) and an acceptance proportional to cos(theta) per solid angle
(a flat array; Sommers 2001, Astropart. Phys. 14, 271) or independent of theta
(``acceptance="flat"``).  Used by the tests (coverage of the harmonic likelihood,
conversion factors) and for mock data.

The Rayleigh analysis (Linsley 1975, PRL 34, 1530) of the right ascensions alpha_i:
a = (2/N) sum cos alpha_i, b = (2/N) sum sin alpha_i, amplitude r1 = sqrt(a^2 + b^2),
phase atan2(b, a); for an isotropic sky a and b are independent with variance 2/N, so
sigma = sqrt(2/N) and P(r1 >= r) = exp(-N r^2 / 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.anisotropy.conventions import check_site
from crknee.errors import InputError


def _local_directions(rng, n: int, lat_rad: float, zen_rad: float, acceptance: str):
    """Isotropic-sky events of the array: (ra, dec) [rad] of ``n`` draws."""
    if acceptance == "cos":  # pdf ~ cos(theta) sin(theta): sin^2(theta) uniform
        sin_t = np.sqrt(rng.uniform(0.0, np.sin(zen_rad) ** 2, n))
        cos_t = np.sqrt(1.0 - sin_t**2)
    else:  # pdf ~ sin(theta): cos(theta) uniform
        cos_t = rng.uniform(np.cos(zen_rad), 1.0, n)
        sin_t = np.sqrt(np.clip(1.0 - cos_t**2, 0.0, None))
    azimuth = rng.uniform(0.0, 2.0 * np.pi, n)  # from north through east
    lst = rng.uniform(0.0, 2.0 * np.pi, n)  # local sidereal time, uniform
    sl, cl = np.sin(lat_rad), np.cos(lat_rad)
    sin_dec = np.clip(sl * cos_t + cl * sin_t * np.cos(azimuth), -1.0, 1.0)
    dec = np.arcsin(sin_dec)
    # hour angle: cos(dec) sin(h) = -sin(theta) sin(A);
    # cos(dec) cos(h) = cos(lat) cos(theta) - sin(lat) sin(theta) cos(A)
    h = np.arctan2(-sin_t * np.sin(azimuth), cl * cos_t - sl * sin_t * np.cos(azimuth))
    return np.mod(lst - h, 2.0 * np.pi), dec


def simulate_sky(
    rng: np.random.Generator,
    n_events: int,
    dipole_icrs,
    latitude_deg: float,
    zenith_max_deg: float,
    n_skies: int | None = None,
    acceptance: str = "cos",
):
    """Arrival directions (ra_deg, dec_deg) of ``n_events`` events per sky.

    ``dipole_icrs``: the dipole vector delta in equatorial (ICRS) Cartesian components
    (|delta| <= 1, so that the intensity 1 + delta . n stays >= 0); a Galactic vector v
    becomes ``v @ galactic_to_icrs_matrix().T``.  Events are drawn from the exposure of an
    isotropic sky and kept with probability (1 + delta . n) / (1 + |delta|) (rejection).
    ``n_skies`` independent skies come back as arrays (n_skies, n_events); else (n_events,).
    """
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    lat, zen = check_site(latitude_deg, zenith_max_deg, acceptance)
    d = np.asarray(dipole_icrs, dtype=float)
    if d.shape != (3,) or not np.all(np.isfinite(d)):
        raise InputError(f"dipole_icrs must be 3 finite numbers; got {dipole_icrs!r}")
    norm = float(np.linalg.norm(d))
    if norm > 1.0:
        raise InputError(f"a dipole amplitude |delta| = {norm:.4g} > 1 gives a negative intensity")
    shape = (int(n_events),) if n_skies is None else (int(n_skies), int(n_events))
    total = int(np.prod(shape))
    if total <= 0:
        raise InputError(f"n_events and n_skies must be positive; got {n_events!r}, {n_skies!r}")
    ra_out, dec_out, have = np.empty(total), np.empty(total), 0
    while have < total:
        m = int((total - have) * (1.0 + norm) * 1.05) + 16
        ra, dec = _local_directions(rng, m, np.radians(lat), np.radians(zen), acceptance)
        cd = np.cos(dec)
        weight = 1.0 + d[0] * cd * np.cos(ra) + d[1] * cd * np.sin(ra) + d[2] * np.sin(dec)
        keep = rng.uniform(0.0, 1.0 + norm, m) < weight
        take = min(int(keep.sum()), total - have)
        ra_out[have : have + take] = ra[keep][:take]
        dec_out[have : have + take] = dec[keep][:take]
        have += take
    return np.degrees(ra_out).reshape(shape), np.degrees(dec_out).reshape(shape)


@dataclass(frozen=True)
class Rayleigh:
    """First harmonic in right ascension (Linsley 1975): components ``a``, ``b``,
    ``amplitude`` r1, ``phase_deg`` in [0, 360), ``sigma`` = sqrt(2/N) per component,
    ``n`` events, and ``p_chance`` = exp(-N r1^2 / 4), the probability of an amplitude
    >= r1 from an isotropic sky."""

    a: np.ndarray
    b: np.ndarray
    amplitude: np.ndarray
    phase_deg: np.ndarray
    sigma: np.ndarray
    n: np.ndarray
    p_chance: np.ndarray


def rayleigh(ra_deg, axis: int = -1) -> Rayleigh:
    """Rayleigh analysis of right ascensions ``ra_deg`` [deg] along ``axis`` (events)."""
    ra = np.radians(np.asarray(ra_deg, dtype=float))
    if not np.all(np.isfinite(ra)):
        raise InputError("right ascensions must be finite")
    n = ra.shape[axis]
    if n < 1:
        raise InputError("the Rayleigh analysis needs at least one event")
    a = 2.0 / n * np.cos(ra).sum(axis=axis)
    b = 2.0 / n * np.sin(ra).sum(axis=axis)
    r = np.hypot(a, b)
    n_arr = np.full(np.shape(a), n)
    return Rayleigh(a, b, r, np.degrees(np.arctan2(b, a)) % 360.0, np.sqrt(2.0 / n_arr), n_arr, np.exp(-n * r**2 / 4.0))
