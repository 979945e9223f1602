"""The one unit convention at crknee's public boundaries (issue 14, item 1).

Every public constructor and function accepts, for a dimensional argument, either an
astropy Quantity of any compatible unit or a plain float (or array) already in the
documented unit (the argument's name suffix says which: ``d_kpc``, ``D0_cm2_s``).  It is
converted once, here, to a plain float in the documented unit; hot loops never see a
Quantity.  A Quantity of the wrong dimension, a non-numeric value or a value outside the
declared domain raises :class:`crknee.errors.InputError` naming the argument, which the
command line prints as one line.  This is the validation-at-the-edge pattern of naima
(``naima.utils.validate_scalar``), with crknee's errors.
"""

from __future__ import annotations

from functools import lru_cache

import astropy.units as u
import numpy as np

from crknee.errors import InputError

#: Domains a value may be restricted to: name -> (test on a float array, wording).
DOMAINS = {
    "any": (lambda a: np.isfinite(a), "finite"),
    "positive": (lambda a: np.isfinite(a) & (a > 0), "finite and > 0"),
    "non-negative": (lambda a: np.isfinite(a) & (a >= 0), "finite and >= 0"),
    "finite-or-nan": (lambda a: ~np.isinf(a), "finite or NaN (not used)"),
}


@lru_cache(maxsize=256)
def _parsed(unit: str) -> u.UnitBase:
    """``u.Unit`` of a unit string, parsed once (astropy's parser is ~0.3 ms a call)."""
    return u.Unit(unit)


def value_in(name: str, value, unit, domain: str = "any"):
    """``value`` as a float (or float array) in ``unit``.

    ``value``: a Quantity convertible to ``unit`` (spectral equivalencies are not applied:
    an energy is an energy), or a number / array taken to be in ``unit`` already.  ``unit``:
    an astropy unit or its string ("kpc", "cm2 / s"; "" for dimensionless).  ``domain``:
    one of :data:`DOMAINS`.  Returns a Python float for a scalar, else a float ndarray.
    Raises :class:`InputError` naming ``name`` on a wrong dimension, a non-numeric value or
    a value outside ``domain``.
    """
    if domain not in DOMAINS:
        raise InputError(f"unknown domain {domain!r} for {name}; expected one of {sorted(DOMAINS)}")
    target = _parsed(unit) if isinstance(unit, str) else u.Unit(unit)
    if isinstance(value, u.Quantity):
        try:
            arr = value.to_value(target)
        except u.UnitConversionError:
            raise InputError(
                f"{name} has unit {value.unit.to_string() or 'dimensionless'} "
                f"({value.unit.physical_type}), not convertible to "
                f"{target.to_string() or 'dimensionless'} ({target.physical_type})"
            ) from None
    else:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                f"{name} must be a number in {target.to_string() or 'dimensionless units'} or a Quantity; got {value!r}"
            ) from None
    arr = np.asarray(arr, dtype=float)
    test, wording = DOMAINS[domain]
    bad = ~test(arr)
    if np.any(bad):
        raise InputError(f"{name} must be {wording}; got {arr[bad].flat[0]!r}")
    return float(arr) if arr.ndim == 0 else arr


def convert_fields(obj, units) -> None:
    """Replace, in place, each Quantity field of the (frozen) dataclass ``obj`` named in
    ``units`` (field name -> documented unit, or (unit, domain)) by its float value in that unit.

    Called first in ``__post_init__`` of the public dataclasses, so that
    ``PointSource(d_kpc=2.64 * u.kpc, ...)`` and ``PointSource(d_kpc=2.64, ...)`` build the
    same object; a Quantity of the wrong dimension raises :class:`InputError` naming the
    field (:func:`value_in`).  Plain numbers and None are left to the class's own checks.
    """
    for name, unit in units.items():
        unit, domain = unit if isinstance(unit, tuple) else (unit, "any")
        value = getattr(obj, name)
        if isinstance(value, u.Quantity):
            object.__setattr__(obj, name, value_in(name, value, unit, domain))
