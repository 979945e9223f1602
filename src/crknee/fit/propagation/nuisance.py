"""Production cross-section nuisances applied inside the solve.

The production cross sections (on H and on He) of every channel *into* an isotope of
element X in (Li, Be, B) are multiplied by

    f_X(Ekn) = n_X (Ekn / E_pivot)^s_X,     E_pivot = 10 GeV/n,

(cross-section nuisance parameters as in Derome et al. 2019, A&A 627, A158, and Korsmeier
& Cuoco 2021, PRD 103, 103016, per their abstracts; this per-element power-law form is
crknee's parametrisation).  Tertiary channels (B -> Li, Be -> Li ...) are scaled with the
same factor as they produce the same isotopes.

Implementation: the factors form the ``production_factor`` array [parent, child, E] that
:meth:`crknee.propagation.PreparedSolver.solve` multiplies into its prepared production
rates for one solve (nothing else is rebuilt).  Source abundances need no wrapper: they are
the ``source_abundance`` field of :class:`crknee.propagation.model.PropagationModel`.
"""

from __future__ import annotations

import numpy as np

from crknee.errors import InputError

#: Pivot energy per nucleon of the cross-section slope nuisance [GeV/n].
XS_PIVOT_GEV = 10.0


def production_factor(ekn_GeV, norm: float, slope: float) -> np.ndarray:
    """f(Ekn) = norm (Ekn / 10 GeV/n)^slope on the grid ``ekn_GeV``."""
    if not np.isfinite(norm) or norm < 0 or not np.isfinite(slope):
        raise InputError(f"cross-section nuisance needs a norm >= 0 and a finite slope; got ({norm!r}, {slope!r})")
    return norm * (np.asarray(ekn_GeV, dtype=float) / XS_PIVOT_GEV) ** slope


def production_factors(nuclides, ekn_GeV, xs: dict) -> np.ndarray | None:
    """(n, n, n_E) factors [parent, child, E] for ``xs`` = {X: (n_X, s_X)} (None if empty):
    column i is f_X(E) for every parent when nuclide i is an isotope of X, else 1."""
    if not xs:
        return None
    ekn = np.asarray(ekn_GeV, dtype=float)
    elements = [n.element for n in nuclides]
    fac = np.ones((len(elements), len(elements), ekn.size))
    for x, (norm, slope) in xs.items():
        idx = [k for k, e in enumerate(elements) if e == x]
        if not idx:
            raise InputError(f"cross-section nuisance for {x!r}: no isotope of it in the network")
        fac[:, idx, :] = production_factor(ekn, norm, slope)
    return fac
