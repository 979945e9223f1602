"""Parameters of the background propagation model (paper Sec. 2.1, eq. 1-4, Table 1).

:class:`PropagationModel` is a frozen dataclass: every dimensional field is an astropy
Quantity, validated (unit and range) in ``__post_init__`` so that a bad value raises
:class:`crknee.errors.InputError` naming it before any solving starts.  The solver reads
the plain floats of :meth:`PropagationModel.floats` (kpc, Myr, GeV, GV, cm^2/s, km/s).

Defaults and where they come from
---------------------------------
========================  ==================  ==========================================
field                     default             reference
========================  ==================  ==========================================
``D0``                    3.2e28 cm^2/s       Table 1 (eq. 2)
``delta``                 0.33                Table 1 (eq. 2)
``R0``                    1 GV                eq. 2; not stated in the paper (crknee
                                              convention, see crknee.transport)
``eta``                   1                   eq. 2 (beta^eta)
``v_A``                   25 km/s             Table 1 (Alfven speed, reacceleration)
``V_c``                   0 km/s              eq. 1 convection; the paper lists none
``H``                     4.5 kpc             Sec. 2.2 (halo half height)
``R_gal``                 20 kpc              Sec. 2.2 (Galactic radius)
``r_sun``                 8.5 kpc             eq. 3
``z_s``                   0.2 kpc             eq. 3
``R_b``, ``Delta_delta``  300 GV, 0, 0.05     high-rigidity diffusion break (Génolini et al.
``s_b``                                       2017, PRL 119, 241101; crknee.transport);
                                              Delta_delta = 0: no break (Table 1)
``nu1``, ``nu2``          2.48, 2.38          Table 1 (eq. 4)
``R_br``                  335 GV              Table 1 (eq. 4)
``R_cut``                 200 TV              Table 1 (eq. 4)
``h``                     0.1 kpc             gas disk half thickness (Maurin et al.
                                              2001, ApJ 555, 585, Sec. 2)
``he_to_h``               0.1                 ISM He/H by number (ibid.)
``source_abundance``      ()                  per element: factor on its GALPROP source
                                              abundances (crknee.propagation.abundances)
``source_index``          ()                  per element: its own (nu1, nu2) of eq. (4)
========================  ==================  ==========================================

``source_abundance`` and ``source_index`` take a mapping (or pairs) element symbol ->
value, e.g. ``{"C": 1.1, "O": 0.95}`` and ``{"He": (2.4, 2.3)}``; they are stored as
sorted tuples of pairs (hashable).  Elements not named keep factor 1 and the global
(nu1, nu2).  The GALPROP factor A^(nu2-1) Z^(-nu2) of an element uses its own nu2.

``ekn_min`` = 0.01 GeV/n: with halo-wide reacceleration at Table 1's v_A, particles
injected below 0.1 GeV/n are reaccelerated into the GeV range; the lower edge must sit
where ionisation losses win (a 0.1 GeV/n edge lowers the 1 GeV proton LIS by 30 %,
0.001 GeV/n changes it by < 1 % from 0.01; docs/propagation.md).

``reacceleration`` chooses where the momentum diffusion of eq. (1) acts: ``"halo"``
(everywhere, as in GALPROP / DRAGON whose v_A Table 1 quotes; default) or ``"disk"``
(only in the thin gas disk, as in USINE).  See docs/propagation.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import cached_property
from types import SimpleNamespace

import astropy.units as u
import numpy as np

from crknee.errors import ConfigError, CrkneeError, InputError
from crknee.kinematics import ELEMENT_SYMBOLS
from crknee.transport import Diffusion

#: Field name -> unit in which the solver reads it (hot-loop units).
QUANTITY_UNITS = {
    "D0": u.cm**2 / u.s,
    "R0": u.GV,
    "v_A": u.km / u.s,
    "V_c": u.km / u.s,
    "H": u.kpc,
    "R_gal": u.kpc,
    "r_sun": u.kpc,
    "z_s": u.kpc,
    "h": u.kpc,
    "R_br": u.GV,
    "R_b": u.GV,
    "R_cut": u.GV,
    "ekn_min": u.GeV,
    "ekn_max": u.GeV,
}
REACCELERATION_ZONES = ("halo", "disk")
#: ``[propagation]`` key of a crknee config file -> (PropagationModel field, unit of the
#: key's suffix; None if dimensionless or text).  Schema: crknee.config.SCHEMA.
CONFIG_FIELDS = {
    "D0_cm2_s": ("D0", u.cm**2 / u.s),
    "delta": ("delta", None),
    "R0_GV": ("R0", u.GV),
    "eta": ("eta", None),
    "Rb_GV": ("R_b", u.GV),
    "Delta_delta": ("Delta_delta", None),
    "s_b": ("s_b", None),
    "vA_km_s": ("v_A", u.km / u.s),
    "Vc_km_s": ("V_c", u.km / u.s),
    "H_kpc": ("H", u.kpc),
    "R_gal_kpc": ("R_gal", u.kpc),
    "r_sun_kpc": ("r_sun", u.kpc),
    "z_s_kpc": ("z_s", u.kpc),
    "h_kpc": ("h", u.kpc),
    "he_to_h": ("he_to_h", None),
    "nu1": ("nu1", None),
    "nu2": ("nu2", None),
    "Rbr_GV": ("R_br", u.GV),
    "Rcut_GV": ("R_cut", u.GV),
    "reacceleration": ("reacceleration", None),
    "n_modes": ("n_modes", None),
    "points_per_decade": ("points_per_decade", None),
    "ekn_min_GeV": ("ekn_min", u.GeV),
    "ekn_max_GeV": ("ekn_max", u.GeV),
    "heaviest": ("heaviest", None),
    "production": ("production", None),
    "inelastic": ("inelastic", None),
}
#: ``[propagation]`` keys that are not model parameters: the force-field potential and the
#: primary normalisation fit (read by the callers, e.g. ``crknee propagate``).
CONFIG_EXTRA_KEYS = ("phi_MV", "normalisation_datasets", "normalisation_window_GV")


@dataclass(frozen=True)
class PropagationModel:
    """All parameters of the background model (eq. 1-4) with the paper's defaults.

    Numerical parameters: ``n_modes`` Bessel modes J0(zeta_i r / R_gal) (Maurin et al.
    2001, App. A), ``points_per_decade`` of the log grid in kinetic energy per nucleon
    from ``ekn_min`` to ``ekn_max``.  Network choices (``species``, ``heaviest``,
    ``production``, ``inelastic``) go to :func:`crknee.propagation.network.build_network`.
    """

    D0: u.Quantity = 3.2e28 * u.cm**2 / u.s
    delta: float = 0.33
    R0: u.Quantity = 1.0 * u.GV
    eta: float = 1.0
    v_A: u.Quantity = 25.0 * u.km / u.s
    V_c: u.Quantity = 0.0 * u.km / u.s
    R_b: u.Quantity = 300.0 * u.GV
    Delta_delta: float = 0.0
    s_b: float = 0.05
    H: u.Quantity = 4.5 * u.kpc
    R_gal: u.Quantity = 20.0 * u.kpc
    r_sun: u.Quantity = 8.5 * u.kpc
    z_s: u.Quantity = 0.2 * u.kpc
    h: u.Quantity = 0.1 * u.kpc
    he_to_h: float = 0.1
    nu1: float = 2.48
    nu2: float = 2.38
    R_br: u.Quantity = 335.0 * u.GV
    R_cut: u.Quantity = 200.0 * u.TV
    reacceleration: str = "halo"
    n_modes: int = 40
    points_per_decade: int = 20
    ekn_min: u.Quantity = 0.01 * u.GeV
    ekn_max: u.Quantity = 1.0e8 * u.GeV
    species: tuple | None = None
    heaviest: str = "Fe56"
    production: str = "GALPROP17_OPT12"
    inelastic: str = "Tripathi99+Coste12"
    source_abundance: tuple = ()
    source_index: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "source_abundance", _element_pairs("source_abundance", self.source_abundance, 1))
        object.__setattr__(self, "source_index", _element_pairs("source_index", self.source_index, 2))
        for el, (n1, n2) in self.source_index:
            if not (np.isfinite(n1) and np.isfinite(n2) and 1.0 < n1 < 5.0 and 1.0 < n2 < 5.0):
                raise InputError(
                    f"PropagationModel.source_index[{el!r}] (nu1, nu2) must lie in (1, 5); got {(n1, n2)!r}"
                )
        for el, fac in self.source_abundance:
            if not (np.isfinite(fac) and fac >= 0):
                raise InputError(f"PropagationModel.source_abundance[{el!r}] must be finite and >= 0; got {fac!r}")
        for name, unit in QUANTITY_UNITS.items():
            val = getattr(self, name)
            if not isinstance(val, u.Quantity):
                raise InputError(f"PropagationModel.{name} must be a Quantity in {unit}; got {val!r}")
            try:
                v = val.to_value(unit)
            except u.UnitConversionError as exc:
                raise InputError(f"PropagationModel.{name} has unit {val.unit}, not convertible to {unit}") from exc
            if not np.isscalar(v) or not np.isfinite(v):
                raise InputError(f"PropagationModel.{name} must be a finite scalar; got {val!r}")
            if name in ("v_A", "V_c"):
                if v < 0:
                    raise InputError(f"PropagationModel.{name} must be >= 0; got {val!r}")
            elif v <= 0:
                raise InputError(f"PropagationModel.{name} must be > 0; got {val!r}")
        for name in ("nu1", "nu2"):
            v = getattr(self, name)
            if not np.isfinite(v) or not 1.0 < v < 5.0:
                raise InputError(f"PropagationModel.{name} (injection index, eq. 4) must lie in (1, 5); got {v!r}")
        if not np.isfinite(self.he_to_h) or self.he_to_h < 0:
            raise InputError(f"PropagationModel.he_to_h must be finite and >= 0; got {self.he_to_h!r}")
        if self.reacceleration not in REACCELERATION_ZONES:
            raise InputError(
                f"PropagationModel.reacceleration must be one of {REACCELERATION_ZONES}; got {self.reacceleration!r}"
            )
        for name, low in (("n_modes", 1), ("points_per_decade", 4)):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
                raise InputError(f"PropagationModel.{name} must be an integer >= {low}; got {v!r}")
        if self.species is not None and (
            not isinstance(self.species, tuple) or not all(isinstance(x, str) for x in self.species)
        ):
            raise InputError(f"PropagationModel.species must be None or a tuple of names; got {self.species!r}")
        f = self.floats()
        if f.ekn_max <= 10.0 * f.ekn_min:
            raise InputError(f"PropagationModel.ekn_max ({self.ekn_max}) must exceed 10 x ekn_min ({self.ekn_min})")
        if f.H <= f.h:
            raise InputError(f"PropagationModel.H ({self.H}) must exceed the disk half thickness h ({self.h})")
        if not 0.0 < f.r_sun < f.R_gal:
            raise InputError(f"PropagationModel.r_sun ({self.r_sun}) must lie inside R_gal ({self.R_gal})")
        # the access validates D0, delta, R0, eta, R_b, Delta_delta, s_b (crknee.transport.Diffusion)
        self.diffusion  # noqa: B018 (deliberate: the property access runs the validation)

    def injection(self, element: str) -> tuple[float, float, float]:
        """(abundance factor, nu1, nu2) of ``element`` (symbol): its overrides or the defaults."""
        fac = dict(self.source_abundance).get(element, 1.0)
        nu1, nu2 = dict(self.source_index).get(element, (self.nu1, self.nu2))
        return fac, nu1, nu2

    def floats(self) -> SimpleNamespace:
        """Every parameter as a plain float in the solver's units (QUANTITY_UNITS)."""
        out = {}
        for fld in fields(self):
            val = getattr(self, fld.name)
            unit = QUANTITY_UNITS.get(fld.name)
            out[fld.name] = float(val.to_value(unit)) if unit is not None else val
        return SimpleNamespace(**out)

    @cached_property
    def diffusion(self) -> Diffusion:
        """The eq. (2) coefficient (the object shared with the point sources)."""
        return Diffusion(
            D0=self.D0,
            delta=float(self.delta),
            R0=self.R0,
            eta=float(self.eta),
            R_b=self.R_b,
            Delta_delta=float(self.Delta_delta),
            s_b=float(self.s_b),
        )


def _element_pairs(name: str, value, width: int) -> tuple:
    """``value`` (mapping or pairs element -> number, or -> (nu1, nu2) for width 2) as a
    sorted tuple of (symbol, float or (float, float)); InputError naming ``name``."""
    items = value.items() if isinstance(value, dict) else value
    try:
        pairs = [(str(k), v) for k, v in items]
    except (TypeError, ValueError):
        raise InputError(f"PropagationModel.{name} must map element symbols to values; got {value!r}") from None
    out = {}
    for el, v in pairs:
        if el not in ELEMENT_SYMBOLS:
            raise InputError(f"PropagationModel.{name}: unknown element {el!r}")
        if el in out:
            raise InputError(f"PropagationModel.{name}: element {el!r} given twice")
        try:
            val = float(v) if width == 1 else tuple(float(x) for x in v)
        except (TypeError, ValueError):
            val = None
        if val is None or (width == 2 and len(val) != 2):
            kind = "a number" if width == 1 else "a pair (nu1, nu2)"
            raise InputError(f"PropagationModel.{name}[{el!r}] must be {kind}; got {v!r}")
        out[el] = val
    return tuple(sorted(out.items()))


def model_from_config(section: dict) -> PropagationModel:
    """The :class:`PropagationModel` of a ``[propagation]`` config section.

    ``section`` maps the keys of :data:`CONFIG_FIELDS` (plain numbers in the unit their
    name ends with, as :func:`crknee.config.load` returns them) to values; missing keys
    keep the model defaults.  A key that is neither a model key nor one of
    :data:`CONFIG_EXTRA_KEYS`, or a value the model rejects, raises
    :class:`~crknee.errors.ConfigError` naming ``propagation.<key>``.
    """
    kwargs = {}
    for key, value in section.items():
        if key in CONFIG_EXTRA_KEYS:
            continue
        if key not in CONFIG_FIELDS:
            raise ConfigError(
                f"propagation.{key}: unknown key; expected one of {sorted(CONFIG_FIELDS) + sorted(CONFIG_EXTRA_KEYS)}"
            )
        name, unit = CONFIG_FIELDS[key]
        if unit is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"propagation.{key}: expected a number in {unit}; got {value!r}")
        kwargs[name] = value * unit if unit is not None else value
    try:
        return PropagationModel(**kwargs)
    except CrkneeError as exc:
        found = re.search(r"(?:PropagationModel\.|diffusion )(\w+)", str(exc))
        field = found.group(1) if found else None
        key = next((k for k, (f, _) in CONFIG_FIELDS.items() if f == field), field)
        raise ConfigError(f"propagation.{key}: {exc}") from None
