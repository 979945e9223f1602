"""The knee-source model: one burst-like source (paper eqs. 5-6) on top of fixed components.

Fixed components (:class:`FixedComponents`): the background of the propagation solver and
the local SNR, tabulated by the pipeline as fluxes per element on a grid of total energy
per particle, with their flux-weighted dipole vectors.  They are not refitted (paper
Sec. 3: the background is fixed by B/C and low-energy protons, cut off at R_cut).

Knee source (:class:`KneeSourceModel`), parameters in the order of :data:`PARAMETERS`:
Galactic longitude l and latitude b [deg], distance d [kpc], age t [Myr] since the burst,
cutoff rigidity R_cut,loc [PV], index beta and log10 of the energy W [erg] injected above
1 GeV kinetic (the normalisation of :mod:`crknee.sources.injection`).  Its flux per species
and its dipole come from the sources' vectorised evaluator
:class:`crknee.sources.model.KneeModel` with the fixed components' diffusion coefficient:
in the background's halo (free escape at |z| = H; crknee's default) or in free space
(paper eqs. 5-6, the paper's mode; the dipole then is 3 d / (2 c t) towards the source).  The observed dipole is the flux-weighted
vector sum of all components (:mod:`crknee.anisotropy`), optionally projected on the local
magnetic field (:class:`crknee.anisotropy.field.FieldAlignment`); each anisotropy dataset
converts it to what it published (:class:`crknee.anisotropy.conventions.Convention`).  Where the diffusive solution does not hold
(``KneeResult.valid``: c t >= 10 d and a mean free path 3 D / c below d) the anisotropy
prediction is NaN and the point gets zero likelihood.

Rows published as a bin or threshold are compared with flux-weighted means over the bin
(Gauss-Legendre, ``NODES_PER_BIN`` nodes in ln E); a threshold row (no upper edge) is
integrated up to ``THRESHOLD_SPAN`` x its threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import h5py
import numpy as np
from numpy.polynomial.legendre import leggauss

from crknee.anisotropy.field import FieldAlignment
from crknee.anisotropy.predict import DipolePrediction, Tabulated, predict_dipole
from crknee.errors import ConfigError, DataError
from crknee.kinematics import ELEMENT_SYMBOLS, nuclide
from crknee.sources import injection
from crknee.sources.model import KneeModel
from crknee.transport import Diffusion

#: Free parameters of the knee source and their units (name suffix = unit).
PARAMETERS = {
    "l_deg": "deg",
    "b_deg": "deg",
    "d_kpc": "kpc",
    "age_Myr": "Myr",
    "Rcut_PV": "PV",
    "beta": "",
    "log10_E_erg": "dex(erg)",
}
#: Flux unit of every flux in this module.
FLUX_UNIT = u.Unit("m-2 s-1 sr-1 GeV-1")
#: GV per PV.
GV_PER_PV = 1e6
#: Gauss-Legendre nodes per energy bin of a binned / threshold row.
NODES_PER_BIN = 8
#: Upper integration edge of a threshold row, in units of its threshold: for spectra
#: steeper than E^-2.5 the flux above 100 x threshold is < 1e-3 of the total.
THRESHOLD_SPAN = 100.0
#: Aggregate species names of flux pieces besides element symbols.
AGGREGATES = {"all": None, "light": ("H", "He")}

#: Floor of the log-log interpolation of a fixed flux that is exactly zero (cut off).
_TINY_FLUX = 1e-300

_GL_X, _GL_W = leggauss(NODES_PER_BIN)


@dataclass(frozen=True)
class FixedComponents:
    """Background + local SNR at Earth, per element, on a grid of total energy per particle.

    ``E_GeV`` (n,) increasing; ``flux[element]`` (n,) [m^-2 s^-1 sr^-1 GeV^-1];
    ``dipole[element]`` (n, 3) the flux-weighted dipole of that element's fixed flux,
    heliocentric Galactic Cartesian (fraction).  Keys are element symbols ("H", "He"...).
    ``diffusion``: the :class:`crknee.transport.Diffusion` the background was solved with
    (the knee source propagates in the same environment, paper Sec. 3); ``halo_kpc``: the
    half-height H of the background's halo (None: not known, free space only).
    """

    E_GeV: np.ndarray
    flux: dict
    dipole: dict
    diffusion: Diffusion = Diffusion()
    halo_kpc: float | None = None

    def __post_init__(self):
        if self.halo_kpc is not None and not (np.isfinite(self.halo_kpc) and self.halo_kpc > 0):
            raise DataError(f"FixedComponents.halo_kpc must be finite and > 0 kpc (or None); got {self.halo_kpc!r}")
        E = np.asarray(self.E_GeV, dtype=float)
        if E.ndim != 1 or E.size < 2 or np.any(np.diff(E) <= 0) or E[0] <= 0:
            raise DataError("FixedComponents.E_GeV must be a positive, strictly increasing grid")
        object.__setattr__(self, "E_GeV", E)
        flux, dip = {}, {}
        for el, J in self.flux.items():
            if el not in ELEMENT_SYMBOLS:
                raise DataError(f"FixedComponents: unknown element {el!r} (use symbols such as 'H', 'He')")
            J = np.asarray(J, dtype=float)
            if J.shape != E.shape or np.any(~np.isfinite(J) | (J < 0)):
                raise DataError(f"FixedComponents.flux[{el!r}] must be {E.shape} finite values >= 0")
            d = np.asarray(self.dipole.get(el, np.zeros((E.size, 3))), dtype=float)
            if d.shape != (E.size, 3) or not np.all(np.isfinite(d)):
                raise DataError(f"FixedComponents.dipole[{el!r}] must be {(E.size, 3)} finite values")
            flux[el], dip[el] = J, d
        if not flux:
            raise DataError("FixedComponents needs at least one element")
        extra = sorted(set(self.dipole) - set(flux))
        if extra:
            raise DataError(f"FixedComponents.dipole has element {extra[0]!r} without a flux")
        object.__setattr__(self, "flux", flux)
        object.__setattr__(self, "dipole", dip)

    @classmethod
    def from_quantities(cls, E: u.Quantity, flux: dict, dipole: dict | None = None,
                        diffusion: Diffusion = Diffusion()) -> "FixedComponents":
        """Build from Quantities: E (total energy per particle), fluxes per element (any
        unit convertible to m^-2 s^-1 sr^-1 GeV^-1), dimensionless dipoles (n, 3)."""
        return cls(E.to_value(u.GeV), {k: v.to_value(FLUX_UNIT) for k, v in flux.items()},
                   {k: u.Quantity(v).to_value(u.dimensionless_unscaled) for k, v in (dipole or {}).items()},
                   diffusion)

    @staticmethod
    def elements(species: str):
        """Element symbols of ``species`` (element, nuclide name or "light"); None for "all"."""
        if species in AGGREGATES:
            return AGGREGATES[species]
        return (species,) if species in ELEMENT_SYMBOLS else (nuclide(species).element,)

    def _check_range(self, E, what):
        E = np.asarray(E, dtype=float)
        if E.size and (np.nanmin(E) < self.E_GeV[0] * (1 - 1e-12) or np.nanmax(E) > self.E_GeV[-1] * (1 + 1e-12)):
            raise ConfigError(f"{what}: needs E = {np.nanmin(E):.3g}-{np.nanmax(E):.3g} GeV, but the fixed "
                              f"components cover {self.E_GeV[0]:.3g}-{self.E_GeV[-1]:.3g} GeV")
        return E

    def flux_at(self, element: str, E_GeV, what="fixed components") -> np.ndarray:
        """Fixed flux of one element at E (log-log interpolation) [m^-2 s^-1 sr^-1 GeV^-1]."""
        E = self._check_range(E_GeV, what)
        if element not in self.flux:
            return np.zeros_like(E)
        logJ = np.log(np.maximum(self.flux[element], _TINY_FLUX))
        return np.exp(np.interp(np.log(E), np.log(self.E_GeV), logJ))

    def dipole_flux_at(self, element: str, E_GeV, what="fixed components") -> np.ndarray:
        """J * delta (n, 3) of one element at E (delta interpolated linearly in ln E)."""
        E = self._check_range(E_GeV, what)
        if element not in self.flux:
            return np.zeros(E.shape + (3,))
        lnE, grid = np.log(E), np.log(self.E_GeV)
        d = np.stack([np.interp(lnE, grid, self.dipole[element][:, k]) for k in range(3)], axis=-1)
        return self.flux_at(element, E, what)[..., None] * d

    def save(self, path) -> None:
        """Write to HDF5 (units in attributes)."""
        with h5py.File(path, "w") as f:
            f.create_dataset("E_GeV", data=self.E_GeV).attrs["unit"] = "GeV (total energy per particle)"
            for k in ("D0", "delta", "R0", "eta"):
                f.attrs[f"diffusion_{k}"] = getattr(self.diffusion, k)
            f.attrs["halo_kpc"] = np.nan if self.halo_kpc is None else float(self.halo_kpc)
            for el in self.flux:
                g = f.create_group(el)
                g.create_dataset("flux", data=self.flux[el]).attrs["unit"] = str(FLUX_UNIT)
                g.create_dataset("dipole", data=self.dipole[el]).attrs["frame"] = "heliocentric Galactic Cartesian"

    @classmethod
    def load(cls, path) -> "FixedComponents":
        try:
            with h5py.File(path, "r") as f:
                els = [k for k in f if k != "E_GeV"]
                diff = Diffusion(**{k: float(f.attrs[f"diffusion_{k}"]) for k in ("D0", "delta", "R0", "eta")})
                H = float(f.attrs.get("halo_kpc", np.nan))
                return cls(f["E_GeV"][()], {k: f[k]["flux"][()] for k in els}, {k: f[k]["dipole"][()] for k in els},
                           diff, None if np.isnan(H) else H)
        except (OSError, KeyError) as exc:
            raise DataError(f"cannot read fixed components from {path}: {exc}") from None


def _nodes(piece):
    """Evaluation energies (flat) and, per row, (start, stop, weights) into them."""
    E, rows = [], []
    for e, lo, hi in zip(piece.E_GeV, piece.E_lo_GeV, piece.E_hi_GeV):
        start = len(E)
        if np.isfinite(e):
            E.append(e)
            w = np.ones(1)
        else:
            hi = hi if np.isfinite(hi) else THRESHOLD_SPAN * lo
            a, b = np.log(lo), np.log(hi)
            x = np.exp(0.5 * (a + b) + 0.5 * (b - a) * _GL_X)
            E.extend(x)
            w = 0.5 * (b - a) * _GL_W * x  # dE = E dlnE
        rows.append((start, len(E), w))
    return np.array(E), rows


class KneeSourceModel:
    """Knee source (:class:`crknee.sources.model.KneeModel`, free space) + fixed components.

    ``composition``: a :class:`crknee.sources.injection.Composition` (abundances at equal
    rigidity); the diffusion coefficient is the fixed components' (same environment).
    ``field``: a :class:`crknee.anisotropy.field.FieldAlignment` projecting the total dipole
    on the local magnetic field (None: isotropic diffusion, the paper's mode).  ``halo``:
    the knee source diffuses in the background's halo (free escape at |z| = H,
    ``fixed.halo_kpc``; :func:`crknee.sources.greens.slab_burst`), as the background does;
    False is the paper's free-space eq. 6.
    """

    parameters = PARAMETERS

    def __init__(self, fixed: FixedComponents, composition: injection.Composition = injection.PROTONS,
                 field: FieldAlignment | None = None, halo: bool = False):
        if halo and fixed.halo_kpc is None:
            raise ConfigError("the knee source in the halo needs the fixed components' halo_kpc (the background's H)")
        self.fixed = fixed
        self.field = field
        self.halo_kpc = fixed.halo_kpc if halo else None
        self.diffusion = fixed.diffusion
        self.composition = composition
        self.elements = tuple(dict.fromkeys(nuclide(n).element for n in composition.species))

    def knee(self, E_GeV, elements) -> KneeModel:
        """The sources' vectorised evaluator on energies ``E_GeV`` for ``elements`` (those of
        the composition; the all-particle flux and dipole always come with it)."""
        return KneeModel(E_GeV, E_GeV, tuple(e for e in elements if e in self.elements),
                         composition=self.composition, diffusion=self.diffusion, halo_kpc=self.halo_kpc)

    @staticmethod
    def source(knee: KneeModel, values):
        """Evaluate ``knee`` at parameter rows ``values`` (n, 7): its KneeResult."""
        v = np.atleast_2d(values)
        return knee(v[:, 0], v[:, 1], v[:, 2], v[:, 3], v[:, 4] * GV_PER_PV, v[:, 5], 10.0 ** v[:, 6])

    def fixed_table(self, E_GeV) -> Tabulated:
        """The fixed components summed on energies ``E_GeV``: all-particle flux and its own
        dipole (:class:`crknee.anisotropy.predict.Tabulated`, for :func:`predict_dipole`)."""
        J = sum(self.fixed.flux_at(el, E_GeV) for el in self.fixed.flux)
        Jd = sum(self.fixed.dipole_flux_at(el, E_GeV) for el in self.fixed.flux)
        own = Jd / np.where(J > 0, J, 1.0)[:, None]
        return Tabulated(J, own, "fixed components")

    def dipole(self, E_GeV, fixed: Tabulated, res) -> tuple[np.ndarray, DipolePrediction]:
        """The observed dipole of fixed components + knee source (:func:`predict_dipole`,
        projected on the field if any): (J x dipole (n, m, 3), NaN where the diffusive
        solution does not hold; the prediction)."""
        pred = predict_dipole(E_GeV, [fixed, res], field=self.field)
        return np.where(pred.valid[..., None], pred.flux_all[..., None] * pred.vector, np.nan), pred

    def evaluate(self, values, E_GeV) -> dict:
        """All predictions at energies ``E_GeV`` (m,) for parameter rows ``values`` (n, 7).

        Returns a dict of (n, m) arrays [m^-2 s^-1 sr^-1 GeV^-1 for fluxes]:
        ``source:<el>``, ``fixed:<el>``, ``total:<el>`` per element of the fixed
        components and the source, and ``source:all``, ``fixed:all``, ``total:all``; the
        observed total dipole ``dipole`` (n, m, 3) (``dipole_flux`` = J x dipole), its
        equatorial ``amplitude`` d_perp and RA ``phase`` [deg]; NaN where the diffusive
        solution does not hold.
        """
        values = np.atleast_2d(np.asarray(values, dtype=float))
        E = self.fixed._check_range(E_GeV, "evaluate")
        n = values.shape[0]
        elements = list(dict.fromkeys(list(self.fixed.flux) + list(self.elements)))
        res = self.source(self.knee(E, elements), values)
        out = {}
        for el in elements:
            s = res.flux[el] if el in res.flux else np.zeros((n, E.size))
            fx = np.broadcast_to(self.fixed.flux_at(el, E), (n, E.size))
            out[f"source:{el}"], out[f"fixed:{el}"], out[f"total:{el}"] = s, fx, s + fx
        fixed_all = sum(self.fixed.flux_at(el, E) for el in self.fixed.flux)
        out["source:all"], out["fixed:all"] = res.flux_all, np.broadcast_to(fixed_all, (n, E.size))
        out["total:all"] = res.flux_all + fixed_all
        out["dipole_flux"], pred = self.dipole(E, self.fixed_table(E), res)
        out["dipole"] = np.where(pred.valid[..., None], pred.vector, np.nan)
        out["amplitude"] = np.where(pred.valid, pred.d_perp, np.nan)
        out["phase"] = np.where(pred.valid, pred.phase_deg, np.nan)
        return out

    def bind(self, pieces):
        """Return ``predict(values) -> [per piece: fluxes (n, n_points) or dipole vectors (n, n_points, 3)]``."""
        layout, E_all = [], []
        for piece in pieces:
            E, rows = _nodes(piece)
            self.fixed._check_range(E, f"dataset {piece.name!r}")
            els = self.fixed.elements(piece.species) if piece.observable == "flux" else ()
            layout.append((piece.observable, els, len(E_all), rows))
            E_all.extend(E)
        return _Predictor(self, np.array(E_all), layout)


class _Predictor:
    """Picklable prediction closure produced by :meth:`KneeSourceModel.bind`."""

    def __init__(self, model, E, layout):
        self.model, self.E, self.layout = model, E, layout
        wanted = set()
        for obs, els, *_ in layout:
            wanted |= set(model.elements if els is None else els)
        self.knee = model.knee(E, sorted(wanted)) if layout else None
        fx = model.fixed
        self.fixed_el = {el: fx.flux_at(el, E) for el in fx.flux}
        self.fixed_all = sum(self.fixed_el.values())
        self.fixed_tab = model.fixed_table(E)
        self.anisotropy = any(obs != "flux" for obs, *_ in layout)

    def __call__(self, values):
        values = np.atleast_2d(values)
        n = values.shape[0]
        if not self.layout:
            return []
        res = self.model.source(self.knee, values)
        if self.anisotropy:
            Jd, pred = self.model.dipole(self.E, self.fixed_tab, res)
        preds = []
        for obs, els, start, rows in self.layout:
            sl = slice(start, start + rows[-1][1])
            if obs == "flux":
                if els is None:
                    pts = self.fixed_all[sl] + res.flux_all[:, sl]
                else:
                    pts = np.zeros((n, sl.stop - start))
                    for el in els:
                        pts = pts + self.fixed_el.get(el, np.zeros(self.E.size))[sl]
                        if el in res.flux:
                            pts = pts + res.flux[el][:, sl]
                preds.append(np.stack([pts[:, a:b] @ w / np.sum(w) for a, b, w in rows], axis=1))
            else:  # the flux-weighted mean observed dipole over each row's bin
                vec, J_tot = Jd[:, sl], pred.flux_all[:, sl]
                preds.append(np.stack([np.einsum("nkc,k->nc", vec[:, a:b], w) / (J_tot[:, a:b] @ w)[:, None]
                                       for a, b, w in rows], axis=1))
        return preds
