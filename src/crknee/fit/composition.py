"""Composition of the knee source and the mass scale of <ln A>.

Groups (a Peters cycle: every nucleus is cut off at the same rigidity R_cut, Peters 1961,
Nuovo Cimento 22, 800): the knee source injects

    H (H1), He (He4), CNO (C12, N14, O16), NeSi (Ne20, Mg24, Si28, S32), Fe (Fe56)

with abundances f_g *at equal rigidity relative to protons* (the convention of
:class:`crknee.sources.injection.Composition`).  Inside a group the nuclides keep the
ratios of GALPROP's default source abundances (:func:`crknee.sources.injection.galprop_composition`,
galdef_56_example; Strong & Moskalenko 1998, ApJ 509, 212); the group's total f_g is
either a free parameter ``log10_f<group>``, or tied to GALPROP's value by a Gaussian prior in
log10 f_g of width :data:`ABUNDANCE_PRIOR_WIDTH_DEX`, or fixed at GALPROP's value.

<ln A>: every element counts with the mass number of its most abundant isotope in the
GALPROP source table (:func:`mass_number`); isotopes of one element differ by
|Delta ln A| <= ln(14/12) = 0.15 for C-N-O-like cases and much less for heavier ones,
below the ~0.1-0.3 errors of air-shower <ln A>.

Injected energy W [erg] (above 1 GeV, :mod:`crknee.sources.injection`) of a microquasar:
W = eta L_jet tau with

- L_jet: from ~1e37 erg/s (Cyg X-1, jet power 9e35-1e37 erg/s: Gallo et al. 2005, Nature
  436, 819) to ~1e40 erg/s (SS 433, kinetic power 1e39-1e40 erg/s: Fabrika 2004,
  Astrophys. Space Phys. Rev. 12, 1);
- tau: active for 1e4-1e6 yr (issue 17; the lifetime of SS 433's W50 nebula is a few 1e4 yr,
  Fabrika 2004, and the super-Eddington phase of a high-mass X-ray binary lasts <~ 1e5-1e6 yr);
- eta ~ 0.1 of the power into cosmic rays (the efficiency of diffusive shock acceleration,
  Caprioli & Spitkovsky 2014, ApJ 783, 91).

so W in [0.1 x 1e37 erg/s x 1e4 yr, 0.1 x 1e40 erg/s x 1e6 yr] = [3.2e47, 3.2e52] erg:
:data:`W_RANGE_ERG` (a range, not a measurement: the default of ``[fit.W_prior]``).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from crknee.errors import DataError
from crknee.kinematics import Z_OF, nuclide
from crknee.sources.injection import Composition, galprop_composition

#: Source groups at a common cutoff rigidity (element-major isotopes of GALPROP's table).
GROUPS = {
    "H": ("H1",),
    "He": ("He4",),
    "CNO": ("C12", "N14", "O16"),
    "NeSi": ("Ne20", "Mg24", "Si28", "S32"),
    "Fe": ("Fe56",),
}
#: Width [dex] of the Gaussian prior of log10 f_g around GALPROP's source abundances.
#: Choice: a factor 2, the spread of p/He at equal rigidity between 1 TV and 100 TV in the
#: direct data (AMS-02, Aguilar et al. 2021 Phys. Rep. 894, 1; DAMPE, An et al. 2019 Sci.
#: Adv. 5, eaax3793; Alemanno et al. 2021 PRL 126, 201102) and the freedom a single source
#: has against the Galactic average GALPROP fits at GeV energies.
ABUNDANCE_PRIOR_WIDTH_DEX = 0.3
#: Physical range of the injected energy of a microquasar [erg] (module docstring).
W_RANGE_ERG = (3.2e47, 3.2e52)
#: Modes of ``[fit.composition] abundances``.
ABUNDANCE_MODES = ("prior", "free", "fixed")


def abundance_parameter(group: str) -> str:
    """Name of the fit parameter of group ``group``'s abundance (log10 f_g)."""
    return f"log10_f{group}"


@cache
def group_composition(group: str) -> Composition:
    """The nuclides of ``group`` with GALPROP's ratios, normalised to a total of 1
    (multiplied by f_g in the model)."""
    ref = galprop_composition()
    fr = {n: ref.fraction(n) for n in GROUPS[group]}
    total = sum(fr.values())
    return Composition.from_mapping({n: f / total for n, f in fr.items()})


def reference_log10_abundance(group: str) -> float:
    """log10 of GALPROP's source abundance of ``group`` at equal rigidity relative to H1."""
    ref = galprop_composition()
    return float(np.log10(sum(ref.fraction(n) for n in GROUPS[group])))


@cache
def _most_abundant_A() -> dict:
    from crknee.data import raw_path

    path = raw_path("nuclear/source_abundances/GALPROP_galdef_56_example_iso_abundances.csv")
    rows = [line.split(",") for line in path.read_text().splitlines() if line and not line.startswith("#")]
    col = {name: i for i, name in enumerate(rows[0])}
    best: dict[int, tuple[float, int]] = {}
    for row in rows[1:]:
        Z, A, ab = int(row[col["Z"]]), int(row[col["A"]]), float(row[col["abundance"]])
        if Z not in best or ab > best[Z][0]:
            best[Z] = (ab, A)
    return {Z: A for Z, (_, A) in best.items()}


def mass_number(element: str) -> int:
    """Representative mass number of ``element`` for <ln A>: its most abundant isotope in
    GALPROP's source table, which lists every element H-Ni (H -> 1, He -> 4, C -> 12,
    O -> 16, Fe -> 56)."""
    A = _most_abundant_A().get(Z_OF.get(element, 0))
    if A is None:
        raise DataError(f"no representative mass number for element {element!r} (GALPROP's table covers H-Ni)")
    return int(A)


def rigidity_GV(element: str, E_GeV) -> np.ndarray:
    """Rigidity [GV] of the representative nucleus of ``element`` at total energy E [GeV]
    (E below the rest mass gives 0)."""
    Z, m = Z_OF[element], nuclide(f"{element}{mass_number(element)}").mass_GeV
    E = np.asarray(E_GeV, dtype=float)
    return np.sqrt(np.maximum(E * E - m * m, 0.0)) / Z
