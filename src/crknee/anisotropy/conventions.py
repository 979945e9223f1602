"""What each experiment measured: the quantity a published dipole amplitude stands for.

The world's dipole data mix quantities (issue #16; Ahlers & Mertsch 2017, Prog. Part.
Nucl. Phys. 94, 184, sec. 3.1).  For a pure dipole sky, intensity
``I(n) = I0 (1 + delta . n)`` with ``delta`` in equatorial (ICRS) Cartesian components
``(d_perp cos a_d, d_perp sin a_d, d_z)``, the conventions are

``"d_perp"``
    the equatorial dipole amplitude ``d_perp = |delta| cos(dec_d)`` (Auger 2020 style);
``"r1"``
    the first-harmonic amplitude in right ascension of the events of one array
    (Rayleigh analysis, Linsley 1975, PRL 34, 1530).  For an array at latitude ``lat``
    observing uniformly in sidereal time with a zenith cut ``theta_max`` the expectation
    is exactly (derivation in :func:`exposure_moments`)

        r1 = d_perp <cos dec> / (1 + d_z <sin dec>),

    ``<.>`` the average over the array's events of an isotropic sky (its relative
    exposure omega(dec) of Sommers 2001, Astropart. Phys. 14, 271, times the solid
    angle cos(dec)).  To first order in delta, r1 = d_perp <cos dec>: that is
    :attr:`Convention.factor`; :meth:`Convention.amplitude` keeps the d_z denominator;
``"r1_dec0"``
    the first harmonic referred to dec = 0 by the experiment (EAS-TOP style): under the
    dipole hypothesis it is d_perp (factor 1);
``"d_3d"``
    the full dipole amplitude |delta| (Auger 2017 Science style): |delta| / d_perp =
    1 / cos(dec_d) depends on the dipole's direction, so there is no fixed factor.

The phase of every convention is the right ascension of the equatorial projection.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.integrate import quad

from crknee.anisotropy.dipole import equatorial, galactic_to_icrs_matrix
from crknee.data.schema import ANISOTROPY_CONVENTIONS
from crknee.errors import DataError, InputError
from crknee.units import value_in

#: What a dataset's amplitude may stand for; defined by the data format (crknee.data.schema).
CONVENTIONS = ANISOTROPY_CONVENTIONS

#: Detector acceptance per unit solid angle as a function of zenith angle theta: "cos"
#: (a flat array: effective area proportional to cos(theta), Sommers 2001) or "flat"
#: (an acceptance independent of theta).
ACCEPTANCES = ("cos", "flat")


def check_site(latitude_deg, zenith_max_deg, acceptance: str = "cos") -> tuple[float, float]:
    """(latitude, zenith cut) as floats [deg] from Quantities or floats in degrees, checked."""
    lat = float(value_in("site latitude_deg", latitude_deg, "deg", "any"))
    zen = float(value_in("zenith_max_deg", zenith_max_deg, "deg", "any"))
    if not -90.0 <= lat <= 90.0:  # also refuses NaN
        raise InputError(f"site latitude must lie in [-90, 90] deg; got {latitude_deg!r}")
    if not 0.0 < zen <= 90.0:
        raise InputError(f"zenith_max must lie in (0, 90] deg; got {zenith_max_deg!r}")
    if acceptance not in ACCEPTANCES:
        raise InputError(f"acceptance must be one of {ACCEPTANCES}; got {acceptance!r}")
    return lat, zen


def relative_exposure(dec_rad, latitude_deg, zenith_max_deg, acceptance: str = "cos") -> np.ndarray:
    """Relative exposure omega(dec) of a ground array with full duty cycle, uniform in
    sidereal time (Sommers 2001, Astropart. Phys. 14, 271).

    With hour angle h, cos(theta) = sin(lat) sin(dec) + cos(lat) cos(dec) cos(h); the
    source at ``dec`` stays above the zenith cut for |h| < alpha_m, with
    xi = (cos theta_max - sin lat sin dec) / (cos lat cos dec) and alpha_m = 0 (xi > 1),
    pi (xi < -1), arccos(xi) otherwise.  Integrating the acceptance over h gives

    - ``"cos"``: omega = cos(lat) cos(dec) sin(alpha_m) + alpha_m sin(lat) sin(dec)
      (Sommers 2001, acceptance proportional to cos theta),
    - ``"flat"``: omega = alpha_m.

    Normalisation is arbitrary (only ratios enter).  ``dec_rad`` plain floats [rad].
    """
    lat, zen = (np.radians(v) for v in check_site(latitude_deg, zenith_max_deg, acceptance))
    dec = np.asarray(dec_rad, dtype=float)
    den = np.cos(lat) * np.cos(dec)
    num = np.cos(zen) - np.sin(lat) * np.sin(dec)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, -np.inf))
    alpha_m = np.arccos(np.clip(xi, -1.0, 1.0))
    if acceptance == "flat":
        return alpha_m
    return np.maximum(den * np.sin(alpha_m) + alpha_m * np.sin(lat) * np.sin(dec), 0.0)


@lru_cache(maxsize=256)
def _moments(lat: float, zen: float, acceptance: str) -> tuple[float, float]:
    # kinks of omega(dec) where xi = +-1: dec = lat +- theta_max and dec = +-pi - theta_max - lat
    lr, zr = np.radians(lat), np.radians(zen)
    kinks = sorted(k for k in (lr - zr, lr + zr, np.pi - zr - lr, -np.pi + zr - lr) if -np.pi / 2 < k < np.pi / 2)

    def integral(power_cos: int, sin: bool) -> float:
        def f(dec):
            w = float(relative_exposure(dec, lat, zen, acceptance))
            return w * np.cos(dec) ** power_cos * (np.sin(dec) if sin else 1.0)

        return quad(f, -np.pi / 2, np.pi / 2, points=kinks or None, limit=200, epsabs=1e-13, epsrel=1e-11)[0]

    norm = integral(1, False)
    if not norm > 0:
        raise InputError(f"an array at latitude {lat} deg with zenith_max {zen} deg sees no sky")
    return integral(2, False) / norm, integral(1, True) / norm


def exposure_moments(latitude_deg, zenith_max_deg, acceptance: str = "cos") -> tuple[float, float]:
    """(<cos dec>, <sin dec>) over the events of an isotropic sky seen by the array.

    Events per solid angle are proportional to omega(dec) (:func:`relative_exposure`) and
    dOmega = cos(dec) d(dec) d(RA), so <g> = int omega g cos dec d(dec) / int omega cos dec
    d(dec) (adaptive quadrature, breakpoints at the kinks of omega).  For a dipole sky
    1 + d_perp cos(dec) cos(RA - a_d) + d_z sin(dec) the Rayleigh vector
    (2/N) sum (cos RA, sin RA) of an exposure uniform in RA tends to
    d_perp <cos dec> / (1 + d_z <sin dec>) (cos a_d, sin a_d): the numerator's cos(RA - a_d)
    term picks <cos^2 dec>, the denominator (the number of events) gains d_z <sin dec>.
    """
    lat, zen = check_site(latitude_deg, zenith_max_deg, acceptance)
    return _moments(lat, zen, acceptance)


def mean_cos_dec(latitude_deg, zenith_max_deg, acceptance: str = "cos") -> float:
    """Exposure-weighted <cos dec> of an array at ``latitude_deg`` with zenith cut
    ``zenith_max_deg`` [deg], full duty cycle, acceptance proportional to cos(theta)
    (Sommers 2001) unless ``acceptance="flat"``: the first-order factor r1 / d_perp.

    Analytic checks: latitude 0, zenith_max 90: 8 / (3 pi) ("cos"), pi / 4 ("flat", a
    uniform exposure of the whole sky); a pole with zenith_max theta_m: (2/3) sin(theta_m)
    ("cos").
    """
    return exposure_moments(latitude_deg, zenith_max_deg, acceptance)[0]


@dataclass(frozen=True)
class Convention:
    """The quantity one dataset's amplitude stands for (one of :data:`CONVENTIONS`).

    ``latitude_deg`` and ``zenith_max_deg`` (the site) are required for ``"r1"`` and
    ignored otherwise; ``reference`` says where the convention and site come from.
    """

    kind: str
    latitude_deg: float | None = None
    zenith_max_deg: float | None = None
    reference: str = ""

    def __post_init__(self):
        if self.kind not in CONVENTIONS:
            raise InputError(f"convention must be one of {CONVENTIONS}; got {self.kind!r}")
        if self.kind == "r1":
            if self.latitude_deg is None or self.zenith_max_deg is None:
                raise InputError("convention 'r1' needs the site: latitude_deg and zenith_max_deg")
            lat, zen = check_site(self.latitude_deg, self.zenith_max_deg)
            object.__setattr__(self, "latitude_deg", lat)
            object.__setattr__(self, "zenith_max_deg", zen)

    @classmethod
    def from_meta(cls, meta: dict, label: str) -> Convention:
        """From a dataset's meta (keys ``convention``, ``site_latitude_deg``,
        ``zenith_max_deg``, ``convention_reference``); :class:`DataError` naming ``label``
        and the key on a missing or bad entry."""
        kind = meta.get("convention")
        if kind is None:
            raise DataError(f"{label}: meta key 'convention' is missing (one of {CONVENTIONS})")
        if kind not in CONVENTIONS:
            raise DataError(f"{label}: meta key 'convention' must be one of {CONVENTIONS}; got {kind!r}")
        site = {}
        if kind == "r1":
            for key in ("site_latitude_deg", "zenith_max_deg"):
                value = meta.get(key)
                if value is None:
                    raise DataError(f"{label}: convention 'r1' needs meta key {key!r}")
                try:
                    site[key] = float(value)
                except (TypeError, ValueError):
                    raise DataError(f"{label}: meta key {key!r} must be a number [deg]; got {value!r}") from None
            try:
                check_site(site["site_latitude_deg"], site["zenith_max_deg"])
            except InputError as exc:
                raise DataError(f"{label}: {exc}") from None
        return cls(
            kind, site.get("site_latitude_deg"), site.get("zenith_max_deg"), str(meta.get("convention_reference", ""))
        )

    @property
    def factor(self) -> float:
        """Published amplitude / d_perp for a pure dipole, to first order in delta:
        <cos dec> of the site for ``"r1"``, 1 for ``"d_perp"`` and ``"r1_dec0"``.
        ``"d_3d"`` has none (1 / cos(dec_d) depends on the dipole): :class:`InputError`."""
        if self.kind == "r1":
            return mean_cos_dec(self.latitude_deg, self.zenith_max_deg)
        if self.kind == "d_3d":
            raise InputError(
                "convention 'd_3d' has no fixed factor: |delta| / d_perp = 1 / cos(dec) of the "
                "dipole; use Convention.amplitude"
            )
        return 1.0

    @property
    def approximate(self) -> bool:
        """True where the conversion rests on assumptions beyond the pure dipole:
        ``"r1"`` (the exposure model: acceptance proportional to cos(theta), full duty
        cycle, a sharp zenith cut independent of energy, the Rayleigh analysis of event
        counts; analyses that fit relative-intensity maps or use East-West / time-
        scrambling methods weight declinations differently) and ``"r1_dec0"`` (the
        experiment's own projection to dec = 0, not re-derived here).  ``"d_perp"`` and
        ``"d_3d"`` are exact."""
        return self.kind in ("r1", "r1_dec0")

    def amplitude(self, dipole_xyz_gal) -> np.ndarray:
        """Published amplitude predicted for Galactic Cartesian dipole(s) (..., 3).

        ``"r1"`` uses the exact pure-dipole expectation d_perp <cos dec> / (1 + d_z <sin dec>)
        (see :func:`exposure_moments`); it is NaN where 1 + d_z <sin dec> <= 0, which needs
        |delta| > 1, i.e. a negative intensity somewhere on the sky.
        """
        v = np.asarray(dipole_xyz_gal, dtype=float)
        d_perp, _ = equatorial(v)
        if self.kind in ("d_perp", "r1_dec0"):
            return d_perp
        if self.kind == "d_3d":
            return np.linalg.norm(v, axis=-1)
        cos_mean, sin_mean = exposure_moments(self.latitude_deg, self.zenith_max_deg)
        d_z = v @ galactic_to_icrs_matrix()[2]
        den = 1.0 + d_z * sin_mean
        return np.where(den > 0, d_perp * cos_mean / np.where(den > 0, den, 1.0), np.nan)

    def phase(self, dipole_xyz_gal) -> np.ndarray:
        """Phase [deg, RA in [0, 360)]: the right ascension of the equatorial projection
        (the same for every convention)."""
        return equatorial(dipole_xyz_gal)[1]
