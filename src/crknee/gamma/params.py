"""Per-source parameters of the hadronic model (paper Sec. 3, Table 2) with literature defaults.

:class:`SourceParams` is built from a plain dict (``SourceParams.from_dict``), so the
pipeline's TOML configuration can feed it; keys carry their unit in the suffix.

What the paper gives (Sec. 3 and Table 2): the ages (SS 433 20 kyr, adopted from the
LHAASO collaboration; the others 1 Myr, Ohmura et al. 2021) and (beta, L0):
GRS 1915+105 (2.5, 1.5e39 erg/s), MAXI J1820+070 (2.5, 1e38), SS 433 (2.5, 2e39),
V4641 Sgr (2.2, 5e38); no cutoff is listed.

What the paper does NOT give, and crknee's choices (all parameters, change them freely):

* distances: the measurements cited in :mod:`crknee.sources.catalogue` (SS 433 5.5 kpc,
  V4641 Sgr 6.2, GRS 1915+105 8.6, MAXI J1820+070 2.96, Cyg X-1 2.22 kpc);
* the radius of the emitting region: the paper says only "the region LHAASO sees".  The
  LHAASO extensions (Cao et al. 2025, NSR 12, nwaf496, Table 1) could not be retrieved
  here (shared/data/SOURCES-other.md); V4641 Sgr uses the ~200 pc size of the HAWC
  nebula (Alfaro et al. 2024, Nature 634, 557: radius 100 pc = 0.92 deg at 6.2 kpc);
  the others use 0.3 deg, about the KM2A angular resolution near 100 TeV (Aharonian et
  al. 2021, Chinese Phys. C 45, 025002, KM2A performance), i.e. the smallest region
  LHAASO resolves;
* the gas density: by default the bundled 2D gas model (HI + 2 H2 + HII, He through the
  nuclear enhancement) at the source's (l, b, d), :mod:`crknee.gamma.target`
  (``n_H_cm3=None``); any number overrides it.  In the diffusive regime (sqrt(4 D t) >>
  region radius a) the gamma-ray flux scales as L0 n_H a^2 / D, so a fitted L0 scales as
  1 / (n_H a^2): the Table 2 luminosities cannot be compared with crknee's without the
  authors' (unpublished) n_H and a (:mod:`crknee.gamma.maps` scans n_H a^2).
* the cutoff: none by default (``Rcut_GV = NO_CUTOFF_GV``); :mod:`crknee.gamma.fit`
  adds one where the data demand it.
* positions (l, b), distances and ages come from :mod:`crknee.sources.catalogue`
  (cited there); only the direction (dipole) depends on the position.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import MISSING, asdict, dataclass, field, fields

import astropy.units as u

from crknee.errors import ConfigError, InputError
from crknee.gamma.emission import HIGH_ENERGY_MODELS, PPModel
from crknee.gamma.kafexhiu import MODELS as HADRONIC_MODELS
from crknee.sources.catalogue import NAMED_SOURCES
from crknee.sources.injection import TABLE_LOG10_RCUT
from crknee.units import convert_fields

#: "No cutoff" [GV]: the top of crknee.sources.injection's normalisation table (1e11 GV);
#: on the proton grid (<= 1e8 GeV) exp(-R/Rcut) >= 0.999, i.e. a pure power law to 0.1 %.
NO_CUTOFF_GV = 10.0 ** TABLE_LOG10_RCUT[1]
#: How the protons in the emitting region are counted (:mod:`crknee.gamma.source_model`).
CONTAINMENTS = ("diffusive", "two_zone", "all")
#: Time profile of the injection: constant luminosity L0 over the age, or the same energy
#: L0 * age released at once, an age ago (paper eq. 6 burst).
INJECTIONS = ("continuous", "burst")


@dataclass(frozen=True)
class SourceParams:
    """Hadronic source model parameters: Quantities, or plain floats in the units of their
    suffixes (:data:`SourceParams.UNITS`, :func:`crknee.units.value_in`).

    name; ``l_deg``, ``b_deg`` Galactic position; ``d_kpc``; ``extension_deg``
    angular radius of the emitting region (radius a = d tan(theta)); ``n_H_cm3`` target
    density of H nuclei (None: the gas model at (l, b, d), :mod:`crknee.gamma.target`;
    ``n_H_from_model`` then says so); ``age_Myr`` duration of the continuous injection; ``beta``, ``L0_erg_s``
    (protons above 1 GeV kinetic), ``Rcut_GV`` eq. (5); ``nuclear_enhancement``,
    ``hadronic`` (Kafexhiu model), ``high_energy`` ("kelner" | "kafexhiu") cross sections;
    ``diffusion_suppression`` chi: D = chi * D_eq2; ``containment``: "diffusive" (one
    zone: chi everywhere from the source to Earth, protons inside the region after
    diffusion; the default), "two_zone" (chi only inside the region of radius a, Galactic
    D outside: :mod:`crknee.gamma.two_zone`; chi = 1 is "diffusive" with chi = 1, chi -> 0
    is "all") or "all" (every proton injected over the age stays in the region: the
    no-escape limit, an upper bound on the gamma rays per L0);
    ``injection``: "continuous" (luminosity L0 over the age, the paper's) or "burst" (the
    energy L0 * age released an age ago);
    ``table2``: True when beta and L0 are the paper's Table 2 values.
    """

    name: str
    l_deg: float
    b_deg: float
    d_kpc: float
    extension_deg: float
    n_H_cm3: float | None
    age_Myr: float
    beta: float
    L0_erg_s: float
    Rcut_GV: float = NO_CUTOFF_GV
    nuclear_enhancement: bool = True
    hadronic: str = "Pythia8"
    high_energy: str = "kelner"
    diffusion_suppression: float = 1.0
    containment: str = "diffusive"
    table2: bool = False
    injection: str = "continuous"
    n_H_from_model: bool = field(init=False, default=False)

    #: Documented unit of each dimensional field (a Quantity is converted to it).
    UNITS = {
        "l_deg": "deg",
        "b_deg": "deg",
        "d_kpc": "kpc",
        "extension_deg": "deg",
        "n_H_cm3": "cm-3",
        "age_Myr": "Myr",
        "beta": "",
        "L0_erg_s": "erg / s",
        "Rcut_GV": "GV",
        "diffusion_suppression": "",
    }

    def __post_init__(self):
        convert_fields(self, self.UNITS)
        if self.n_H_cm3 is None:
            from crknee.gamma.target import target_density_cm3

            object.__setattr__(self, "n_H_cm3", float(target_density_cm3(self.l_deg, self.b_deg, self.d_kpc)))
            object.__setattr__(self, "n_H_from_model", True)
        for key in ("d_kpc", "extension_deg", "age_Myr", "L0_erg_s", "beta", "Rcut_GV"):
            v = getattr(self, key)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise InputError(f"{self.name}: {key} must be finite and > 0; got {v!r}")
        if not math.isfinite(self.n_H_cm3) or self.n_H_cm3 < 0:
            raise InputError(f"{self.name}: n_H_cm3 must be finite and >= 0 (or None: gas model); got {self.n_H_cm3!r}")
        if not 0.0 < self.extension_deg < 90.0:
            raise InputError(f"{self.name}: extension_deg must lie in (0, 90); got {self.extension_deg!r}")
        if not 0.0 < self.diffusion_suppression <= 1e3 or not math.isfinite(self.diffusion_suppression):
            raise InputError(
                f"{self.name}: diffusion_suppression must lie in (0, 1e3]; got {self.diffusion_suppression!r}"
            )
        if self.containment not in CONTAINMENTS:
            raise InputError(f"{self.name}: containment must be one of {CONTAINMENTS}; got {self.containment!r}")
        if self.injection not in INJECTIONS:
            raise InputError(f"{self.name}: injection must be one of {INJECTIONS}; got {self.injection!r}")
        if self.hadronic not in HADRONIC_MODELS:
            raise InputError(f"{self.name}: hadronic must be one of {HADRONIC_MODELS}; got {self.hadronic!r}")
        if self.high_energy not in HIGH_ENERGY_MODELS:
            raise InputError(f"{self.name}: high_energy must be one of {HIGH_ENERGY_MODELS}; got {self.high_energy!r}")

    @classmethod
    def from_dict(cls, mapping) -> SourceParams:
        """Build from a plain dict; a "name" found in :data:`DEFAULTS` fills missing keys,
        except ``n_H_cm3``: missing (or None) means the gas model at the given position."""
        data = dict(mapping)
        data.setdefault("n_H_cm3", None)
        if "name" not in data:
            raise ConfigError(f"source parameters need a 'name'; got keys {sorted(data)}")
        known = {f.name for f in fields(cls) if f.init}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown source parameter(s) {sorted(unknown)}; known: {sorted(known)}")
        base = asdict(DEFAULTS[data["name"]]) if data["name"] in DEFAULTS else {}
        base.pop("n_H_from_model", None)
        if "table2" not in data and any(k in data and data[k] != base.get(k) for k in ("beta", "L0_erg_s")):
            data["table2"] = False  # no longer the paper's values
        base.update(data)
        missing = {f.name for f in fields(cls) if f.init and f.default is MISSING} - set(base)
        if missing:
            raise ConfigError(f"source {data['name']!r}: missing parameter(s) {sorted(missing)}")
        return cls(**base)

    def replace(self, **changes) -> SourceParams:
        """A copy with ``changes`` applied (validated).  An n_H taken from the gas model
        follows the position (re-read at the copy's (l, b, d)); ``n_H_cm3=None`` asks for
        the gas model, a number fixes it."""
        if self.n_H_from_model and "n_H_cm3" not in changes:
            changes["n_H_cm3"] = None
        return dataclasses.replace(self, **changes)

    @property
    def radius_kpc(self) -> float:
        """Physical radius of the emitting region, d tan(theta) [kpc]."""
        return self.d_kpc * math.tan(math.radians(self.extension_deg))

    @property
    def pp_model(self) -> PPModel:
        return PPModel(
            hadronic=self.hadronic, high_energy=self.high_energy, nuclear_enhancement=self.nuclear_enhancement
        )

    def quantities(self) -> dict:
        """The physical parameters as astropy Quantities (for reports)."""
        return {
            "distance": self.d_kpc * u.kpc,
            "extension": self.extension_deg * u.deg,
            "radius": self.radius_kpc * u.kpc,
            "n_H": self.n_H_cm3 * u.cm**-3,
            "age": self.age_Myr * u.Myr,
            "beta": self.beta * u.one,
            "L0": self.L0_erg_s * u.erg / u.s,
            "Rcut": self.Rcut_GV * u.GV,
        }


#: Emitting-region radius [deg] and gas density [cm^-3; None = gas model] per source
#: (module docstring).
REGION = {
    "SS 433": (0.3, None),
    "V4641 Sgr": (0.92, None),
    "GRS 1915+105": (0.3, None),
    "MAXI J1820+070": (0.3, None),
    "Cyg X-1": (0.3, None),
}
#: Cyg X-1 is not in Table 2: beta = 2.2 and L0 = 1e38 erg/s are a reference normalisation
#: for the slow-diffusion study (results scale linearly with L0), not a fit;
#: diffusion_suppression = 0.1 is the paper's "more than an order of magnitude smaller"
#: diffusion in the Cygnus bubble (Sec. 3, citing Nie et al. 2024, ApJ 974, 276).
CYG_X1_REFERENCE = {"beta": 2.2, "L0_erg_s": 1e38, "diffusion_suppression": 0.1}


def _from_catalogue(name: str) -> SourceParams:
    """Position, distance, age and Table 2 (beta, L0) from crknee.sources.catalogue (cited
    there: Blundell & Bowler 2004; MacDonald et al. 2014; Reid et al. 2014; Atri et al.
    2020; Miller-Jones et al. 2021), region and gas from :data:`REGION`."""
    e = NAMED_SOURCES[name]
    ext, n_H = REGION[name]
    if e.beta is None:
        return SourceParams(name, e.l_deg, e.b_deg, e.d_kpc, ext, n_H, e.age_Myr, **CYG_X1_REFERENCE)
    return SourceParams(name, e.l_deg, e.b_deg, e.d_kpc, ext, n_H, e.age_Myr, e.beta, e.luminosity_erg_s, table2=True)


#: Literature defaults of every source of Sec. 3 (paper Table 2 values flagged ``table2``).
DEFAULTS: dict[str, SourceParams] = {name: _from_catalogue(name) for name in REGION}

#: Sources of paper Fig. 2-3 (Table 2), in the paper's order.
PAPER_SOURCES = ("SS 433", "V4641 Sgr", "GRS 1915+105", "MAXI J1820+070")


def defaults(name: str) -> SourceParams:
    """The default parameters of source ``name`` (InputError naming it if unknown)."""
    if name not in DEFAULTS:
        raise InputError(f"no default parameters for source {name!r}; known: {sorted(DEFAULTS)}")
    return DEFAULTS[name]
