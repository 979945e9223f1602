"""Constant-cross-section networks duck-typing crknee.propagation.network.Network.

Shared by the solver tests that compare against exact solutions: energy-independent
cross sections [mb] on H (none on He), optional radioactive decay.
"""

import numpy as np

from crknee.kinematics import nuclide


class ToyNetwork:
    """Nuclides ``names`` with constant inelastic ``inel_mb`` and production ``prod_mb``
    ({(parent, child): mb}); stable unless ``tau_Myr``/``decay_child`` are given."""

    def __init__(self, names, inel_mb, prod_mb, abundance, tau_Myr=None, decay_child=None):
        n = len(names)
        self.nuclides = tuple(nuclide(x) for x in names)
        self._inel = np.asarray(inel_mb, float)
        self._prod = prod_mb
        self.tau_decay_Myr = np.full(n, np.inf) if tau_Myr is None else np.asarray(tau_Myr, float)
        self.decay_child = np.full(n, -1) if decay_child is None else np.asarray(decay_child, int)
        self.source_abundance = np.asarray(abundance, float)

    def index(self, name):
        return [x.name for x in self.nuclides].index(nuclide(name).name)

    def sigma_inel(self, ekn):
        s = self._inel[:, None] * np.ones(np.size(ekn))
        return s, 0.0 * s

    def sigma_prod(self, ekn):
        n = len(self.nuclides)
        s = np.zeros((n, n, np.size(ekn)))
        for (j, i), val in self._prod.items():
            s[j, i] = val
        return s, 0.0 * s

    def parents(self, i):
        return sorted({j for (j, k) in self._prod if k == i} | set(np.flatnonzero(self.decay_child == i).tolist()))
