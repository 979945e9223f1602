"""The population specification: source classes, energy grid, halo and discrete region.

Read from the ``[population]`` section of a TOML file (defaults:
``crknee/configs/population.toml``, every number there commented with its reference or
marked as a modelling choice) merged with the ``[propagation]`` section of the same file
(the diffusion coefficient of eq. 2 and the halo H, r_sun, R_gal of the background:
:func:`crknee.propagation.model.model_from_config`).  A bad value raises a one-line
:class:`~crknee.errors.ConfigError` naming ``population.<key>``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from crknee.errors import ConfigError, CrkneeError
from crknee.population.distributions import Distribution
from crknee.sources.injection import PROTONS, Composition, galprop_composition
from crknee.transport import Diffusion
from crknee.units import convert_fields

#: Spatial profiles of the source surface density: eq. 3 (Case & Bhattacharya 1996, the
#: background's) or uniform inside R_gal (for exact continuum checks).
RADIAL = ("eq3", "uniform")
COMPOSITIONS = ("galprop", "protons")
_TOP_KEYS = {
    "E_min_GeV",
    "E_max_GeV",
    "points_per_decade",
    "composition",
    "rho_min_kpc",
    "window_halo_times",
    "skip_rms_max",
}
_CLASS_KEYS = {
    "burst": {"mode", "rate_per_Myr", "radial", "z_s_kpc", "energy_erg", "beta", "Rcut_GV"},
    "continuous": {"mode", "rate_per_Myr", "radial", "z_s_kpc", "luminosity_erg_s", "lifetime_Myr", "beta", "Rcut_GV"},
}


def default_path() -> Path:
    """The bundled defaults ``crknee/configs/population.toml``."""
    return Path(str(resources.files("crknee") / "configs" / "population.toml"))


@dataclass(frozen=True)
class SourceClass:
    """One kind of source (Quantities, or floats in the units of the suffixes).
    ``mode`` "burst" (``energy_erg`` above 1 GeV per source) or
    "continuous" (``luminosity_erg_s`` during ``lifetime_Myr`` from birth); ``rate_per_Myr``
    births in the whole Galaxy; ``beta``, ``Rcut_GV`` of eq. (5); surface density
    ``radial`` and exponential scale height ``z_s_kpc`` (eq. 3)."""

    name: str
    mode: str
    rate_per_Myr: float
    radial: str
    z_s_kpc: float
    beta: Distribution
    Rcut_GV: Distribution
    energy_erg: Distribution | None = None
    luminosity_erg_s: Distribution | None = None
    lifetime_Myr: Distribution | None = None

    #: Documented unit of each dimensional field (a Quantity is converted to it).
    UNITS = {"rate_per_Myr": "1 / Myr", "z_s_kpc": "kpc"}

    def __post_init__(self):
        convert_fields(self, self.UNITS)


@dataclass(frozen=True)
class PopulationSpec:
    """Everything a realisation needs.  ``E_GeV``: total energies per particle;
    ``diffusion``, ``H_kpc``, ``r_sun_kpc``, ``R_gal_kpc``: the background's (eq. 2-3);
    the discrete region of a (species, energy): sources younger than
    ``window_halo_times`` H^2 / D(R) and horizontally closer than a radius >= ``rho_min_kpc``
    chosen so that the relative RMS of the rest stays below ``skip_rms_max``
    (:func:`crknee.population.continuum.continuum`)."""

    classes: tuple
    E_GeV: np.ndarray
    composition: Composition
    diffusion: Diffusion
    H_kpc: float
    r_sun_kpc: float
    R_gal_kpc: float
    rho_min_kpc: float
    window_halo_times: float
    skip_rms_max: float

    #: Documented unit of each dimensional field (a Quantity is converted to it).
    UNITS = {
        "E_GeV": ("GeV", "positive"),
        "H_kpc": "kpc",
        "r_sun_kpc": "kpc",
        "R_gal_kpc": "kpc",
        "rho_min_kpc": "kpc",
        "window_halo_times": "",
        "skip_rms_max": "",
    }

    def __post_init__(self):
        convert_fields(self, self.UNITS)

    def __hash__(self):
        return hash(repr(self))

    def __eq__(self, other):
        return repr(self) == repr(other)

    def window_Myr(self, D_kpc2_Myr) -> np.ndarray:
        """Age limit T of the discrete region [Myr] for diffusion coefficients D."""
        return self.window_halo_times * self.H_kpc**2 / np.asarray(D_kpc2_Myr, dtype=float)


def _num(key, value, lo=0.0, lo_open=True, hi=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number; got {value!r}")
    if (value <= lo if lo_open else value < lo) or (hi is not None and value > hi):
        raise ConfigError(
            f"{key}: {value!r} is out of range {'(' if lo_open else '['}{lo:g}, {hi if hi is not None else 'inf'})"
        )
    return float(value)


def _source_class(name: str, sec: dict) -> SourceClass:
    key = f"population.{name}"
    if not isinstance(sec, dict):
        raise ConfigError(f"{key}: expected a table; got {sec!r}")
    mode = sec.get("mode")
    if mode not in _CLASS_KEYS:
        raise ConfigError(f"{key}.mode: {mode!r} is not one of burst, continuous")
    unknown = sorted(set(sec) - _CLASS_KEYS[mode])
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}: unknown key for mode = {mode!r} (known: {', '.join(sorted(_CLASS_KEYS[mode]))})"
        )
    missing = sorted(_CLASS_KEYS[mode] - set(sec))
    if missing:
        raise ConfigError(f"{key}.{missing[0]}: missing")
    radial = sec["radial"]
    if radial not in RADIAL:
        raise ConfigError(f"{key}.radial: {radial!r} is not one of {', '.join(RADIAL)}")
    dist = {
        k: Distribution.from_toml(f"{key}.{k}", sec[k])
        for k in ("beta", "Rcut_GV", "energy_erg", "luminosity_erg_s", "lifetime_Myr")
        if k in sec
    }
    return SourceClass(
        name=name,
        mode=mode,
        rate_per_Myr=_num(f"{key}.rate_per_Myr", sec["rate_per_Myr"], lo_open=False),
        radial=radial,
        z_s_kpc=_num(f"{key}.z_s_kpc", sec["z_s_kpc"]),
        **dist,
    )


def spec_from_dict(doc: dict) -> PopulationSpec:
    """:class:`PopulationSpec` from a parsed TOML document (``[population]`` merged onto
    the bundled defaults; ``[propagation]`` onto the Table 1 model)."""
    from crknee.propagation.model import model_from_config

    defaults = tomllib.loads(default_path().read_text())["population"]
    user = doc.get("population", {})
    if not isinstance(user, dict):
        raise ConfigError(f"population: expected a table; got {user!r}")
    sec = {k: v for k, v in defaults.items() if not isinstance(v, dict)}
    classes_in = {k: v for k, v in defaults.items() if isinstance(v, dict)}
    for k, v in user.items():
        if isinstance(v, dict) and k in classes_in:
            classes_in[k] = (
                {**classes_in[k], **v} if v.get("mode", classes_in[k]["mode"]) == classes_in[k]["mode"] else v
            )
        elif isinstance(v, dict):
            classes_in[k] = v
        elif k in _TOP_KEYS:
            sec[k] = v
        else:
            raise ConfigError(
                f"population.{k}: unknown key (known: {', '.join(sorted(_TOP_KEYS))}, or a source-class table)"
            )
    classes = tuple(_source_class(k, v) for k, v in classes_in.items() if not (isinstance(v, dict) and v == {}))
    if not any(c.rate_per_Myr > 0 for c in classes):
        raise ConfigError("population: no source class with rate_per_Myr > 0")
    e_lo = _num("population.E_min_GeV", sec["E_min_GeV"], lo=10.0, lo_open=False)
    e_hi = _num("population.E_max_GeV", sec["E_max_GeV"])
    if e_hi < e_lo:
        raise ConfigError(f"population.E_max_GeV: {e_hi!r} is below E_min_GeV = {e_lo!r}")
    ppd = sec["points_per_decade"]
    if isinstance(ppd, bool) or not isinstance(ppd, int) or ppd < 1:
        raise ConfigError(f"population.points_per_decade: expected an integer >= 1; got {ppd!r}")
    if sec["composition"] not in COMPOSITIONS:
        raise ConfigError(f"population.composition: {sec['composition']!r} is not one of {', '.join(COMPOSITIONS)}")
    n = int(round(ppd * np.log10(e_hi / e_lo))) + 1
    try:
        model = model_from_config(doc.get("propagation", {}) or {})
    except CrkneeError as exc:
        raise ConfigError(str(exc)) from None
    f = model.floats()
    return PopulationSpec(
        classes=classes,
        E_GeV=np.geomspace(e_lo, e_hi, n),
        composition=galprop_composition() if sec["composition"] == "galprop" else PROTONS,
        diffusion=model.diffusion,
        H_kpc=f.H,
        r_sun_kpc=f.r_sun,
        R_gal_kpc=f.R_gal,
        rho_min_kpc=_num("population.rho_min_kpc", sec["rho_min_kpc"]),
        window_halo_times=_num("population.window_halo_times", sec["window_halo_times"]),
        skip_rms_max=_num("population.skip_rms_max", sec["skip_rms_max"]),
    )


def check_section(section: dict) -> None:
    """Validator of a crknee config's ``[population]`` section (crknee.config.Delegated)."""
    spec_from_dict({"population": section})


def load_spec(path=None) -> PopulationSpec:
    """Read a TOML file (None: the bundled defaults) into a :class:`PopulationSpec`."""
    if path is None:
        return spec_from_dict({})
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return spec_from_dict(doc)
