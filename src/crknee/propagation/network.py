"""The nuclear network of the background propagation solver.

:func:`build_network` assembles, for an ordered list of nuclides, everything the solver
needs about nuclear physics:

* total inelastic cross sections on H and He targets (``sigma_inel``),
* cumulative, straight-ahead production cross sections parent -> child on H and He
  (``sigma_prod``),
* rest-frame mean lifetimes and decay daughters (``tau_decay_Myr``, ``decay_child``),
* GALPROP source abundances (``source_abundance``).

Tables and conventions are described in :mod:`crknee.propagation.crosssections`,
:mod:`~crknee.propagation.decays`, :mod:`~crknee.propagation.abundances` and
docs/nuclear.md.  In short:

* Production: USINE ``sigProdGALPROP17_OPT12`` (default) or ``..._OPT22``, on H and He,
  with the Z <= 2 channels of Coste et al. 2012 (A&A 539, A88) replacing the table's
  (4He->3He, 4He->2H, 4He->1H, 3He->2H, 3He->1H, 2H->1H, 1H->2H).  The GALPROP17 tables
  are **cumulative**: they hold no channel into a short-lived nucleus (no 11C, 10C, 14O
  ...) and, e.g., sigma(12C->11B) = 59.5 mb at 0.5 GeV/n equals the measured direct
  11B (32.7 mb) + 11C (28.7 mb) cross sections of Webber et al. 1990 (PRC 41, 520);
  this is a test.  Ghosts therefore need no folding.
* Inelastic: USINE ``sigInelTripathi99+Coste12`` (default) H and He columns; protons on H
  from Kafexhiu et al. 2014 (:func:`~crknee.propagation.crosssections.sigma_pp_inel_mb`),
  protons on He from the Coste12 column, continued above its last node (6.29 GeV/n)
  with the energy dependence of sigma_pp.
* Energies: linear in ln Ekn between nodes, constant outside the tables.

Ordering: heaviest A first; within one A, a decay parent precedes its daughter (10Be
before 10B, 26Al before 26Mg); then Z ascending.  The only channel that runs against
this order is 1H -> 2H (p p -> d pi+, Coste12, <= 2.9 mb on H), listed in
:attr:`Network.backward_channels`; a sequential solver handles it by a second pass over
the network, as GALPROP does (galdef ``network_iterations = 2``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from crknee.errors import DataError, InputError, UnknownSpeciesError
from crknee.kinematics import Z_OF, Nuclide, nuclide
from crknee.propagation.abundances import read_source_abundances
from crknee.propagation.crosssections import (
    COSTE12_PRODUCTION,
    INELASTIC_TABLES,
    PRODUCTION_TABLES,
    interpolate,
    read_usine,
    sigma_pp_inel_mb,
)
from crknee.propagation.decays import read_crchart


@dataclass(frozen=True, eq=False)
class Network:
    """Ordered nuclides with their cross sections, decays and source abundances.

    ``tau_decay_Myr``: rest-frame mean lifetime of the bare nucleus [Myr] (USINE CR chart;
    ``inf`` if stable for a fully stripped nucleus); the solver multiplies by gamma.
    ``decay_child``: index of the daughter (-1: stable or daughter outside the network).
    ``source_abundance``: GALPROP isotopic source abundances, H1 = 1, defined as ratios of
    injected densities at the same momentum per nucleon (GALPROP's q_i(p) = a_i A^(g-1)
    Z^-g f(R)); for the coefficient of a common rigidity spectrum use
    :func:`crknee.propagation.abundances.rigidity_coefficients`.
    Array attributes are read-only.  See the module docstring for the tables used.
    """

    nuclides: tuple[Nuclide, ...]
    tau_decay_Myr: np.ndarray
    decay_child: np.ndarray
    source_abundance: np.ndarray
    production: str
    inelastic: str
    _inel_grid: np.ndarray = field(repr=False)
    _inel: np.ndarray = field(repr=False)  # (n, 2, n_grid) [mb], H and He
    _prod_grid: np.ndarray = field(repr=False)
    _prod: np.ndarray = field(repr=False)  # (n_chan, 2, n_grid) [mb]
    _chan: np.ndarray = field(repr=False)  # (n_chan, 2) int: (parent, child)

    @property
    def names(self) -> list[str]:
        """Nuclide names in network order."""
        return [n.name for n in self.nuclides]

    @property
    def Z(self) -> np.ndarray:
        """Charge numbers, network order."""
        return np.array([n.Z for n in self.nuclides])

    @property
    def A(self) -> np.ndarray:
        """Mass numbers, network order."""
        return np.array([n.A for n in self.nuclides])

    @property
    def mass_GeV(self) -> np.ndarray:
        """Nuclear rest energies [GeV], network order."""
        return np.array([n.mass_GeV for n in self.nuclides])

    @property
    def channels(self) -> np.ndarray:
        """(n_chan, 2) int array of the non-zero spallation channels (parent j, child i)."""
        return self._chan

    def index(self, name: str) -> int:
        """Position of ``name`` ("C12", "12C", "p" ...); UnknownSpeciesError otherwise."""
        canon = nuclide(name).name
        try:
            return self.names.index(canon)
        except ValueError:
            raise UnknownSpeciesError(
                f"{name!r} is not in the network ({len(self.nuclides)} nuclides: {', '.join(self.names)})"
            ) from None

    def sigma_inel(self, ekn_GeV) -> tuple[np.ndarray, np.ndarray]:
        """Total inelastic cross sections (on H, on He), each (n_nuc, n_E) [mb].

        H1 on H: Kafexhiu et al. 2014; H1 on He: Coste12 column, scaled above its last node
        by sigma_pp(E) / sigma_pp(E_last).  Other nuclides: the inelastic table.
        """
        s = interpolate(self._inel, self._inel_grid, ekn_GeV)
        e = np.atleast_1d(np.asarray(ekn_GeV, dtype=float))
        for k, nuc in enumerate(self.nuclides):
            if nuc.name == "H1":
                s[k, 0] = sigma_pp_inel_mb(e)
                scale = sigma_pp_inel_mb(np.maximum(e, self._inel_grid[-1]))
                s[k, 1] *= scale / sigma_pp_inel_mb(self._inel_grid[-1])
        return s[:, 0], s[:, 1]

    def sigma_prod(self, ekn_GeV) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative production cross sections (on H, on He), each (n_nuc, n_nuc, n_E)
        [mb]; ``[j, i, :]`` is parent j -> child i at the same Ekn, zero without channel."""
        n = len(self.nuclides)
        vals = interpolate(self._prod, self._prod_grid, ekn_GeV)
        out = np.zeros((2, n, n, vals.shape[-1]))
        out[:, self._chan[:, 0], self._chan[:, 1], :] = np.moveaxis(vals, 1, 0)
        return out[0], out[1]

    def parents(self, i: int) -> list[int]:
        """Indices of the nuclides that feed ``i`` by spallation or by decay (sorted)."""
        if not 0 <= i < len(self.nuclides):
            raise InputError(f"nuclide index {i!r} outside 0..{len(self.nuclides) - 1}")
        spall = self._chan[self._chan[:, 1] == i, 0]
        decay = np.flatnonzero(self.decay_child == i)
        return sorted({int(j) for j in np.concatenate([spall, decay])})

    @property
    def backward_channels(self) -> list[tuple[int, int]]:
        """(parent, child) spallation channels with the child before its parent."""
        return [(int(j), int(i)) for j, i in self._chan if j > i]


def _ordered(nucs: list[Nuclide], decays: dict) -> list[Nuclide]:
    names = {n.name for n in nucs}
    depth = {n.name: 0 for n in nucs}
    for _ in range(len(nucs)):
        for d in decays.values():
            if d.name in names and d.daughter in names:
                depth[d.daughter] = max(depth[d.daughter], depth[d.name] + 1)
    return sorted(nucs, key=lambda n: (-n.A, depth[n.name], n.Z))


@lru_cache(maxsize=16)
def _build(species: tuple[str, ...] | None, heaviest: str, production: str, inelastic: str) -> Network:
    if production not in PRODUCTION_TABLES:
        raise InputError(f"unknown production table {production!r}; choose from {sorted(PRODUCTION_TABLES)}")
    if inelastic not in INELASTIC_TABLES:
        raise InputError(f"unknown inelastic table {inelastic!r}; choose from {sorted(INELASTIC_TABLES)}")
    inel = read_usine(INELASTIC_TABLES[inelastic])
    prod = read_usine(PRODUCTION_TABLES[production])
    coste = read_usine(COSTE12_PRODUCTION)
    if not np.allclose(coste.ekn_GeV, prod.ekn_GeV):
        raise DataError("Coste12 and production tables are on different energy grids")
    if species is None:
        top = nuclide(heaviest)
        known = [k for k in inel.blocks if k.rstrip("0123456789") in Z_OF]
        nucs = [n for n in map(nuclide, known) if n.A <= top.A and n.Z <= top.Z]
    else:
        nucs = [nuclide(s) for s in species]
        dup = {n.name for n in nucs if [m.name for m in nucs].count(n.name) > 1}
        if dup:
            raise InputError(f"species listed twice: {sorted(dup)}")
        missing = [n.name for n in nucs if n.name not in inel.blocks]
        if missing:
            raise UnknownSpeciesError(f"no inelastic cross section for {missing} in table {inelastic!r}")
    decays = read_crchart()
    nucs = _ordered(nucs, decays)
    names = [n.name for n in nucs]
    pos = {nm: k for k, nm in enumerate(names)}

    table = dict(prod.blocks)
    table.update(coste.blocks)
    chan, vals = [], []
    for (par, chi), v in table.items():
        if par in pos and chi in pos and par != chi and np.any(v > 0):
            chan.append((pos[par], pos[chi]))
            vals.append(v.T)
    chan_arr = np.array(chan, dtype=int).reshape(-1, 2)
    prod_arr = np.array(vals).reshape(-1, 2, prod.ekn_GeV.size)

    inel_arr = np.array([inel.blocks[nm].T for nm in names])
    tau = np.array([decays[nm].tau_Myr if nm in decays else np.inf for nm in names])
    child = np.array([pos.get(decays[nm].daughter, -1) if nm in decays else -1 for nm in names])
    src = read_source_abundances()
    abund = np.array([src.get(nm, 0.0) for nm in names])
    arrays = (tau, child, abund, inel.ekn_GeV, inel_arr, prod.ekn_GeV, prod_arr, chan_arr)
    for a in arrays:
        a.flags.writeable = False
    return Network(
        tuple(nucs), tau, child, abund, production, inelastic, inel.ekn_GeV, inel_arr, prod.ekn_GeV, prod_arr, chan_arr
    )


def build_network(
    species=None, *, heaviest: str = "Fe56", production: str = "GALPROP17_OPT12", inelastic: str = "Tripathi99+Coste12"
) -> Network:
    """Build (and cache) the nuclear network.

    ``species=None``: every nuclide of the inelastic table with A <= A and Z <= Z of
    ``heaviest`` (default Fe56: 82 nuclides, 1H ... 56Fe).  Otherwise exactly the listed
    nuclides (names as accepted by :func:`crknee.kinematics.nuclide`), reordered.
    ``production``: "GALPROP17_OPT12" | "GALPROP17_OPT22"; ``inelastic``:
    "Tripathi99+Coste12" | "Tripathi99" | "Barashenkov94" | "Wellish97" | "Webber03".
    """
    key = None if species is None else tuple(nuclide(s).name for s in species)
    if key is not None and not key:
        raise InputError("species must name at least one nuclide; got an empty list")
    return _build(key, nuclide(heaviest).name, production, inelastic)
