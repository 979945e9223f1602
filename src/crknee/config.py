"""The analysis configuration: a TOML file, validated against one schema.

Conventions (also in ``docs/reproduce.md``):

* A key's name ends with its unit (``D0_cm2_s``, ``d_kpc``, ``Rcut_GV``, ``L0_erg_s``),
  as everywhere in crknee.  The value is a plain number in that unit, or, if you prefer
  writing units out, a string ``"<number> <unit>"`` that astropy can parse
  (``D0_cm2_s = "3.2e24 m2 / s"``); it is converted to the key's unit and a unit of the
  wrong dimension is an error.  Dimensionless keys have no suffix.
* The shipped ``paper`` config (``crknee config show paper``) holds every number of the
  paper's Tables 1-2 and every choice the paper leaves open, each commented with its source.
* A user file is merged onto the paper config: it needs only the keys it changes.
  Unknown sections or keys, a wrong type, a wrong unit or a value out of range raise
  :class:`~crknee.errors.ConfigError` with a one-line message that starts with the key.
* ``[fast]`` mirrors the other sections and overrides them when the pipeline runs with
  ``--fast`` (coarser grids, a shorter chain).
* ``[fit]`` follows crknee.fit's own schema (docs/fit.md) and is validated by crknee.fit's
  validators (:class:`Delegated`); lists and arrays of tables replace the paper's whole.

API: :func:`load`, :func:`validate`, :func:`show`, :func:`paper_path`, :class:`Config`.
The schema of every key is :data:`SCHEMA`.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import astropy.units as u

from crknee import parameters
from crknee.errors import ConfigError

#: Bundled configurations, by name.
BUNDLED = ("paper",)


@dataclass(frozen=True)
class Key:
    """Schema of one configuration key.

    ``kind``: "float", "int", "bool", "str", "floats" (list of numbers), "dataset" /
    "datasets" (one / a list of names known to :func:`crknee.data.names`).  ``unit``: the
    unit of a numeric key (astropy string) or None.  ``lo``/``hi``: bounds;
    ``lo_open``/``hi_open`` make them strict.  ``choices``: allowed strings.  ``length``:
    required list length.  ``increasing``: list must increase.
    """

    kind: str
    unit: str | None = None
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple | None = None
    length: int | None = None
    increasing: bool = False


@dataclass(frozen=True)
class Named:
    """A table of user-named entries (e.g. one per source), each following ``schema``."""

    schema: dict


@dataclass(frozen=True)
class Delegated:
    """A section validated by its owner module: ``"module:function"`` taking the section
    dict and raising :class:`ConfigError` naming the key (e.g. ``[fit]``, crknee.fit.schema)."""

    validator: str


def _f(unit=None, lo=None, hi=None, *, lo_open=False, hi_open=False):
    return Key("float", unit, lo, hi, lo_open, hi_open)


def _pos(unit=None, hi=None):
    return Key("float", unit, 0.0, hi, lo_open=True)


def _int(lo=1):
    return Key("int", None, lo)


def _range(unit=None, lo=None, lo_open=False):
    return Key("floats", unit, lo, lo_open=lo_open, length=2, increasing=True)


def key_from_parameter(p: parameters.Parameter) -> Key:
    """The schema :class:`Key` of a declared parameter (:mod:`crknee.parameters`)."""
    if p.kind == "range":
        return Key("floats", p.unit, p.lo, lo_open=p.lo_open, length=2, increasing=True)
    if p.kind in ("str", "datasets"):
        return Key(p.kind, choices=p.choices)
    return Key(p.kind, p.unit, p.lo, p.hi, p.lo_open, p.hi_open)


_BOOL = Key("bool")
_STR = Key("str")

_SOURCE = {  # crknee.gamma.SourceParams fields, plus the SED datasets and whether to refit
    "l_deg": _f("deg", -180.0, 360.0),
    "b_deg": _f("deg", -90.0, 90.0),
    "d_kpc": _pos("kpc"),
    "extension_deg": _f("deg", 0.0, 90.0, lo_open=True, hi_open=True),
    "n_H_cm3": _f("cm-3", 0.0),
    "age_Myr": _pos("Myr"),
    "beta": _pos(),
    "L0_erg_s": _pos("erg / s"),
    "Rcut_GV": _pos("GV"),
    "nuclear_enhancement": _BOOL,
    "hadronic": Key("str", choices=("Pythia8", "SIBYLL", "QGSJET", "Geant4")),
    "high_energy": Key("str", choices=("kelner", "kafexhiu")),
    "diffusion_suppression": _f(None, 0.0, 1.0e3, lo_open=True),
    "table2": _BOOL,
    "sed": Key("datasets"),
    "refit": _BOOL,
}

#: Source keys that may be left out: n_H_cm3 (then the gas model at (l, b, d), crknee.gamma.target).
_SOURCE_OPTIONAL = ("n_H_cm3",)


#: The schema of every section and key.
SCHEMA: dict = {
    "run": {
        "workers": _int(1),
    },
    "propagation": {p.key: key_from_parameter(p) for p in parameters.BACKGROUND},  # crknee.parameters
    "bc": {
        "chi2_dataset": Key("dataset"),
        "plot_datasets": Key("datasets"),
    },
    "local_snr": {
        "name": _STR,
        "fit_datasets": Key("datasets"),
        "fit_window_GeV": _range("GeV", 0.0, lo_open=True),
    },
    "gamma": {
        "sources": Named(_SOURCE),
        "cutoff": Key("str", choices=("auto", "always", "never")),
        "nwalkers": _int(8),
        "nsteps": _int(2),
        "burn": _int(1),
        "seed": _int(0),
        "map_chi_points": _int(2),
        "map_n_H_points": _int(2),
        "plausible_chi": _range(None, 0.0, lo_open=True),
        "plausible_n_H_factor": _range(None, 0.0, lo_open=True),
        "plausible_age_factor": _range(None, 0.0, lo_open=True),
        "leptonic": _BOOL,
    },
    "protons": {
        "reference_dataset": Key("dataset"),
        "reference_E_GeV": _pos("GeV"),
        "plot_datasets": Key("datasets"),
    },
    "knee_mcmc": {
        "fixed_points_per_decade": _int(4),
    },
    "fit": Delegated("crknee.config:_check_fit"),
    "fit_modes": Delegated("crknee.fit.evidence:check_modes"),
    "evidence": Delegated("crknee.fit.evidence:check_section"),
    "population": Delegated("crknee.population.spec:check_section"),
    "candidates": {
        "catalogs": Key("datasets"),
        "b_max_deg": _pos("deg", 90.0),
        "convention": Key("str", choices=("1d", "2d")),
    },
}

_SECTIONS_WITH_FAST = (
    "run",
    "propagation",
    "bc",
    "gamma",
    "protons",
    "local_snr",
    "knee_mcmc",
    "fit",
    "fit_modes",
    "evidence",
    "candidates",
)


def paper_path() -> Path:
    """Path of the bundled paper configuration (``crknee/configs/paper.toml``)."""
    return Path(str(resources.files("crknee") / "configs" / "paper.toml"))


def show(name: str = "paper") -> str:
    """The text of a bundled configuration, comments included."""
    if name not in BUNDLED:
        raise ConfigError(f"config {name!r}: unknown bundled config (known: {', '.join(BUNDLED)})")
    return paper_path().read_text()


def _parse_toml(text: str, origin: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None


def _number(path: str, key: Key, value):
    if isinstance(value, bool):
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    if isinstance(value, str):
        if key.unit is None:
            raise ConfigError(f"{path}: expected a dimensionless number, got {value!r}")
        try:
            q = u.Quantity(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: cannot read {value!r} as '<number> <unit>'") from None
        try:
            value = float(q.to_value(key.unit))
        except u.UnitConversionError:
            raise ConfigError(
                f"{path}: wrong unit {str(q.unit)!r}, expected {key.unit!r} (or a plain number in it)"
            ) from None
    elif not isinstance(value, (int, float)):
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{path}: must be finite, got {value!r}")
    lo_bad = key.lo is not None and (value <= key.lo if key.lo_open else value < key.lo)
    hi_bad = key.hi is not None and (value >= key.hi if key.hi_open else value > key.hi)
    if lo_bad or hi_bad:
        lo = "" if key.lo is None else ("(" if key.lo_open else "[") + f"{key.lo:g}"
        hi = "" if key.hi is None else f"{key.hi:g}" + (")" if key.hi_open else "]")
        raise ConfigError(f"{path}: {value!r} is out of range {lo or '(-inf'}, {hi or 'inf)'}")
    return value


def _dataset(path: str, name: str) -> str:
    from crknee.data import names

    if name not in names():
        raise ConfigError(
            f"{path}: unknown dataset {name!r} (see `crknee data list`; add your own with `crknee data add`)"
        )
    return name


def _value(path: str, key: Key, value):
    if key.kind == "float":
        return _number(path, key, value)
    if key.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        return int(_number(path, key, value))
    if key.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {value!r}")
        return value
    if key.kind == "dataset":
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a dataset name, got {value!r}")
        return _dataset(path, value)
    if key.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        if key.choices is not None and value not in key.choices:
            raise ConfigError(f"{path}: {value!r} is not one of {', '.join(key.choices)}")
        return value
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list, got {value!r}")
    if key.length is not None and len(value) != key.length:
        raise ConfigError(f"{path}: expected {key.length} values, got {len(value)}")
    if key.kind == "datasets":
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            raise ConfigError(f"{path}: expected dataset names, got {bad[0]!r}")
        return [_dataset(path, v) for v in value]
    out = [_number(f"{path}[{i}]", key, v) for i, v in enumerate(value)]
    if key.increasing and any(b <= a for a, b in zip(out, out[1:])):
        raise ConfigError(f"{path}: values must increase, got {out}")
    return out


def _check_table(prefix: str, schema: dict, table: dict) -> dict:
    out = {}
    for name, value in table.items():
        path = f"{prefix}.{name}" if prefix else name
        if name not in schema:
            known = ", ".join(schema)
            raise ConfigError(f"{path}: unknown key (known here: {known})")
        spec = schema[name]
        if isinstance(spec, Delegated):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a table [{path}], got {value!r}")
            out[name] = copy.deepcopy(value)
        elif isinstance(spec, Named):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a table of named entries, got {value!r}")
            entries = {}
            for entry, sub in value.items():
                if not isinstance(sub, dict):
                    raise ConfigError(f"{path}.{entry}: expected a table, got {sub!r}")
                entries[entry] = _check_table(f"{path}.{entry}", spec.schema, sub)
            out[name] = entries
        elif isinstance(spec, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a table [{path}], got {value!r}")
            out[name] = _check_table(path, spec, value)
        else:
            if isinstance(value, dict):
                raise ConfigError(f"{path}: expected a value, got a table")
            out[name] = _value(path, spec, value)
    return out


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _check_fit(section: dict) -> None:
    """``[fit]`` is crknee.fit's schema (docs/fit.md): check it with crknee.fit's own validator."""
    from crknee.fit.schema import check_section

    check_section(section)


def _delegated(values: dict) -> None:
    for name, spec in SCHEMA.items():
        if isinstance(spec, Delegated) and name in values:
            module, func = spec.validator.split(":")
            getattr(importlib.import_module(module), func)(values[name])
    from crknee.fit.evidence import check_variants

    check_variants(values)  # the evidence models and fit modes are [fit] variants


def _cross_checks(values: dict) -> None:
    """Checks across keys (and the physical ones of :func:`crknee.validation.check`), on
    the config as given and with its [fast] overrides applied."""
    from crknee.validation import check

    plain = {k: v for k, v in values.items() if k != "fast"}
    _delegated(plain)
    _check_gamma(plain)
    check(plain)
    try:
        fast = _merge(plain, values.get("fast", {}))
        _delegated(fast)
        _check_gamma(fast)
        check(fast)
    except ConfigError as exc:  # the base passed: the error comes from a [fast] override
        raise ConfigError(f"fast.{exc}") from None


def _check_gamma(values: dict) -> None:
    gamma = values["gamma"]
    if gamma["nsteps"] <= gamma["burn"]:
        raise ConfigError(f"gamma.burn: must be smaller than gamma.nsteps ({gamma['nsteps']}), got {gamma['burn']}")
    for name, src in gamma["sources"].items():
        missing = [k for k in _SOURCE if k not in src and k not in _SOURCE_OPTIONAL]
        if missing:
            raise ConfigError(f"gamma.sources.{name}.{missing[0]}: missing (every source gives {', '.join(_SOURCE)})")


SCHEMA_FULL = {**SCHEMA, "fast": {s: SCHEMA[s] for s in _SECTIONS_WITH_FAST}}


class Config:
    """A validated configuration: nested plain values in each key's unit.

    ``config["propagation"]["D0_cm2_s"]`` reads a value; :meth:`section` returns a copy of
    one section; :meth:`digest` hashes sections (the pipeline's cache keys);
    :meth:`for_run` applies the ``[fast]`` overrides.
    """

    def __init__(self, values: dict, source: str):
        self._values = values
        self.source = source

    def __getitem__(self, section: str) -> dict:
        return self._values[section]

    def __contains__(self, section: str) -> bool:
        return section in self._values

    def section(self, name: str) -> dict:
        """A deep copy of section ``name`` (empty if the config has none)."""
        return copy.deepcopy(self._values.get(name, {}))

    def to_dict(self) -> dict:
        return copy.deepcopy(self._values)

    def digest(self, *sections: str) -> str:
        """SHA-256 of the named sections (all when none are named), canonical JSON."""
        names = sections or tuple(sorted(self._values))
        blob = json.dumps({s: self._values.get(s, {}) for s in names}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def for_run(self, fast: bool) -> Config:
        """The config the pipeline runs with: ``[fast]`` merged on top when ``fast``."""
        base = {k: v for k, v in self._values.items() if k != "fast"}
        if fast:
            base = _merge(base, self._values.get("fast", {}))
        return Config(base, self.source + (" (fast)" if fast else ""))


def validate(data: dict, source: str = "<config>") -> Config:
    """Validate ``data`` (a parsed TOML document, merged onto the paper config) into a Config."""
    checked = _check_table("", SCHEMA_FULL, data)
    merged = _merge(_paper_values(), checked)
    _cross_checks(merged)
    return Config(merged, source)


def _paper_values() -> dict:
    raw = _parse_toml(paper_path().read_text(), "paper.toml")
    values = _check_table("", SCHEMA_FULL, raw)
    _cross_checks(values)
    return values


def load(source=None) -> Config:
    """Load a configuration: None or ``"paper"`` for the bundled one, else a TOML file path.

    A file is merged onto the paper config, so it only needs the keys it changes.
    """
    if source is None or source in BUNDLED:
        return Config(_paper_values(), "paper")
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"config {str(path)!r}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config {str(path)!r}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"position {exc.start}); TOML files are UTF-8"
        ) from None
    return validate(_parse_toml(text, str(path)), str(path))
