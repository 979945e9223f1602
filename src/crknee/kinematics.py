"""Nuclides and exact relativistic kinematics of cosmic-ray nuclei.

Energy variables (names used across crknee):

========  ===============================================  =========
name      meaning                                          unit
========  ===============================================  =========
``Etot``  total energy per particle, E = sqrt(p^2 + m^2)   GeV
``Ek``    kinetic energy per particle, E - m               GeV
``Ekn``   kinetic energy per nucleon, (E - m) / A          GeV (per n)
``p``     momentum per particle times c                    GeV
``R``     magnetic rigidity p c / (|Z| e)                  GV
========  ===============================================  =========

Air-shower experiments quote the "energy per particle"; crknee reads it as ``Etot``
(the difference from ``Ek`` is one nucleon mass per nucleon, negligible above a TeV).

Every conversion goes through the momentum, with the kinetic energy computed as
p^2 / (E + m) so that no precision is lost to cancellation at low energy; round trips
hold to ~1e-15 relative.  The one intrinsic limit is ``Etot`` itself: E = m + Ek stores
Ek only to eps * m absolute, so conversions *from* Etot are exact to 1e-12 only where
Ek >= 1e-3 m (all cosmic-ray data given in Etot are far above that).  Fluxes transform
with the Jacobian of the change of variable, dN/dy = dN/dx * dx/dy, with

    d(Etot)/dp = d(Ek)/dp = beta,   d(Ekn)/dp = beta / A,   d(R)/dp = 1 / |Z|.

Nuclear masses are M = A_atomic * u - Z m_e from the atomic masses of the
``periodictable`` package (NIST/AME evaluated atomic masses); the proton is m_p.
The hot-loop functions take and return float arrays in the units of the table; the
Quantity front ends (:func:`convert_energy`, :func:`convert_flux`) check units at the
boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import astropy.units as u
import numpy as np
from astropy.constants import c, m_e, m_p
from astropy.constants import u as amu

from crknee.errors import InputError, UnknownSpeciesError

#: Energy variables understood by the converters and their units.
VARIABLES: dict[str, u.UnitBase] = {
    "Etot": u.GeV,
    "Ek": u.GeV,
    "Ekn": u.GeV,
    "p": u.GeV,
    "R": u.GV,
}

_AMU_GEV = (amu * c**2).to_value(u.GeV)
_ME_GEV = (m_e * c**2).to_value(u.GeV)
_MP_GEV = (m_p * c**2).to_value(u.GeV)

ELEMENT_SYMBOLS = (
    "H",
    "He",
    "Li",
    "Be",
    "B",
    "C",
    "N",
    "O",
    "F",
    "Ne",
    "Na",
    "Mg",
    "Al",
    "Si",
    "P",
    "S",
    "Cl",
    "Ar",
    "K",
    "Ca",
    "Sc",
    "Ti",
    "V",
    "Cr",
    "Mn",
    "Fe",
    "Co",
    "Ni",
)
#: Charge number of each element p..Ni.
Z_OF: dict[str, int] = {s: i + 1 for i, s in enumerate(ELEMENT_SYMBOLS)}


@dataclass(frozen=True)
class Nuclide:
    """A fully stripped nucleus: name (e.g. ``"C12"``), charge Z, mass number A, mass.

    ``mass_GeV`` is the nuclear rest energy M c^2 in GeV.
    """

    name: str
    Z: int
    A: int
    mass_GeV: float

    @property
    def element(self) -> str:
        return ELEMENT_SYMBOLS[self.Z - 1]

    @property
    def mass(self) -> u.Quantity:
        """Rest energy M c^2 as a Quantity [GeV]."""
        return self.mass_GeV * u.GeV


_NAME_RE = re.compile(r"^\s*(?:(\d+)\s*([A-Za-z]{1,2})|([A-Za-z]{1,2})\s*-?\s*(\d+))\s*$")
_ALIASES = {"p": "H1", "proton": "H1", "d": "H2", "deuteron": "H2", "alpha": "He4"}


def nuclide(name: str) -> Nuclide:
    """Return the :class:`Nuclide` for ``name``: ``"p"``, ``"H1"``, ``"He4"``, ``"4He"``,
    ``"Be-10"``, ``"Fe56"`` ... for Z = 1..28.

    Raises :class:`UnknownSpeciesError` naming ``name`` for anything else.
    """
    if not isinstance(name, str):
        raise UnknownSpeciesError(f"species name must be a string; got {name!r}")
    return _nuclide(name)


@cache
def _nuclide(name: str) -> Nuclide:
    key = _ALIASES.get(name.strip().lower(), name)
    m = _NAME_RE.match(key)
    if m is None:
        raise UnknownSpeciesError(f"unknown species {name!r} (expected e.g. 'p', 'He4', 'C12')")
    A_str, sym = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    sym = sym[0].upper() + sym[1:].lower()
    if sym not in Z_OF:
        raise UnknownSpeciesError(f"unknown element {sym!r} in species {name!r} (crknee knows H..Ni)")
    Z, A = Z_OF[sym], int(A_str)
    if Z == 1 and A == 1:
        return Nuclide("H1", 1, 1, _MP_GEV)
    import periodictable

    el = periodictable.elements[Z]
    if A not in el.isotopes:
        raise UnknownSpeciesError(f"unknown isotope {sym}{A} in species {name!r}")
    atomic_mass_u = el[A].mass
    return Nuclide(f"{sym}{A}", Z, A, atomic_mass_u * _AMU_GEV - Z * _ME_GEV)


def _check_variable(var: str) -> None:
    if var not in VARIABLES:
        raise InputError(f"unknown energy variable {var!r}; expected one of {sorted(VARIABLES)}")


def _as_floats(name: str, x) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        raise InputError(f"{name} must be finite and >= 0; got {arr[bad].flat[0]!r}")
    return arr


def momentum_from(x, var: str, Z: int, A: int, mass_GeV: float) -> np.ndarray:
    """Momentum p c [GeV] of a nucleus from ``x`` in variable ``var`` (plain floats)."""
    _check_variable(var)
    x = _as_floats(var, x)
    if var == "p":
        return x
    if var == "R":
        return x * abs(Z)
    if var == "Etot":
        if np.any(x < mass_GeV):
            raise InputError(f"total energy below the rest mass {mass_GeV:.6g} GeV: {x.min()!r}")
        return np.sqrt((x - mass_GeV) * (x + mass_GeV))
    ek = x * A if var == "Ekn" else x
    return np.sqrt(ek * (ek + 2.0 * mass_GeV))


def from_momentum(p, var: str, Z: int, A: int, mass_GeV: float) -> np.ndarray:
    """Value in variable ``var`` of a nucleus of momentum p c [GeV] (plain floats)."""
    _check_variable(var)
    p = np.asarray(p, dtype=float)
    if var == "p":
        return p
    if var == "R":
        return p / abs(Z)
    etot = np.hypot(p, mass_GeV)
    if var == "Etot":
        return etot
    ek = p * p / (etot + mass_GeV)
    return ek / A if var == "Ekn" else ek


def dvar_dp(p, var: str, Z: int, A: int, mass_GeV: float) -> np.ndarray:
    """Derivative d(var)/d(p c) at momentum ``p`` [GeV] (plain floats)."""
    _check_variable(var)
    p = np.asarray(p, dtype=float)
    if var == "p":
        return np.ones_like(p)
    if var == "R":
        return np.full_like(p, 1.0 / abs(Z))
    beta = beta_of_momentum(p, mass_GeV)
    return beta / A if var == "Ekn" else beta


def beta_of_momentum(p, mass_GeV: float) -> np.ndarray:
    """Velocity v/c of a particle of momentum p c [GeV] and rest energy ``mass_GeV``."""
    p = np.asarray(p, dtype=float)
    return p / np.hypot(p, mass_GeV)


def _species(species) -> Nuclide:
    return species if isinstance(species, Nuclide) else nuclide(species)


def _quantity_in(name: str, x, var: str) -> np.ndarray:
    if not isinstance(x, u.Quantity):
        raise InputError(f"{name} must be an astropy Quantity in {VARIABLES[var]}; got {x!r}")
    try:
        return x.to_value(VARIABLES[var])
    except u.UnitConversionError as exc:
        raise InputError(f"{name} has unit {x.unit}, not convertible to {VARIABLES[var]} for {var}") from exc


def convert_energy(x: u.Quantity, frm: str, to: str, species) -> u.Quantity:
    """Convert ``x`` from energy variable ``frm`` to ``to`` for ``species``.

    ``frm``/``to`` are names of :data:`VARIABLES`; ``x`` carries the unit of its variable
    (GeV for energies, momenta and per-nucleon energies, GV for rigidity).
    """
    _check_variable(frm)
    _check_variable(to)
    nuc = _species(species)
    p = momentum_from(_quantity_in("energy", x, frm), frm, nuc.Z, nuc.A, nuc.mass_GeV)
    return from_momentum(p, to, nuc.Z, nuc.A, nuc.mass_GeV) * VARIABLES[to]


def convert_flux(x: u.Quantity, flux: u.Quantity, frm: str, to: str, species):
    """Change the variable of a differential flux dN/d(frm) to dN/d(to).

    Returns ``(x_to, flux_to)``: the abscissa in the new variable and the flux per unit
    of the new variable, dN/d(to) = dN/d(frm) * d(frm)/d(to) (exact Jacobian).
    """
    _check_variable(frm)
    _check_variable(to)
    nuc = _species(species)
    xv = _quantity_in("energy", x, frm)
    p = momentum_from(xv, frm, nuc.Z, nuc.A, nuc.mass_GeV)
    jac = dvar_dp(p, frm, nuc.Z, nuc.A, nuc.mass_GeV) / dvar_dp(p, to, nuc.Z, nuc.A, nuc.mass_GeV)
    x_to = from_momentum(p, to, nuc.Z, nuc.A, nuc.mass_GeV) * VARIABLES[to]
    return x_to, (flux * jac) * (VARIABLES[frm] / VARIABLES[to])


def velocity(x: u.Quantity, var: str, species) -> u.Quantity:
    """Particle speed v = beta c for ``x`` in variable ``var``."""
    nuc = _species(species)
    p = momentum_from(_quantity_in("energy", x, var), var, nuc.Z, nuc.A, nuc.mass_GeV)
    return (beta_of_momentum(p, nuc.mass_GeV) * c).to(u.cm / u.s)
