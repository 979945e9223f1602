"""One exception family for crknee.

Every error carries the offending value in its message so that the command line can
print one line and exit non-zero (``crknee.cli`` turns any :class:`CrkneeError` into
``error: <message>``).
"""


class CrkneeError(Exception):
    """Base class of every error raised deliberately by crknee."""


class InputError(CrkneeError, ValueError):
    """A physical input is out of its domain (negative distance, NaN energy, ...)."""


class UnknownSpeciesError(CrkneeError, KeyError):
    """A nuclide or element name that crknee does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(CrkneeError):
    """A dataset is unknown, missing, corrupt or malformed."""


class ConfigError(CrkneeError, ValueError):
    """A configuration file or value is malformed (unknown key, wrong unit, bad range)."""


def check_finite_positive(name: str, value, *, allow_zero: bool = False):
    """Raise :class:`InputError` naming ``name`` unless every element is finite and > 0.

    ``value`` may be a float, an array or an astropy Quantity (checked on its value).
    Returns ``value`` unchanged so it can be used inline.
    """
    import numpy as np

    arr = np.asarray(getattr(value, "value", value), dtype=float)
    bad = ~np.isfinite(arr) | ((arr < 0) if allow_zero else (arr <= 0))
    if np.any(bad):
        first = arr[bad].flat[0]
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be finite and {bound}; got {first!r}")
    return value
