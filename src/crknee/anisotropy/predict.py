"""The one dipole API: background + point sources + the knee source, vectorised over
parameter sets, and what each experiment would have measured.

:func:`predict_dipole` sums the components as :func:`crknee.anisotropy.combine` does
(paper Sec. 2.3): the total dipole is sum_k J_k delta_k / sum_k J_k over the all-particle
LIS fluxes J_k and the components' own dipoles delta_k (a component with zero flux adds
nothing).  Components are

* fixed: a background :class:`crknee.propagation.solution.Solution` (radial gradient,
  :func:`crknee.anisotropy.solution_dipole`), a :class:`crknee.sources.point.PointSource`
  (e.g. the local SNR) or a :class:`Tabulated` flux and dipole (e.g. the fit's fixed
  components) on the prediction energies;
* parametrised: a :class:`crknee.sources.model.KneeModel` built on the prediction energies
  (``E_aniso_GeV``), evaluated at n parameter rows (or its ``KneeResult`` for those rows).

An optional :class:`crknee.anisotropy.field.FieldAlignment` projects the *total* dipole on
the local magnetic field (the projection is linear, so projecting each component first
gives the same sum).  :meth:`DipolePrediction.per_dataset` converts the vectors to the
quantity each dataset published (:class:`crknee.anisotropy.conventions.Convention`).

Speed: everything that depends only on energy (the fixed components, their projection on
the field and on the equator) is computed once per call; per (set, energy) the work is the
knee source's exponentials (:class:`KneeModel`) and a few fused array passes, laid out
component-major so that every pass runs over contiguous memory
(``benchmarks/bench_anisotropy.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import astropy.units as u
import numpy as np

from crknee.anisotropy.dipole import galactic_to_icrs_matrix, solution_dipole
from crknee.anisotropy.field import FieldAlignment
from crknee.errors import InputError
from crknee.units import value_in

#: Order of a knee-source parameter row: the arguments of :class:`KneeModel.__call__`.
KNEE_PARAMETERS = ("l_deg", "b_deg", "d_kpc", "t_Myr", "Rcut_GV", "beta", "E_erg")
#: Relative tolerance with which a dataset row's energy must match a prediction energy.
ENERGY_MATCH_RTOL = 1e-12


@dataclass(frozen=True)
class Tabulated:
    """A fixed component given on the prediction energies: all-particle LIS flux ``flux``
    (m,) [m^-2 s^-1 sr^-1 GeV^-1 per total energy per particle, the unit of every other
    component; floats or a Quantity], its own dipole ``dipole`` (m, 3), Galactic
    Cartesian, and optionally its diffusive-regime mask ``valid`` (m,)."""

    flux: np.ndarray
    dipole: np.ndarray
    label: str = "tabulated"
    valid: np.ndarray | None = None


def tabulate(E, components, label: str = "fixed components") -> Tabulated:
    """Sum fixed components (``Solution``, ``PointSource``, :class:`Tabulated`) once on the
    energies ``E`` (Quantity or floats in GeV): one :class:`Tabulated` with their total
    flux, flux-weighted own dipole and joint validity.  A sampler that calls
    :func:`predict_dipole` many times on the same energies passes this instead of the
    components (the background solution costs ~0.15 ms per energy)."""
    E = _energies_GeV(E)
    J_tot, Jd_tot, valid = np.zeros(E.shape), np.zeros(E.shape + (3,)), np.ones(E.shape, dtype=bool)
    for c in components:
        J, Jd, ok = _fixed_terms(E, c)
        J_tot += J
        Jd_tot += Jd
        valid &= ok
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(J_tot[:, None] > 0, Jd_tot / J_tot[:, None], np.nan)
    return Tabulated(J_tot, own, label, valid)


def _energies_GeV(E) -> np.ndarray:
    if isinstance(E, u.Quantity):
        E = value_in("prediction energies E", E, "GeV")
    E = np.atleast_1d(np.asarray(E, dtype=float))
    if E.ndim != 1 or E.size == 0:
        raise InputError(f"prediction energies must be a 1-d, non-empty array; got shape {E.shape}")
    bad = ~np.isfinite(E) | (E <= 0)
    if np.any(bad):
        raise InputError(f"prediction energies must be finite and > 0 GeV; got {E[bad][0]!r}")
    return E


def _column_GeV(col) -> np.ndarray:
    return np.asarray(col.to_value(u.GeV) if isinstance(col, u.Quantity) else col, dtype=float)


def row_energies_GeV(table) -> np.ndarray:
    """Energy [GeV] at which each row of a canonical anisotropy table is predicted: ``x``;
    for a bin row (``x`` NaN) the geometric bin centre sqrt(x_lo x_hi); for an open bin
    (threshold, ``x_hi`` NaN) the threshold ``x_lo``."""
    x, lo, hi = (_column_GeV(table[c]) for c in ("x", "x_lo", "x_hi"))
    centre = np.where(np.isfinite(hi), np.sqrt(np.abs(lo * hi)), lo)
    return np.where(np.isfinite(x), x, centre)


def dataset_energies_GeV(datasets) -> np.ndarray:
    """Sorted union of :func:`row_energies_GeV` over ``datasets`` (mapping name -> table,
    or dataset names for :func:`crknee.data.load`): the energies to build the
    :class:`KneeModel` on and pass to :func:`predict_dipole`."""
    tables = _tables(datasets)
    E = np.concatenate([row_energies_GeV(t) for t in tables.values()]) if tables else np.empty(0)
    return np.unique(E[np.isfinite(E)])


def _tables(datasets) -> dict:
    if datasets is None:
        return {}
    if isinstance(datasets, str):
        datasets = [datasets]
    if not hasattr(datasets, "items"):
        from crknee.data import load

        datasets = {name: load(name) for name in datasets}
    return dict(datasets)


def _knee_rows(params, n_models: int) -> list[np.ndarray]:
    if n_models == 0:
        if params is not None:
            raise InputError("params given but no parametrised component (KneeModel) among the components")
        return []
    if params is None:
        raise InputError("a KneeModel component needs params: rows of (" + ", ".join(KNEE_PARAMETERS) + ")")
    blocks = list(params) if n_models > 1 else [params]
    if len(blocks) != n_models:
        raise InputError(f"params must hold one block of rows per KneeModel ({n_models}); got {len(blocks)}")
    rows = []
    for block in blocks:
        if hasattr(block, "keys"):
            missing = [k for k in KNEE_PARAMETERS if k not in block]
            if missing:
                raise InputError(f"knee-source params lack {missing[0]!r} (need {', '.join(KNEE_PARAMETERS)})")
            cols = np.broadcast_arrays(*(np.atleast_1d(np.asarray(block[k], dtype=float)) for k in KNEE_PARAMETERS))
            block = np.stack(cols, axis=-1)
        block = np.atleast_2d(np.asarray(block, dtype=float))
        if block.ndim != 2 or block.shape[1] != len(KNEE_PARAMETERS):
            raise InputError(
                f"knee-source params must have shape (n, {len(KNEE_PARAMETERS)}) in the order "
                f"({', '.join(KNEE_PARAMETERS)}); got {block.shape}"
            )
        rows.append(block)
    n = {r.shape[0] for r in rows}
    if len(n) > 1:
        raise InputError(f"every KneeModel needs the same number of parameter rows; got {sorted(n)}")
    return rows


def _fixed_terms(E, comp):
    """(J (m,), J x delta (m, 3), valid (m,)) of a fixed component."""
    from crknee.propagation.solution import Solution
    from crknee.sources.point import PointSource

    if isinstance(comp, Solution):
        J, d = solution_dipole(comp, E)
        valid = np.ones(E.shape, dtype=bool)
    elif isinstance(comp, PointSource):
        J, d, valid = comp.evaluate(E, "all")
    elif isinstance(comp, Tabulated):
        J = comp.flux.to_value(u.Unit("m-2 s-1 sr-1 GeV-1")) if isinstance(comp.flux, u.Quantity) else comp.flux
        J = np.asarray(J, dtype=float)
        d = np.asarray(getattr(comp.dipole, "value", comp.dipole), dtype=float)
        if J.shape != E.shape or d.shape != E.shape + (3,):
            raise InputError(
                f"Tabulated component {comp.label!r} must have flux {E.shape} and dipole "
                f"{E.shape + (3,)} on the prediction energies; got {J.shape} and {d.shape}"
            )
        if np.any(~np.isfinite(J) | (J < 0)):
            raise InputError(f"Tabulated component {comp.label!r}: flux must be finite and >= 0")
        valid = np.ones(E.shape, dtype=bool) if comp.valid is None else np.asarray(comp.valid, dtype=bool)
    else:
        raise InputError(
            f"unknown dipole component {type(comp).__name__!r}: use a propagation Solution, a "
            f"PointSource, a Tabulated, a KneeModel or a KneeResult"
        )
    Jd = np.where(J[:, None] > 0, J[:, None] * d, 0.0)
    return J, Jd, valid


class DipolePrediction:
    """The dipole of n parameter sets at m energies (plain floats).

    ``vector`` (n, m, 3) total dipole, Galactic Cartesian; ``flux_all`` (n, m) total
    all-particle LIS flux [m^-2 s^-1 sr^-1 GeV^-1]; ``d_perp`` (n, m) equatorial amplitude
    |delta| cos(dec_delta); ``phase_deg`` (n, m) RA of delta in [0, 360); ``valid`` (n, m)
    False where a point source or the knee source is outside the diffusive regime (the
    numbers are still given there); ``E_GeV`` (m,).  Where the total flux is zero the
    dipole, amplitude and phase are NaN (no particles, no direction).
    """

    def __init__(self, E_GeV, vector, flux_all, d_perp, phase_deg, valid, datasets):
        self.E_GeV, self.vector, self.flux_all = E_GeV, vector, flux_all
        self.d_perp, self.phase_deg, self.valid = d_perp, phase_deg, valid
        self._datasets = datasets

    @property
    def datasets(self) -> list[str]:
        """Names of the datasets :meth:`per_dataset` knows."""
        return list(self._datasets)

    @cached_property
    def _rows(self) -> dict:
        order = np.argsort(self.E_GeV, kind="stable")
        Es = self.E_GeV[order]
        out = {}
        for name, table in self._datasets.items():
            Er = row_energies_GeV(table)
            idx = np.clip(np.searchsorted(Es, Er), 0, Es.size - 1)
            lower = np.clip(idx - 1, 0, Es.size - 1)
            idx = np.where(np.abs(Es[lower] - Er) < np.abs(Es[idx] - Er), lower, idx)
            miss = ~(np.abs(Es[idx] - Er) <= ENERGY_MATCH_RTOL * np.abs(Er))
            if np.any(miss):
                row = int(np.flatnonzero(miss)[0])
                raise InputError(
                    f"dataset {name!r} row {row}: energy {Er[row]:.6g} GeV is not among the prediction "
                    f"energies (build them with dataset_energies_GeV)"
                )
            out[name] = order[idx]
        return out

    def per_dataset(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(amplitude (n, k), phase [deg] (n, k)) at the k rows of dataset ``name`` in the
        quantity that dataset published (its ``convention`` metadata, via
        :meth:`crknee.anisotropy.conventions.Convention.from_meta`); rows are predicted at
        :func:`row_energies_GeV`."""
        from crknee.anisotropy.conventions import Convention

        if name not in self._datasets:
            raise InputError(f"unknown dataset {name!r}: this prediction was made for {sorted(self._datasets)}")
        conv = Convention.from_meta(self._datasets[name].meta, name)
        vec = self.vector[:, self._rows[name], :]
        return np.asarray(conv.amplitude(vec), dtype=float), np.asarray(conv.phase(vec), dtype=float)


def predict_dipole(E, components, params=None, field=None, datasets=None) -> DipolePrediction:
    """Total dipole of ``components`` at energies ``E`` for n parameter sets.

    ``E``: total energies per particle, a Quantity or floats in GeV (m,); ``components``:
    any of propagation ``Solution``, ``PointSource``, :class:`Tabulated` (fixed) and
    ``KneeModel`` (parametrised; built with ``E_aniso_GeV`` = ``E``) or a ``KneeResult``
    already evaluated on ``E`` for the n sets (a caller that also needs the knee source's
    spectra evaluates it once); ``params``: for one
    KneeModel an (n, 7) array in the order :data:`KNEE_PARAMETERS` (deg, deg, kpc, Myr, GV,
    -, erg) or a mapping of those names to (n,) arrays; for several KneeModels a list of
    such blocks; ``field``: None (isotropic diffusion, the paper) or a
    :class:`crknee.anisotropy.field.FieldAlignment`; ``datasets``: mapping name -> canonical
    anisotropy table (or dataset names) for :meth:`DipolePrediction.per_dataset`.  Without a
    KneeModel n = 1.
    """
    from crknee.sources.model import KneeModel, KneeResult

    E = _energies_GeV(E)
    comps = list(components)
    if not comps:
        raise InputError("predict_dipole needs at least one component")
    if field is not None and not isinstance(field, FieldAlignment):
        raise InputError(f"field must be None (isotropic diffusion) or a FieldAlignment; got {field!r}")
    knees = [c for c in comps if isinstance(c, KneeModel)]
    rows = _knee_rows(params, len(knees))
    for k in knees:
        if k.E_aniso.shape != E.shape or not np.array_equal(k.E_aniso, E):
            raise InputError(
                f"the KneeModel was built on {k.E_aniso.size} anisotropy energies, not on the "
                f"{E.size} prediction energies: build it with E_aniso_GeV = E"
            )
    evaluated = [c for c in comps if isinstance(c, KneeResult)]
    sizes = {r.shape[0] for r in rows} | {c.flux_all.shape[0] for c in evaluated}
    if len(sizes) > 1:
        raise InputError(f"every parametrised component needs the same number of parameter sets; got {sorted(sizes)}")
    for c in evaluated:
        if c.flux_all.shape[1:] != E.shape:
            raise InputError(
                f"a KneeResult on {c.flux_all.shape[1:]} energies does not match the {E.size} prediction energies"
            )
    # energy-only work: the fixed components, projected on the field and the equator
    J_fix, Jd_fix, valid_fix = np.zeros(E.shape), np.zeros(E.shape + (3,)), np.ones(E.shape, dtype=bool)
    for c in comps:
        if not isinstance(c, (KneeModel, KneeResult)):
            J, Jd, ok = _fixed_terms(E, c)
            J_fix += J
            Jd_fix += Jd
            valid_fix &= ok
    P = np.eye(3) if field is None else field.matrix
    to_eq = galactic_to_icrs_matrix()[:2]  # equatorial x, y rows
    fix = np.concatenate([Jd_fix @ P, Jd_fix @ P @ to_eq.T], axis=1).T.copy()  # (5, m): P Jd, then its eq. x, y
    n = sizes.pop() if sizes else 1
    m = E.size
    knee_terms = []
    results = [knee(*block.T) for knee, block in zip(knees, rows)] + evaluated  # KneeModel loops are blocked
    for res in results:
        d = None if res.direction is None else res.direction @ P
        knee_terms.append((res, None if d is None else np.concatenate([d, d @ to_eq.T], axis=1)))
    out = _Outputs(n, m)
    for a in range(0, n, CHUNK):
        _chunk(out, slice(a, min(a + CHUNK, n)), J_fix, fix, valid_fix, knee_terms, P, to_eq)
    return DipolePrediction(
        E, np.moveaxis(out.vector, 0, -1), out.flux_all, out.d_perp, out.phase, out.valid, _tables(datasets)
    )


#: Parameter sets per block of :func:`predict_dipole`'s array passes: the block's
#: (sets x energies) arrays (~0.1 MB each for 184 energies) stay in the core's cache.
CHUNK = 128


class _Outputs:
    """Result arrays of :func:`predict_dipole`; the vector component-major (3, n, m)."""

    def __init__(self, n, m):
        self.vector = np.empty((3, n, m))
        self.flux_all, self.d_perp, self.phase = np.empty((n, m)), np.empty((n, m)), np.empty((n, m))
        self.valid = np.empty((n, m), dtype=bool)


def _chunk(out, sl, J_fix, fix, valid_fix, knee_terms, P, to_eq):
    """Fill rows ``sl`` of ``out``.  Five projections of sum_k J_k delta_k are summed over
    the fixed part and the knee sources: Galactic x, y, z after the field projection, and
    its equatorial x, y.  The first three are divided by the total flux, the last two by
    minus the total flux, so that atan2 of them is RA - 180 deg in (-180, 180]."""
    J_tot = out.flux_all[sl]
    J_tot[:] = J_fix
    valid = out.valid[sl]
    valid[:] = valid_fix
    num = [out.vector[0, sl], out.vector[1, sl], out.vector[2, sl], out.d_perp[sl], out.phase[sl]]
    tmp = np.empty(J_tot.shape)
    first = True
    for res, d in knee_terms:
        J = res.flux_all[sl]
        J_tot += J
        valid &= res.valid[sl]
        if d is None:  # finite halo: the dipole varies with energy
            Jd = np.where(J[..., None] > 0, J[..., None] * res.dipole[sl], 0.0) @ P
            Jd = np.concatenate([Jd, Jd @ to_eq.T], axis=-1)
        for k in range(5):
            term = np.multiply(J, d[sl, k, None], out=tmp) if d is not None else Jd[..., k]
            if first:
                np.add(term, fix[k], out=num[k])
            else:
                num[k] += term
        first = False
    if first:
        for k in range(5):
            num[k][:] = fix[k]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = np.divide(1.0, J_tot, out=tmp)
        inv[np.isinf(inv)] = np.nan  # no (representable) flux: no direction
        for k in range(3):
            num[k] *= inv
        np.negative(inv, out=inv)
        X, Y = num[3], num[4]
        X *= inv
        Y *= inv
        Y2 = np.multiply(Y, Y, out=tmp)
        np.arctan2(Y, X, out=Y)  # -> phase
        np.multiply(X, X, out=X)  # -> d_perp
        X += Y2
        np.sqrt(X, out=X)
    Y *= 180.0 / np.pi
    Y += 180.0
    Y[Y >= 360.0] = 0.0  # atan2 = +180 deg exactly (-0.0 on the equatorial y axis)
