"""Injection spectrum of a point source, paper eq. (5), and its normalisation.

    q_i(R) = q0 * f_i * (R / R0)^(-beta) * exp(-R / R_cut)        [particles / GV]

per species i at rigidity R [GV], with R0 = 1 GV (the paper's "reference rigidity"; its
value does not matter once q0 is fixed by the energy) and f_i the abundance of species i
relative to protons *at equal rigidity* (the same acceleration for every nucleus).

Normalisation (paper Sec. 2.2 and Table 2): q0 is fixed by the total energy W [erg]
carried by the particles above a kinetic energy per particle of 1 GeV, summed over
species, for a burst,

    W = sum_i f_i q0 int_{Ek_i(R) >= 1 GeV} Ek_i(R) (R/R0)^-beta exp(-R/R_cut) dR,

or by the luminosity L [erg/s] for a continuous source (q0 then in particles/(GV Myr)).
The "energy above 1 GeV" convention is the one of the LHAASO microquasar paper
(Cao et al. 2025, NSR 12, nwaf496: W_p(> 1 GeV)); crknee reads "1 GeV" as kinetic energy
per particle.

The integral uses Gauss-Legendre in ln R from the threshold to R_cut and Gauss-Laguerre
above R_cut (R = max(R_cut, R_min) + R_cut s), vectorised over (beta, R_cut): the test
suite checks it against scipy.integrate.quad to 1e-9 relative.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import astropy.units as u
import numpy as np
from numpy.polynomial.laguerre import laggauss
from numpy.polynomial.legendre import leggauss

from crknee.constants import GEV_PER_ERG, S_PER_MYR
from crknee.errors import InputError, UnknownSpeciesError
from crknee.kinematics import Z_OF, Nuclide, nuclide

#: Reference rigidity R0 of eq. (5) [GV].
R0_GV = 1.0
#: Threshold of the energy normalisation: kinetic energy per particle [GeV] (Cao et al. 2025).
E_THRESHOLD_GeV = 1.0

_GL_X, _GL_W = leggauss(64)
_LAG_X, _LAG_W = laggauss(40)


def spectrum_shape(R_GV, beta, Rcut_GV):
    """Eq. (5) without q0: (R/R0)^-beta exp(-R/Rcut) [dimensionless] (plain floats)."""
    R = np.asarray(R_GV, dtype=float)
    return np.exp(-np.asarray(beta) * np.log(R / R0_GV) - R / np.asarray(Rcut_GV))


def check_spectrum(beta, Rcut_GV) -> None:
    """Raise InputError naming the value unless beta > 0 and R_cut > 0 (finite)."""
    b = np.asarray(beta, dtype=float)
    if np.any(~np.isfinite(b) | (b <= 0)):
        raise InputError(f"spectral index beta must be finite and > 0; got {b[~np.isfinite(b) | (b <= 0)].flat[0]!r}")
    rc = np.asarray(Rcut_GV, dtype=float)
    if np.any(~np.isfinite(rc) | (rc <= 0)):
        raise InputError(
            f"cutoff rigidity Rcut must be finite and > 0 GV; got {rc[~np.isfinite(rc) | (rc <= 0)].flat[0]!r}"
        )


def threshold_rigidity(nuc: Nuclide) -> float:
    """Rigidity [GV] at which the kinetic energy per particle equals the 1 GeV threshold."""
    ek = E_THRESHOLD_GeV
    return np.sqrt(ek * (ek + 2.0 * nuc.mass_GeV)) / nuc.Z


def energy_integral(beta, Rcut_GV, species) -> np.ndarray:
    """int_{Ek >= 1 GeV} Ek(R) (R/R0)^-beta exp(-R/Rcut) dR  [GeV * GV] for one species.

    Broadcasts over ``beta`` and ``Rcut_GV`` (plain floats).
    """
    nuc = species if isinstance(species, Nuclide) else nuclide(species)
    beta = np.asarray(beta, dtype=float)[..., None]
    rc = np.asarray(Rcut_GV, dtype=float)[..., None]
    rmin = threshold_rigidity(nuc)
    m, Z = nuc.mass_GeV, nuc.Z

    def ek_times_shape(R):
        p = Z * R
        ek = p * p / (np.hypot(p, m) + m)
        return ek * spectrum_shape(R, beta, rc)

    # below the cutoff: x = ln R on [ln Rmin, ln max(Rcut, Rmin)]
    lo, hi = np.log(rmin), np.log(np.maximum(rc, rmin))
    half = 0.5 * (hi - lo)
    x = lo + half * (_GL_X + 1.0)
    R = np.exp(x)
    low = half[..., 0] * np.sum(_GL_W * ek_times_shape(R) * R, axis=-1)
    # above: R = R1 + Rcut s, exp(-R/Rcut) = exp(-R1/Rcut) exp(-s)
    R1 = np.maximum(rc, rmin)
    R = R1 + rc * _LAG_X
    p = Z * R
    ek = p * p / (np.hypot(p, m) + m)
    high_vals = ek * np.exp(-beta * np.log(R / R0_GV) - R1 / rc)
    high = rc[..., 0] * np.sum(_LAG_W * high_vals, axis=-1)
    return low + high


@dataclass(frozen=True)
class Composition:
    """Abundances f_i at equal rigidity relative to protons (``{"H1": 1.0, "He4": ...}``)."""

    abundances: tuple[tuple[str, float], ...]

    @classmethod
    def from_mapping(cls, mapping) -> Composition:
        items = []
        for name, f in mapping.items():
            nuc = nuclide(name)
            if not np.isfinite(f) or f < 0:
                raise InputError(f"abundance of {name!r} must be finite and >= 0; got {f!r}")
            items.append((nuc.name, float(f)))
        if not items or sum(f for _, f in items) <= 0:
            raise InputError(f"composition needs at least one positive abundance; got {dict(mapping)!r}")
        return cls(tuple(items))

    @property
    def species(self) -> list[str]:
        return [name for name, _ in self.abundances]

    def members(self, name: str) -> list[str]:
        """Nuclides of the composition meant by ``name``: "all", an element ("He") or a
        nuclide ("He4"); :class:`UnknownSpeciesError` naming ``name`` if none is injected."""
        if name == "all":
            return self.species
        if name in Z_OF:
            found = [s for s in self.species if nuclide(s).Z == Z_OF[name]]
        else:
            found = [s for s in self.species if s == nuclide(name).name]
        if not found:
            raise UnknownSpeciesError(f"species {name!r} is not in the composition {self.species}")
        return found

    def fraction(self, name: str) -> float:
        """Abundance of nuclide ``name`` (0 if absent)."""
        key = nuclide(name).name
        return dict(self.abundances).get(key, 0.0)

    def energy_integral(self, beta, Rcut_GV) -> np.ndarray:
        """sum_i f_i * :func:`energy_integral` [GeV GV]: energy per unit q0."""
        return sum(f * energy_integral(beta, Rcut_GV, name) for name, f in self.abundances if f > 0)


#: Protons only.
PROTONS = Composition((("H1", 1.0),))

#: Major isotopes (element totals folded onto the main isotope) of GALPROP's default
#: injection abundances, galdef_56_example lines 276-346 (Strong & Moskalenko 1998, ApJ
#: 509, 212 and the GALPROP team), bundled as nuclear/source_abundances; read as
#: abundances at equal rigidity.
GALPROP_MAJOR_ISOTOPES = ("H1", "He4", "C12", "N14", "O16", "Ne20", "Mg24", "Si28", "S32", "Fe56")


@lru_cache(maxsize=1)
def galprop_composition() -> Composition:
    """The default composition: GALPROP's default source abundances for the elements of
    ``GALPROP_MAJOR_ISOTOPES`` relative to H1 (H1 = 1.06e6 in the file)."""
    from crknee.data import raw_path

    path = raw_path("nuclear/source_abundances/GALPROP_galdef_56_example_iso_abundances.csv")
    rows = [line.split(",") for line in path.read_text().splitlines() if line and not line.startswith("#")]
    col = {name: i for i, name in enumerate(rows[0])}
    by_Z: dict[int, float] = {}
    h1 = None
    for row in rows[1:]:
        Z, A, ab = int(row[col["Z"]]), int(row[col["A"]]), float(row[col["abundance"]])
        by_Z[Z] = by_Z.get(Z, 0.0) + ab
        if (Z, A) == (1, 1):
            h1 = ab
    mapping = {name: by_Z[nuclide(name).Z] / h1 for name in GALPROP_MAJOR_ISOTOPES}
    mapping["H1"] = 1.0
    return Composition.from_mapping(mapping)


def q0_from_energy(E_erg, beta, Rcut_GV, composition: Composition = PROTONS) -> np.ndarray:
    """q0 [particles/GV] of a burst injecting ``E_erg`` [erg] above 1 GeV (plain floats)."""
    return np.asarray(E_erg, dtype=float) * GEV_PER_ERG / composition.energy_integral(beta, Rcut_GV)


def q0_from_luminosity(L_erg_s, beta, Rcut_GV, composition: Composition = PROTONS) -> np.ndarray:
    """q0 [particles/(GV Myr)] of a continuous source of luminosity ``L_erg_s`` [erg/s]."""
    return q0_from_energy(np.asarray(L_erg_s, dtype=float) * S_PER_MYR, beta, Rcut_GV, composition)


def injection_spectrum(
    R: u.Quantity,
    species,
    beta: float,
    Rcut: u.Quantity,
    *,
    energy: u.Quantity | None = None,
    luminosity: u.Quantity | None = None,
    composition: Composition = PROTONS,
) -> u.Quantity:
    """Eq. (5) for ``species``: 1/GV for a burst (``energy``), 1/(GV s) for ``luminosity``."""
    if (energy is None) == (luminosity is None):
        raise InputError(f"give exactly one of energy or luminosity; got energy={energy!r}, luminosity={luminosity!r}")
    Rv, rc = R.to_value(u.GV), Rcut.to_value(u.GV)
    check_spectrum(beta, rc)
    f = composition.fraction(species)
    if energy is not None:
        W = energy.to_value(u.erg)
        if not np.isfinite(W) or W <= 0:
            raise InputError(f"injected energy must be finite and > 0 erg; got {energy!r}")
        return q0_from_energy(W, beta, rc, composition) * f * spectrum_shape(Rv, beta, rc) / u.GV
    L = luminosity.to_value(u.erg / u.s)
    if not np.isfinite(L) or L <= 0:
        raise InputError(f"luminosity must be finite and > 0 erg/s; got {luminosity!r}")
    return (q0_from_energy(L, beta, rc, composition) * f * spectrum_shape(Rv, beta, rc)) / (u.GV * u.s)


#: Domain of :func:`energy_table` (beta, log10 Rcut[GV]) and its node spacing; the test
#: suite checks the quintic interpolant against :func:`energy_integral` to 1e-7.
TABLE_BETA = (1.0, 4.0, 0.02)
TABLE_LOG10_RCUT = (0.0, 11.0, 0.04)


@lru_cache(maxsize=8)
def energy_table(composition: Composition):
    """Quintic spline of ln(composition.energy_integral) on (beta, log10 Rcut) over
    ``TABLE_BETA`` x ``TABLE_LOG10_RCUT``: the fast path of the vectorised model."""
    from scipy.interpolate import RectBivariateSpline

    b = np.arange(TABLE_BETA[0], TABLE_BETA[1] + 0.5 * TABLE_BETA[2], TABLE_BETA[2])
    lr = np.arange(TABLE_LOG10_RCUT[0], TABLE_LOG10_RCUT[1] + 0.5 * TABLE_LOG10_RCUT[2], TABLE_LOG10_RCUT[2])
    vals = np.log(composition.energy_integral(b[:, None], 10.0 ** lr[None, :]))
    return RectBivariateSpline(b, lr, vals, kx=5, ky=5)


def energy_integral_fast(beta, Rcut_GV, composition: Composition = PROTONS) -> np.ndarray:
    """:meth:`Composition.energy_integral` [GeV GV] from :func:`energy_table` (plain floats,
    any shape); raises InputError outside the table's domain."""
    b = np.asarray(beta, dtype=float)
    lr = np.log10(np.asarray(Rcut_GV, dtype=float))
    b, lr = np.broadcast_arrays(b, lr)
    out_b = (b < TABLE_BETA[0]) | (b > TABLE_BETA[1])
    out_r = (lr < TABLE_LOG10_RCUT[0]) | (lr > TABLE_LOG10_RCUT[1]) | ~np.isfinite(lr)
    if np.any(out_b):
        raise InputError(f"beta outside the tabulated range {TABLE_BETA[:2]}: {b[out_b].flat[0]!r}")
    if np.any(out_r):
        raise InputError(f"Rcut outside the tabulated range 1..1e11 GV: {10.0 ** lr[out_r].flat[0]!r}")
    return np.exp(energy_table(composition).ev(b.ravel(), lr.ravel())).reshape(b.shape)


#: Charge ranges (Z_min, Z_max) of the Peters-cycle groups of the knee source (the five
#: mass groups of air-shower analyses, e.g. Hörandel 2003, APh 19, 193; KASCADE:
#: Antoni et al. 2005, APh 24, 1): every group cuts off at the same rigidity (Peters 1961,
#: Nuovo Cim. 22, 800).  NeSi holds Ne..Si and S; Fe the iron group (Z 17-28).
PETERS_GROUPS = {"H": (1, 1), "He": (2, 2), "CNO": (3, 9), "NeSi": (10, 16), "Fe": (17, 28)}


def element_groups(composition: Composition) -> dict[str, tuple[str, ...]]:
    """One group per element of ``composition``: {element symbol: nuclides}, in order."""
    out: dict[str, list[str]] = {}
    for name in composition.species:
        out.setdefault(nuclide(name).element, []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def peters_groups(composition: Composition) -> dict[str, tuple[str, ...]]:
    """The Peters-cycle groups (:data:`PETERS_GROUPS`) that have members in ``composition``;
    InputError naming a nuclide outside every group (Z > 28)."""
    out = {}
    for group, (lo, hi) in PETERS_GROUPS.items():
        members = tuple(s for s in composition.species if lo <= nuclide(s).Z <= hi)
        if members:
            out[group] = members
    grouped = {s for m in out.values() for s in m}
    missing = [s for s in composition.species if s not in grouped]
    if missing:
        raise InputError(f"nuclides {missing} lie outside the Peters groups {PETERS_GROUPS}")
    return out


def resolve_groups(groups, composition: Composition) -> dict[str, tuple[str, ...]]:
    """Groups of a knee source: None (per element), "peters" or a mapping name -> nuclides
    (each nuclide of ``composition`` in exactly one group); InputError otherwise."""
    if groups is None:
        return element_groups(composition)
    if isinstance(groups, str):
        if groups != "peters":
            raise InputError(f"groups must be None, 'peters' or a mapping; got {groups!r}")
        return peters_groups(composition)
    out = {
        str(g): tuple(nuclide(n).name for n in ([members] if isinstance(members, str) else members))
        for g, members in groups.items()
    }
    seen = [n for m in out.values() for n in m]
    extra = sorted(set(seen) - set(composition.species))
    dup = sorted({n for n in seen if seen.count(n) > 1})
    missing = [s for s in composition.species if s not in seen]
    if extra or dup or missing or not out:
        raise InputError(
            f"groups {dict(groups)!r} must hold each nuclide of {composition.species} exactly once "
            f"(not in the composition: {extra}, twice: {dup}, missing: {missing})"
        )
    return out


@lru_cache(maxsize=32)
def group_composition(composition: Composition, members: tuple[str, ...]) -> Composition:
    """The part of ``composition`` made of nuclides ``members`` (same abundances)."""
    return Composition(tuple((n, f) for n, f in composition.abundances if n in members))
