"""The ``[propagation_fit]`` configuration: defaults, merge, validation.

Defaults: ``crknee/configs/propagation_fit.toml`` (every prior with its reference).  A user
file (``--config``) holding a ``[propagation_fit]`` table is merged onto them: scalar keys
and the ``datasets`` / ``checks`` lists replace the defaults; ``parameters`` and
``sampler`` are merged entry by entry (a parameter given replaces that parameter's table).
Every error is one line naming the key (:class:`~crknee.errors.ConfigError`).
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path

from crknee.errors import ConfigError

SECTION = "propagation_fit"
#: scalar keys -> (type, lower bound or None)
_SCALARS = {
    "heaviest": (str, None),
    "check_heaviest": (str, None),
    "n_modes": (int, 1),
    "points_per_decade": (int, 4),
    "ekn_min_GeV": (float, 0.0),
    "ekn_max_GeV": (float, 0.0),
    "sys_correlation_length_dex": (float, 0.0),
    "band_samples": (int, 2),
    "sys_correlation_kernel": (str, None),
    "start_evaluations": (int, 0),
    "laplace_weight": (float, 0.0),
    "pilot_rounds": (int, 0),
    "pilot_steps": (int, 2),
}
_TABLES = ("datasets", "checks", "parameters", "sampler")


def default_path() -> Path:
    """Path of the bundled defaults."""
    return Path(str(resources.files("crknee") / "configs" / "propagation_fit.toml"))


def _read(path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_settings(path=None) -> dict:
    """The validated ``[propagation_fit]`` table: defaults merged with ``path`` (or None)."""
    base = _read(default_path())[SECTION]
    if path is not None:
        user = _read(path)
        if SECTION not in user:
            raise ConfigError(f"{path}: no [{SECTION}] table (see {default_path().name})")
        over = user[SECTION]
        if not isinstance(over, dict):
            raise ConfigError(f"{path}: [{SECTION}] must be a table")
        for key, value in over.items():
            if key in ("parameters", "sampler"):
                if not isinstance(value, dict):
                    raise ConfigError(f"{SECTION}.{key} must be a table; got {value!r}")
                base[key] = {**base[key], **value}
            else:
                base[key] = value
    check_scalars(base)
    return base


def check_scalars(section: dict) -> None:
    """Unknown keys and the scalar keys' types and bounds."""
    unknown = sorted(set(section) - set(_SCALARS) - set(_TABLES))
    if unknown:
        raise ConfigError(f"{SECTION}: unknown key {unknown[0]!r} (allowed: {sorted(set(_SCALARS) | set(_TABLES))})")
    for key, (kind, low) in _SCALARS.items():
        if key not in section:
            raise ConfigError(f"{SECTION}.{key} is missing")
        v = section[key]
        if kind is str:
            ok = isinstance(v, str)
        elif kind is int:
            ok = isinstance(v, int) and not isinstance(v, bool) and v >= low
        else:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= low
        if not ok:
            bound = "" if low is None else f" >= {low}"
            raise ConfigError(f"{SECTION}.{key} must be a {kind.__name__}{bound}; got {v!r}")
    from crknee.fit.propagation.covariance import KERNELS

    if section["sys_correlation_kernel"] not in KERNELS:
        raise ConfigError(
            f"{SECTION}.sys_correlation_kernel must be one of {KERNELS}; got {section['sys_correlation_kernel']!r}"
        )
    if section["laplace_weight"] > 1:
        raise ConfigError(f"{SECTION}.laplace_weight must be in [0, 1]; got {section['laplace_weight']!r}")
    if not section["ekn_max_GeV"] > 10 * section["ekn_min_GeV"] > 0:
        raise ConfigError(f"{SECTION}: ekn_max_GeV must exceed 10 x ekn_min_GeV > 0")
