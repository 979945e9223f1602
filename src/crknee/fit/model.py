"""The knee-source model: one burst-like source (paper eqs. 5-6) on top of fixed components.

Fixed components (:class:`FixedComponents`): the background of the propagation solver and
the local SNR, tabulated by the pipeline as fluxes per element on a grid of total energy
per particle, with their flux-weighted dipole vectors.  They are not refitted (paper
Sec. 3: the background is fixed by B/C and low-energy protons, cut off at R_cut), except
in the no-source model (``source=False``, the evidence's model (a)), where the background's
cutoff is the free parameter ``Rcut_bg_PV``: each element's background flux is rescaled by
exp(-R/R_c') / exp(-R/R_c0) at the rigidity R of its representative nucleus
(:func:`crknee.fit.composition.rigidity_GV`).  That is exact for primaries at PeV energies,
where propagation is diagonal in momentum (no energy losses; the injection, eq. 4, is a
power law times exp(-R/R_c) above R_br, so the cutoff factor passes through the linear
transport unchanged); secondaries (Li-B, sub-Fe) are rescaled at their own rigidity, which
equals the parent's to the extent that A/Z = 2 for both (their flux at PeV is < 1e-3 of the total).

Knee source (:class:`KneeSourceModel`): Galactic longitude l and latitude b [deg], distance
d [kpc], age t [Myr] since the burst, cutoff rigidity R_cut,loc [PV], index beta and a
normalisation: ``log10_J1PeV`` (crknee's default: log10 of the source's proton flux at Earth
at E = 1 PeV [m^-2 s^-1 sr^-1 GeV^-1]) or ``log10_E_erg`` (the paper's: log10 of the energy W
[erg] injected above 1 GeV kinetic, :mod:`crknee.sources.injection`).  The fluxes are linear
in the normalisation, so every group is evaluated at one reference q0 and rescaled; W is
then a derived quantity (:meth:`KneeSourceModel.derived`).  With ``groups`` the source
injects the groups of :mod:`crknee.fit.composition` (H, He, CNO, NeSi, Fe at a common R_cut,
a Peters cycle) with abundances ``log10_f<group>`` relative to protons at equal rigidity.
Its flux per species and its dipole come from :class:`crknee.sources.model.KneeModel` with
the fixed components' diffusion coefficient: in the background's halo (free escape at
|z| = H; crknee's default) or in free space (paper eqs. 5-6, the paper's mode).  The observed
dipole is the flux-weighted vector sum of all components (:mod:`crknee.anisotropy`),
optionally projected on the local magnetic field (:class:`crknee.anisotropy.field.FieldAlignment`);
each anisotropy dataset converts it to what it published.  Where the diffusive solution does
not hold (``KneeResult.valid``) the anisotropy prediction is NaN and the point gets zero
likelihood.

Observables besides fluxes and dipoles: the mean logarithmic mass
<ln A>(E) = sum_i J_i ln A_i / sum_i J_i over every element of the fixed components and the
source, A_i the representative mass number of element i (:func:`crknee.fit.composition.mass_number`).

Energy scale (one nuisance s per experiment, parameter ``escale_<experiment>``): an
experiment that reconstructs E_obs = (1 + s) E_true measures J_obs(E) = J(E / (1 + s)) / (1 + s)
and <ln A>_obs(E) = <ln A>(E / (1 + s)); a power law J = K E^-gamma then appears multiplied by
(1 + s)^(gamma - 1).  Vectorised over parameter sets: the source is evaluated on a fine
log grid (:data:`FINE_PER_DECADE`) covering the shifted energies and interpolated per set
(log-log; exact for power laws), the fixed components by their own log-log interpolation.

Rows published as a bin or threshold are compared with flux-weighted means over the bin
(Gauss-Legendre, ``NODES_PER_BIN`` nodes in ln E; <ln A>: the ratio of the bin means of
sum J ln A and sum J); a threshold row (no upper edge) is integrated up to
``THRESHOLD_SPAN`` x its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import astropy.units as u
import h5py
import numpy as np
from numpy.polynomial.legendre import leggauss

from crknee.anisotropy.field import FieldAlignment
from crknee.anisotropy.predict import DipolePrediction, Tabulated, predict_dipole
from crknee.errors import ConfigError, DataError
from crknee.fit import composition as comp
from crknee.kinematics import ELEMENT_SYMBOLS, nuclide
from crknee.sources import injection
from crknee.sources.injection import energy_integral_fast
from crknee.sources.model import KneeModel, KneeResult
from crknee.transport import Diffusion

_DEFAULT_DIFFUSION = Diffusion()  # default of FixedComponents.from_quantities (one shared instance, as before)

#: Parameters of the knee source's position, age and spectrum, and their units (name suffix = unit).
SOURCE_PARAMETERS = {"l_deg": "deg", "b_deg": "deg", "d_kpc": "kpc", "age_Myr": "Myr", "Rcut_PV": "PV", "beta": ""}
#: The source's normalisation: the proton flux at Earth at :data:`E_NORM_GEV` (crknee's
#: default) or the injected energy above 1 GeV (the paper's).
NORMALISATIONS = {"log10_J1PeV": "dex(m-2 s-1 sr-1 GeV-1)", "log10_E_erg": "dex(erg)"}
#: The paper's parameters (a proton source normalised by its energy), in the model's order.
PARAMETERS = {**SOURCE_PARAMETERS, "log10_E_erg": "dex(erg)"}
#: How the knee source injects: "burst" (paper eq. 5-6, all at once ``age_Myr`` ago) or
#: "continuous" (at a constant rate from ``age_Myr`` ago for ``active_fraction x age_Myr``,
#: a microquasar active for 1e4-1e6 yr; :class:`crknee.sources.model.KneeModel`).
INJECTIONS = ("burst", "continuous")
#: Continuous injection: the fraction of the source's age during which it injected (0, 1]
#: (1: still active); a fraction, not a duration, so that every point of the prior box is a
#: source that switched on ``age_Myr`` ago (duration <= age).
ACTIVE_FRACTION = "active_fraction"
#: Energy [GeV] (total, per particle) of the flux normalisation ``log10_J1PeV``.
E_NORM_GEV = 1.0e6
#: Injected energy [erg] in protons at which every group is evaluated before rescaling
#: (keeps every flux many decades above KneeModel's floor, 1e-290).
W_REF_ERG = 1.0e50
#: The no-source model's free background cutoff rigidity [PV].
BACKGROUND_CUTOFF = "Rcut_bg_PV"
#: Prefix of an experiment's energy-scale parameter (``escale_LHAASO``).
ESCALE_PREFIX = "escale_"
#: Points per decade of the fine grid on which the source is interpolated per set.
FINE_PER_DECADE = 64
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
#: Key of sum_i J_i ln A_i (the numerator of <ln A>).
LNA_NUM = "lnA_num"

#: Floor of the log-log interpolation of a fixed flux that is exactly zero (cut off).
_TINY_FLUX = 1e-300

_GL_X, _GL_W = leggauss(NODES_PER_BIN)


#: Fields of :class:`crknee.transport.Diffusion` written with the fixed components.
DIFFUSION_FIELDS = tuple(f.name for f in fields(Diffusion))


@dataclass(frozen=True)
class FixedComponents:
    """Background + local SNR at Earth, per element, on a grid of total energy per particle.

    ``E_GeV`` (n,) increasing; ``flux[element]`` (n,) [m^-2 s^-1 sr^-1 GeV^-1];
    ``dipole[element]`` (n, 3) the flux-weighted dipole of that element's fixed flux,
    heliocentric Galactic Cartesian (fraction).  Keys are element symbols ("H", "He"...).
    ``diffusion``: the :class:`crknee.transport.Diffusion` the background was solved with
    (the knee source propagates in the same environment, paper Sec. 3); ``halo_kpc``: the
    half-height H of the background's halo (None: not known, free space only).

    Optional, for the no-source model (a free background cutoff): ``background[element]``
    (n,) the background's part of ``flux`` (the rest is the local SNR), ``background_dipole``
    (n, 3) the background's own all-particle dipole and ``background_Rcut_GV`` the cutoff
    rigidity it was solved with (Table 1: 200 TV).
    """

    E_GeV: np.ndarray
    flux: dict
    dipole: dict
    diffusion: Diffusion = Diffusion()
    halo_kpc: float | None = None
    background: dict | None = None
    background_dipole: np.ndarray | None = None
    background_Rcut_GV: float | None = None

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
        self._check_background()

    def _check_background(self):
        given = [x is not None for x in (self.background, self.background_dipole, self.background_Rcut_GV)]
        if not any(given):
            return
        if not all(given):
            raise DataError("FixedComponents: background, background_dipole and background_Rcut_GV come together")
        bg = {}
        for el, J in self.background.items():
            J = np.asarray(J, dtype=float)
            if el not in self.flux:
                raise DataError(f"FixedComponents.background has element {el!r} without a flux")
            if J.shape != self.E_GeV.shape or np.any(~np.isfinite(J) | (J < 0) | (J > self.flux[el] * (1 + 1e-9))):
                raise DataError(
                    f"FixedComponents.background[{el!r}] must be {self.E_GeV.shape} finite values in [0, flux]"
                )
            bg[el] = J
        d = np.asarray(self.background_dipole, dtype=float)
        if d.shape != (self.E_GeV.size, 3) or not np.all(np.isfinite(d)):
            raise DataError(f"FixedComponents.background_dipole must be {(self.E_GeV.size, 3)} finite values")
        rc = float(self.background_Rcut_GV)
        if not (np.isfinite(rc) and rc > 0):
            raise DataError(f"FixedComponents.background_Rcut_GV must be finite and > 0; got {rc!r}")
        object.__setattr__(self, "background", bg)
        object.__setattr__(self, "background_dipole", d)
        object.__setattr__(self, "background_Rcut_GV", rc)

    @classmethod
    def from_quantities(
        cls, E: u.Quantity, flux: dict, dipole: dict | None = None, diffusion: Diffusion = _DEFAULT_DIFFUSION
    ) -> FixedComponents:
        """Build from Quantities: E (total energy per particle), fluxes per element (any
        unit convertible to m^-2 s^-1 sr^-1 GeV^-1), dimensionless dipoles (n, 3)."""
        return cls(
            E.to_value(u.GeV),
            {k: v.to_value(FLUX_UNIT) for k, v in flux.items()},
            {k: u.Quantity(v).to_value(u.dimensionless_unscaled) for k, v in (dipole or {}).items()},
            diffusion,
        )

    @staticmethod
    def elements(species: str):
        """Element symbols of ``species`` (element, nuclide name or "light"); None for "all"."""
        if species in AGGREGATES:
            return AGGREGATES[species]
        return (species,) if species in ELEMENT_SYMBOLS else (nuclide(species).element,)

    def _check_range(self, E, what):
        E = np.asarray(E, dtype=float)
        if E.size and (np.nanmin(E) < self.E_GeV[0] * (1 - 1e-12) or np.nanmax(E) > self.E_GeV[-1] * (1 + 1e-12)):
            raise ConfigError(
                f"{what}: needs E = {np.nanmin(E):.3g}-{np.nanmax(E):.3g} GeV, but the fixed "
                f"components cover {self.E_GeV[0]:.3g}-{self.E_GeV[-1]:.3g} GeV"
            )
        return E

    def flux_at(self, element: str, E_GeV, what="fixed components") -> np.ndarray:
        """Fixed flux of one element at E (log-log interpolation) [m^-2 s^-1 sr^-1 GeV^-1]."""
        E = self._check_range(E_GeV, what)
        if element not in self.flux:
            return np.zeros_like(E)
        logJ = np.log(np.maximum(self.flux[element], _TINY_FLUX))
        return np.exp(np.interp(np.log(E), np.log(self.E_GeV), logJ))

    def total_at(self, key: str, E_GeV, what="fixed components") -> np.ndarray:
        """Fixed flux of ``key`` at E of any shape (log-log interpolation of the tabulated
        sum): an element, "light" (H + He), "all", or :data:`LNA_NUM` (sum_i J_i ln A_i)."""
        E = self._check_range(E_GeV, what)
        table = self._aggregates().get(key)
        if table is None:
            return np.zeros_like(E)
        return np.exp(np.interp(np.log(E), np.log(self.E_GeV), table))

    def _aggregates(self) -> dict:
        """log of the tabulated fixed flux per element and aggregate key (cached)."""
        cache = self.__dict__.get("_aggregate_cache")
        if cache is None:
            tab = dict(self.flux)
            tab["all"] = sum(self.flux.values())
            tab["light"] = sum(self.flux.get(el, 0.0) for el in AGGREGATES["light"]) + np.zeros(self.E_GeV.size)
            tab[LNA_NUM] = sum(J * np.log(comp.mass_number(el)) for el, J in self.flux.items())
            cache = {k: np.log(np.maximum(v, _TINY_FLUX)) for k, v in tab.items()}
            object.__setattr__(self, "_aggregate_cache", cache)
        return cache

    def rescaled_background(self, element: str, E_GeV, Rcut_GV) -> np.ndarray:
        """The background flux of ``element`` at E (..., m) with its cutoff moved from
        ``background_Rcut_GV`` to ``Rcut_GV`` (..., 1): J_bg exp(R/R_c0 - R/R_c'), computed in
        the log (no overflow); zero where the tabulated background is zero (above its grid)."""
        E = self._check_range(E_GeV, "background")
        J = self.background.get(element) if self.background else None
        if J is None:
            return np.zeros(np.broadcast_shapes(E.shape, np.shape(Rcut_GV)))
        grid = np.log(self.E_GeV)
        lnJ = np.interp(np.log(E), grid, np.log(np.maximum(J, _TINY_FLUX)))
        on = np.interp(np.log(E), grid, (J > 0).astype(float)) >= 1.0
        R = comp.rigidity_GV(element, E)
        arg = lnJ + R * (1.0 / self.background_Rcut_GV - 1.0 / np.asarray(Rcut_GV, dtype=float))
        return np.where(on, np.exp(np.minimum(arg, 700.0)), 0.0)

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
            for k in DIFFUSION_FIELDS:  # every field, the high-rigidity break included
                f.attrs[f"diffusion_{k}"] = getattr(self.diffusion, k)
            f.attrs["halo_kpc"] = np.nan if self.halo_kpc is None else float(self.halo_kpc)
            for el in self.flux:
                g = f.create_group(el)
                g.create_dataset("flux", data=self.flux[el]).attrs["unit"] = str(FLUX_UNIT)
                g.create_dataset("dipole", data=self.dipole[el]).attrs["frame"] = "heliocentric Galactic Cartesian"
            if self.background is not None:
                g = f.create_group("_background")
                g.attrs["Rcut_GV"] = self.background_Rcut_GV
                g.create_dataset("dipole", data=self.background_dipole).attrs["frame"] = (
                    "heliocentric Galactic Cartesian"
                )
                for el, J in self.background.items():
                    g.create_dataset(el, data=J).attrs["unit"] = str(FLUX_UNIT)

    @classmethod
    def load(cls, path) -> FixedComponents:
        try:
            with h5py.File(path, "r") as f:
                els = [k for k in f if k not in ("E_GeV", "_background")]
                # a file written before the break was saved has none: Delta_delta = 0 then
                diff = Diffusion(
                    **{k: float(f.attrs[f"diffusion_{k}"]) for k in DIFFUSION_FIELDS if f"diffusion_{k}" in f.attrs}
                )
                H = float(f.attrs.get("halo_kpc", np.nan))
                bg = {}
                if "_background" in f:
                    g = f["_background"]
                    bg = dict(
                        background={k: g[k][()] for k in g if k != "dipole"},
                        background_dipole=g["dipole"][()],
                        background_Rcut_GV=float(g.attrs["Rcut_GV"]),
                    )
                return cls(
                    f["E_GeV"][()],
                    {k: f[k]["flux"][()] for k in els},
                    {k: f[k]["dipole"][()] for k in els},
                    diff,
                    None if np.isnan(H) else H,
                    **bg,
                )
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


def model_parameters(
    source: bool = True, normalisation: str = "log10_E_erg", groups=None, experiments=(), injection: str = "burst"
) -> dict:
    """The parameters (name -> unit, in the order of a parameter row) of a
    :class:`KneeSourceModel`: the source's (:data:`SOURCE_PARAMETERS`, with continuous
    injection :data:`ACTIVE_FRACTION`, its normalisation, the abundances ``log10_f<group>`` of
    the groups other than H) or, without a source, the background's cutoff
    :data:`BACKGROUND_CUTOFF`; then ``escale_<experiment>``."""
    params = {}
    if source:
        params.update(SOURCE_PARAMETERS)
        if injection == "continuous":
            params[ACTIVE_FRACTION] = ""
        params[normalisation] = NORMALISATIONS[normalisation]
        params.update({comp.abundance_parameter(g): "dex" for g in (groups or ()) if g != "H"})
    else:
        params[BACKGROUND_CUTOFF] = "PV"
    params.update({ESCALE_PREFIX + exp: "" for exp in experiments})
    return params


@dataclass(frozen=True)
class WPrior:
    """A prior on the injected energy W (``[fit.W_prior]``), in log10 W [erg]:
    ``"none"``; ``"log-uniform"``: flat in log W on [log10_min, log10_max] (zero outside);
    ``"log-normal"``: Gaussian in log10 W (mu, sigma).  As W is proportional to the
    normalisation at fixed (d, t, R_cut, beta, abundances), the Jacobian from
    (log10 J1PeV, ...) to (log10 W, ...) is 1 and the density multiplies the declared priors."""

    kind: str = "none"
    log10_min: float = float(np.log10(comp.W_RANGE_ERG[0]))
    log10_max: float = float(np.log10(comp.W_RANGE_ERG[1]))
    mu: float = float(np.log10(np.sqrt(comp.W_RANGE_ERG[0] * comp.W_RANGE_ERG[1])))
    sigma: float = 1.0

    def log_density(self, W_erg) -> np.ndarray:
        """log prior density (up to a constant) of W [erg] (n,); -inf outside a log-uniform range."""
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log10(np.asarray(W_erg, dtype=float))
        if self.kind == "log-uniform":
            return np.where((x >= self.log10_min) & (x <= self.log10_max), 0.0, -np.inf)
        if self.kind == "log-normal":
            return -0.5 * ((x - self.mu) / self.sigma) ** 2
        return np.zeros(np.shape(x))


class KneeSourceModel:
    """Knee source (:class:`crknee.sources.model.KneeModel`) + fixed components.

    ``composition``: a :class:`crknee.sources.injection.Composition` (abundances at equal
    rigidity) used when ``groups`` is None (one fixed composition, the paper's protons);
    ``groups``: names of :data:`crknee.fit.composition.GROUPS` ("H" required) whose
    abundances are the parameters ``log10_f<group>`` (H is the reference, f = 1).
    ``field``: a :class:`crknee.anisotropy.field.FieldAlignment` projecting the total dipole
    on the local magnetic field (None: isotropic diffusion, the paper's mode).  ``halo``: the
    knee source diffuses in the background's halo (``fixed.halo_kpc``); False is the paper's
    free-space eq. 6.  ``normalisation``: "log10_E_erg" (paper) or "log10_J1PeV".
    ``energy_scales``: experiment -> (s_min, s_max, dataset names) (parameter
    ``escale_<experiment>``, its prior bounds).  ``source=False``: no knee source, the
    background's cutoff ``Rcut_bg_PV`` free (needs ``fixed.background``).  ``W_prior``: a
    :class:`WPrior` added to the log-posterior (:meth:`log_model_prior`).  ``injection``:
    "burst" (eq. 5-6) or "continuous" (parameter :data:`ACTIVE_FRACTION`; :data:`INJECTIONS`).

    ``parameters``: name -> unit in the order of a parameter row.
    """

    parameters = PARAMETERS

    def __init__(
        self,
        fixed: FixedComponents,
        composition: injection.Composition = injection.PROTONS,
        field: FieldAlignment | None = None,
        halo: bool = False,
        *,
        groups=None,
        normalisation: str = "log10_E_erg",
        energy_scales: dict | None = None,
        source: bool = True,
        W_prior: WPrior | None = None,
        injection: str = "burst",
    ):
        if injection not in INJECTIONS:
            raise ConfigError(f"injection must be one of {INJECTIONS}; got {injection!r}")
        self.injection = injection
        if halo and fixed.halo_kpc is None:
            raise ConfigError("the knee source in the halo needs the fixed components' halo_kpc (the background's H)")
        if normalisation not in NORMALISATIONS:
            raise ConfigError(f"normalisation must be one of {list(NORMALISATIONS)}; got {normalisation!r}")
        if not source and fixed.background is None:
            raise ConfigError(
                "the no-source model needs the background part of the fixed components "
                "(FixedComponents.background, written by crknee reproduce)"
            )
        self.fixed, self.field, self.halo = fixed, field, halo
        self.halo_kpc = fixed.halo_kpc if halo else None
        self.diffusion = fixed.diffusion
        self.composition = composition
        self.normalisation = normalisation
        self.source_on = source
        self.W_prior = W_prior if W_prior is not None and W_prior.kind != "none" else None
        self.group_names = None if groups is None else tuple(groups)
        if groups is None:
            self.groups = {"source": composition}
        else:
            unknown = [g for g in groups if g not in comp.GROUPS]
            if unknown or "H" not in groups:
                raise ConfigError(
                    f"composition groups must include 'H' and come from {list(comp.GROUPS)}; got {list(groups)}"
                )
            self.groups = {g: comp.group_composition(g) for g in groups}
        self.elements = tuple(dict.fromkeys(nuclide(n).element for c in self.groups.values() for n in c.species))
        if source and normalisation == "log10_J1PeV" and "H" not in self.elements:
            raise ConfigError("log10_J1PeV normalises the source's proton flux: its composition needs H1")
        self.energy_scales = dict(energy_scales or {})
        for exp, (lo, hi, _) in self.energy_scales.items():
            if not -1.0 < lo < hi:
                raise ConfigError(f"energy scale of {exp!r}: need -1 < s_min < s_max; got [{lo}, {hi}]")
        self.parameters = model_parameters(source, normalisation, groups, list(self.energy_scales), injection)
        self.col = {name: i for i, name in enumerate(self.parameters)}
        self._scale_of = {
            name: ESCALE_PREFIX + exp for exp, (_, _, names) in self.energy_scales.items() for name in names
        }

    def with_field(self, field: FieldAlignment | None) -> KneeSourceModel:
        """The same model with another field alignment (None: isotropic diffusion)."""
        return KneeSourceModel(
            self.fixed,
            self.composition,
            field,
            self.halo,
            groups=self.group_names,
            normalisation=self.normalisation,
            energy_scales=self.energy_scales,
            source=self.source_on,
            W_prior=self.W_prior,
            injection=self.injection,
        )

    # -- the knee source ------------------------------------------------------------------
    def knees(self, E_flux, E_aniso) -> dict:
        """The source's :class:`KneeModel` on energies ``E_flux`` (fluxes of its elements)
        and ``E_aniso`` (all-particle flux and dipole): with groups, one model of all their
        nuclides at GALPROP's abundances whose per-set ``weights`` scale each group (K1's
        group API); {"source": model}."""
        if self.group_names is None:
            return {
                "source": KneeModel(
                    E_flux,
                    E_aniso,
                    self.elements,
                    composition=self.composition,
                    diffusion=self.diffusion,
                    halo_kpc=self.halo_kpc,
                    injection=self.injection,
                )
            }
        return {
            "source": KneeModel(
                E_flux,
                E_aniso,
                self.elements,
                composition=self._reference,
                diffusion=self.diffusion,
                halo_kpc=self.halo_kpc,
                groups={g: comp.GROUPS[g] for g in self.group_names},
                injection=self.injection,
            )
        }

    @property
    def _reference(self) -> injection.Composition:
        """The groups' nuclides at GALPROP's source abundances (weights 1)."""
        ref = injection.galprop_composition()
        return injection.Composition.from_mapping(
            {n: ref.fraction(n) for g in self.group_names for n in comp.GROUPS[g]}
        )

    def _abundances(self, v) -> dict:
        n = v.shape[0]
        if self.group_names is None:
            return {"source": np.ones(n)}
        return {g: np.ones(n) if g == "H" else 10.0 ** v[:, self.col[comp.abundance_parameter(g)]] for g in self.groups}

    def run_source(self, knees: dict, values, i_norm: int | None = None):
        """Evaluate the source at parameter rows ``values`` (n, n_par): (results {"source":
        KneeResult} at the reference q0 with the groups' abundances applied, weight (n,) =
        q0 / q0_ref per result, W [erg] (n,)).

        The source is run at the q0 with which protons alone would carry ``W_REF_ERG``
        (with groups: KneeModel's q0 is set by E_erg at GALPROP's abundances, the weights
        f_g / f_g,GALPROP scale the groups); ``i_norm``: index of :data:`E_NORM_GEV` in the
        flux energies (log10_J1PeV)."""
        v = np.atleast_2d(values)
        c = self.col
        l, b, d, t = (v[:, c[k]] for k in ("l_deg", "b_deg", "d_kpc", "age_Myr"))
        rc, beta = v[:, c["Rcut_PV"]] * GV_PER_PV, v[:, c["beta"]]
        integral = {g: energy_integral_fast(beta, rc, cg) for g, cg in self.groups.items()}
        ref = integral["H" if "H" in integral else "source"]
        f = self._abundances(v)
        knee = knees["source"]
        timing = {"duration_Myr": v[:, c[ACTIVE_FRACTION]] * t} if self.injection == "continuous" else {}
        if self.group_names is None:
            res = knee(l, b, d, t, rc, beta, W_REF_ERG * integral["source"] / ref, **timing)
        else:
            f_ref = {g: 10.0 ** comp.reference_log10_abundance(g) for g in self.group_names}
            weights = np.stack([f[g] / f_ref[g] for g in self.group_names], axis=1)
            E_call = W_REF_ERG * sum(f_ref[g] * integral[g] for g in self.group_names) / ref
            res = knee(l, b, d, t, rc, beta, E_call, weights=weights, **timing)
        energy_per_ref = W_REF_ERG * sum(f[g] * integral[g] for g in self.groups) / ref  # [erg] at q0_ref
        norm = v[:, c[self.normalisation]]
        if self.normalisation == "log10_E_erg":
            scale = 10.0**norm / energy_per_ref
        else:
            J_ref = res.flux["H"][:, i_norm] if "H" in res.flux else np.zeros(v.shape[0])
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(J_ref > 0, 10.0**norm / J_ref, np.nan)
        return {"source": res}, {"source": scale}, scale * energy_per_ref

    def derived(self, values) -> dict:
        """Derived quantities per parameter row (n,): ``W_erg`` (energy injected above 1 GeV
        [erg]) and ``J1PeV`` (the source's proton flux at Earth at 1 PeV
        [m^-2 s^-1 sr^-1 GeV^-1]); empty for the no-source model."""
        if not self.source_on:
            return {}
        v = np.atleast_2d(np.asarray(values, dtype=float))
        E = np.array([E_NORM_GEV])
        res, w, W = self.run_source(self.knees(E, E), v, 0)
        J = sum(w[g] * r.flux["H"][:, 0] for g, r in res.items() if "H" in r.flux)
        return {"W_erg": W, "J1PeV": J + np.zeros(v.shape[0])}

    def composition_at(self, values) -> injection.Composition:
        """The source's injected composition (abundances at equal rigidity relative to H1)
        at one parameter row ``values`` (n_par,): the fixed ``composition`` without groups."""
        if self.group_names is None:
            return self.composition
        f = self._abundances(np.atleast_2d(np.asarray(values, dtype=float)))
        return injection.Composition.from_mapping(
            {n: float(f[g][0]) * x for g, c in self.groups.items() for n, x in c.abundances}
        )

    def log_model_prior(self, W_erg) -> np.ndarray:
        """The W prior's log density per set (0 without one)."""
        return np.zeros(np.shape(W_erg)) if self.W_prior is None else self.W_prior.log_density(W_erg)

    @staticmethod
    def source_fluxes(res: dict, weights: dict, elements) -> dict:
        """Source flux per element (n, m) from the groups' results and weights."""
        out = {}
        for g, r in res.items():
            for el, J in r.flux.items():
                term = weights[g][:, None] * J
                out[el] = out[el] + term if el in out else term
        return {el: out[el] for el in elements if el in out}

    # -- fixed components --------------------------------------------------------------------
    def fixed_table(self, E_GeV, snr_only: bool = False) -> Tabulated:
        """The fixed components summed on energies ``E_GeV`` (or the local SNR alone:
        ``snr_only``): all-particle flux and its own dipole
        (:class:`crknee.anisotropy.predict.Tabulated`, for :func:`predict_dipole`)."""
        J = sum(self.fixed.flux_at(el, E_GeV) for el in self.fixed.flux)
        Jd = sum(self.fixed.dipole_flux_at(el, E_GeV) for el in self.fixed.flux)
        if snr_only:
            J_bg = self._background_all(E_GeV, None)
            Jd = Jd - J_bg[:, None] * self._background_dipole(E_GeV)
            J = np.maximum(J - J_bg, 0.0)
        own = Jd / np.where(J > 0, J, 1.0)[:, None]
        return Tabulated(J, own, "local SNR" if snr_only else "fixed components")

    def _background_all(self, E, Rcut_GV):
        """All-particle background at E (..., m), with its cutoff at ``Rcut_GV`` (None: as solved)."""
        rc = self.fixed.background_Rcut_GV if Rcut_GV is None else Rcut_GV
        return sum(self.fixed.rescaled_background(el, E, rc) for el in self.fixed.background)

    def _background_dipole(self, E):
        grid = np.log(self.fixed.E_GeV)
        return np.stack([np.interp(np.log(E), grid, self.fixed.background_dipole[:, k]) for k in range(3)], axis=-1)

    def fixed_values(self, key: str, E, Rcut_bg_GV=None) -> np.ndarray:
        """Fixed flux of ``key`` (element, "light", "all", :data:`LNA_NUM`) at E (any shape);
        with ``Rcut_bg_GV`` (n, 1) the background's cutoff moved there (no-source model)."""
        if Rcut_bg_GV is None:
            return self.fixed.total_at(key, E)
        els = _members(key, self.fixed.flux)
        out = 0.0
        for el in els:
            J = self.fixed.flux_at(el, E)
            if el in self.fixed.background:
                J = (
                    J
                    - self.fixed.rescaled_background(el, E, self.fixed.background_Rcut_GV)
                    + self.fixed.rescaled_background(el, E, Rcut_bg_GV)
                )
            out = out + (np.log(comp.mass_number(el)) * J if key == LNA_NUM else J)
        return out + np.zeros(np.broadcast_shapes(np.shape(E), np.shape(Rcut_bg_GV)))

    def dipole(self, E_GeV, fixed: Tabulated, results) -> tuple[np.ndarray, DipolePrediction]:
        """The observed dipole of the fixed components + parametrised components (KneeResults
        on ``E_GeV``), projected on the field if any: (J x dipole (n, m, 3), NaN where the
        diffusive solution does not hold; the prediction)."""
        pred = predict_dipole(E_GeV, [fixed, *results], field=self.field)
        return np.where(pred.valid[..., None], pred.flux_all[..., None] * pred.vector, np.nan), pred

    def _dipole_components(self, values, E_aniso, fixed_tab, snr_tab, res, weights):
        """Parametrised dipole components: the weighted groups, or (no source) the rescaled
        background; and the fixed table to combine them with."""
        if self.source_on:
            return fixed_tab, [
                KneeResult({}, weights[g][:, None] * r.flux_all, r.dipole, r.valid, r.direction) for g, r in res.items()
            ]
        rc = values[:, self.col[BACKGROUND_CUTOFF], None] * GV_PER_PV
        J = self._background_all(E_aniso, rc)
        n = values.shape[0]
        d = np.broadcast_to(self._background_dipole(E_aniso), (n, E_aniso.size, 3))
        return snr_tab, [KneeResult({}, J, d, np.ones(J.shape, bool))]

    # -- predictions ---------------------------------------------------------------------------
    def evaluate(self, values, E_GeV) -> dict:
        """All predictions at true energies ``E_GeV`` (m,) for parameter rows ``values``
        (n, n_par), without energy-scale shifts.

        Returns a dict of (n, m) arrays [m^-2 s^-1 sr^-1 GeV^-1 for fluxes]:
        ``source:<key>``, ``fixed:<key>``, ``total:<key>`` for every element of the fixed
        components and the source and for "light" and "all"; ``lnA`` (<ln A> of the total);
        the observed total dipole ``dipole`` (n, m, 3) (``dipole_flux`` = J x dipole), its
        equatorial ``amplitude`` d_perp and RA ``phase`` [deg]; NaN where the diffusive
        solution does not hold.
        """
        values = np.atleast_2d(np.asarray(values, dtype=float))
        E = self.fixed._check_range(E_GeV, "evaluate")
        n = values.shape[0]
        elements = list(dict.fromkeys(list(self.fixed.flux) + list(self.elements)))
        rc_bg = None if self.source_on else values[:, self.col[BACKGROUND_CUTOFF], None] * GV_PER_PV
        res = weights = None
        src = {}
        if self.source_on:
            E_flux = np.append(E, E_NORM_GEV)
            res, weights, _ = self.run_source(self.knees(E_flux, E), values, E.size)
            src = {el: J[:, :-1] for el, J in self.source_fluxes(res, weights, self.elements).items()}
        out = {}
        zero = np.zeros((n, E.size))
        for key in elements + ["light", "all", LNA_NUM]:
            fx = np.broadcast_to(self.fixed_values(key, E, rc_bg), (n, E.size))
            s = _source_total(key, src, zero)
            out[f"source:{key}"], out[f"fixed:{key}"], out[f"total:{key}"] = s, fx, s + fx
        with np.errstate(divide="ignore", invalid="ignore"):
            out["lnA"] = out.pop(f"total:{LNA_NUM}") / out["total:all"]
        del out[f"source:{LNA_NUM}"], out[f"fixed:{LNA_NUM}"]
        tab, comps = self._dipole_components(
            values, E, self.fixed_table(E), None if self.source_on else self.fixed_table(E, snr_only=True), res, weights
        )
        out["dipole_flux"], pred = self.dipole(E, tab, comps)
        out["dipole"] = np.where(pred.valid[..., None], pred.vector, np.nan)
        out["amplitude"] = np.where(pred.valid, pred.d_perp, np.nan)
        out["phase"] = np.where(pred.valid, pred.phase_deg, np.nan)
        return out

    def key_of(self, piece) -> str:
        """What a flux-like piece compares with: an element, "light", "all" or :data:`LNA_NUM`."""
        if piece.observable == "lnA":
            return LNA_NUM
        if piece.species in AGGREGATES:
            return piece.species
        return self.fixed.elements(piece.species)[0]

    def scale_parameter(self, piece) -> str | None:
        """The energy-scale parameter of ``piece``'s dataset (None: no energy-scale nuisance)."""
        return self._scale_of.get(piece.name)

    def scale_bounds(self, name: str) -> tuple[float, float]:
        lo, hi, _ = self.energy_scales[name[len(ESCALE_PREFIX) :]]
        return lo, hi

    def bind(self, pieces):
        """Return ``predict(values) -> [per piece: fluxes or <ln A> (n, n_points) or dipole
        vectors (n, n_points, 3)]`` (:class:`_Predictor`)."""
        return _Predictor(self, pieces)


def _members(key: str, available) -> list:
    if key in ("all", LNA_NUM):
        return list(available)
    if key == "light":
        return [el for el in AGGREGATES["light"] if el in available]
    return [key] if key in available else []


def _source_total(key: str, src: dict, zero):
    """Source flux of ``key`` from the per-element source fluxes (``zero`` if none)."""
    out = zero
    for el in _members(key, src):
        out = out + (np.log(comp.mass_number(el)) * src[el] if key == LNA_NUM else src[el])
    return out


def _interp_rows(lnJ, ln_grid0, dln, lnE):
    """Per-set log-log interpolation on a uniform ln E grid: ``lnJ`` (n, G) at ``lnE``
    (n, k) -> J (n, k)."""
    G = lnJ.shape[1]
    x = (lnE - ln_grid0) / dln
    i = np.clip(np.floor(x).astype(int), 0, G - 2)
    f = x - i
    lo = np.take_along_axis(lnJ, i, axis=1)
    hi = np.take_along_axis(lnJ, i + 1, axis=1)
    return np.exp(lo + f * (hi - lo))


class _Predictor:
    """Picklable prediction closure produced by :meth:`KneeSourceModel.bind`: per piece its
    evaluation energies (nodes), its key, and its energy-scale parameter; the source is
    evaluated once per call on [direct nodes, fine grid, E_NORM] and the anisotropy nodes."""

    def __init__(self, model, pieces):
        self.model = model
        fx = model.fixed
        self.layout = []
        E_dir, E_an, scaled = [], [], []
        for piece in pieces:
            E, rows = _nodes(piece)
            if piece.observable in ("flux", "lnA"):
                sname = model.scale_parameter(piece)
                if sname is None:
                    fx._check_range(E, f"dataset {piece.name!r}")
                    self.layout.append(("flux", piece.observable, model.key_of(piece), None, len(E_dir), E, rows))
                    E_dir.extend(E)
                else:
                    lo, hi = model.scale_bounds(sname)
                    span = np.concatenate([E / (1.0 + hi), E / (1.0 + lo)])
                    fx._check_range(span, f"dataset {piece.name!r} shifted by its energy scale [{lo}, {hi}]")
                    scaled.extend(span)
                    self.layout.append(("flux", piece.observable, model.key_of(piece), model.col[sname], None, E, rows))
            else:
                fx._check_range(E, f"dataset {piece.name!r}")
                self.layout.append(("dipole", piece.observable, None, None, len(E_an), E, rows))
                E_an.extend(E)
        self.E_dir, self.E_an = np.array(E_dir), np.array(E_an)
        if scaled:
            a, b = np.log10(min(scaled)), np.log10(max(scaled))
            G = max(int(np.ceil((b - a) * FINE_PER_DECADE)) + 1, 2)
            self.E_fine = np.logspace(a, b, G)
            self.fine0, self.dln = np.log(self.E_fine[0]), np.log(self.E_fine[1] / self.E_fine[0])
        else:
            self.E_fine = np.zeros(0)
        self.E_flux = np.concatenate([self.E_dir, self.E_fine, [E_NORM_GEV]])
        self.i_norm = self.E_flux.size - 1
        self.anisotropy = self.E_an.size > 0
        E_an_knee = self.E_an if self.anisotropy else np.array([E_NORM_GEV])
        self.knees = model.knees(self.E_flux, E_an_knee) if model.source_on else None
        self.keys = {k for kind, _, k, *_ in self.layout if kind == "flux"}
        if LNA_NUM in self.keys:
            self.keys.add("all")
        # fixed parts that do not depend on the parameters
        self.fixed_dir = {} if not model.source_on else {k: model.fixed_values(k, self.E_dir) for k in self.keys}
        if self.anisotropy:
            self.fixed_tab = model.fixed_table(self.E_an)
            self.snr_tab = None if model.source_on else model.fixed_table(self.E_an, snr_only=True)

    def __call__(self, values):
        return self.predict(values)[0]

    def predict(self, values):
        """(predictions per piece, W [erg] (n,) or None)."""
        model = self.model
        values = np.atleast_2d(values)
        n = values.shape[0]
        if not self.layout:
            return [], None
        res = weights = W = None
        src_dir, src_fine = {}, {}
        rc_bg = None
        if model.source_on:
            res, weights, W = model.run_source(self.knees, values, self.i_norm)
            src = model.source_fluxes(res, weights, model.elements)
            zero = np.zeros((n, self.E_flux.size))
            nd, nf = self.E_dir.size, self.E_fine.size
            for k in self.keys:
                J = _source_total(k, src, zero)
                src_dir[k] = J[:, :nd]
                if nf:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        src_fine[k] = np.log(np.maximum(J[:, nd : nd + nf], 1e-300))
        else:
            rc_bg = values[:, model.col[BACKGROUND_CUTOFF], None] * GV_PER_PV
        if self.anisotropy:
            tab, comps = model._dipole_components(values, self.E_an, self.fixed_tab, self.snr_tab, res, weights)
            Jd, pred = model.dipole(self.E_an, tab, comps)
        preds = []
        for kind, obs, key, scol, start, E, rows in self.layout:
            if kind == "dipole":  # the flux-weighted mean observed dipole over each row's bin
                sl = slice(start, start + E.size)
                vec, J_tot = Jd[:, sl], pred.flux_all[:, sl]
                preds.append(
                    np.stack(
                        [np.einsum("nkc,k->nc", vec[:, a:b], w) / (J_tot[:, a:b] @ w)[:, None] for a, b, w in rows],
                        axis=1,
                    )
                )
                continue
            parts = [LNA_NUM, "all"] if obs == "lnA" else [key]
            J = [self._total(k, E, scol, start, values, src_dir, src_fine, rc_bg) for k in parts]
            if obs == "lnA":
                preds.append(np.stack([(J[0][:, a:b] @ w) / (J[1][:, a:b] @ w) for a, b, w in rows], axis=1))
            else:
                pts = J[0] if scol is None else J[0] / (1.0 + values[:, scol, None])
                preds.append(np.stack([pts[:, a:b] @ w / np.sum(w) for a, b, w in rows], axis=1))
        return preds, W

    def _total(self, key, E, scol, start, values, src_dir, src_fine, rc_bg):
        """Fixed + source of ``key`` at the piece's nodes E, at E / (1 + s) when scaled: (n, k)."""
        n = values.shape[0]
        if scol is None:
            sl = slice(start, start + E.size)
            fixed = self.model.fixed_values(key, E, rc_bg) if rc_bg is not None else self.fixed_dir[key][sl]
            total = np.broadcast_to(fixed, (n, E.size))
            return total + src_dir[key][:, sl] if key in src_dir else total.copy()
        E_true = E[None, :] / (1.0 + values[:, scol, None])
        total = self.model.fixed_values(key, E_true, rc_bg)
        if key in src_fine:
            total = total + _interp_rows(src_fine[key], self.fine0, self.dln, np.log(E_true))
        return total


#: Percentiles of :func:`posterior_bands`: the 95 % and 68 % central intervals and the median.
BAND_PERCENTILES = (2.5, 16.0, 50.0, 84.0, 97.5)


def posterior_bands(
    model: KneeSourceModel, parameters, samples, E_GeV, keys, n_draws: int = 200, seed: int = 0
) -> dict:
    """Posterior bands of :meth:`KneeSourceModel.evaluate` quantities ``keys`` (e.g.
    "total:He", "source:all", "lnA") at true energies ``E_GeV`` (m,), over ``n_draws``
    posterior ``samples`` (free parameters) drawn with ``numpy.random.default_rng(seed)``:
    key -> (5, m) array at :data:`BAND_PERCENTILES`."""
    samples = np.atleast_2d(np.asarray(samples, dtype=float))
    rng = np.random.default_rng(seed)
    idx = rng.choice(samples.shape[0], size=min(n_draws, samples.shape[0]), replace=False)
    ev = model.evaluate(parameters.full(samples[idx]), E_GeV)
    return {k: np.nanpercentile(ev[k], BAND_PERCENTILES, axis=0) for k in keys}


def data_on_true_scale(model: KneeSourceModel, piece, values) -> tuple:
    """A flux or <ln A> piece's rows moved to the true energy scale of the parameter row
    ``values`` (n_par,): (E_true, y, err_lo, err_hi) with E_true = E_obs / (1 + s) and, for
    a flux, J(E_true) = (1 + s) J_obs (the inverse of the shift the fit applies); unchanged
    without an energy-scale nuisance.  Bin/threshold rows are placed at their bin's
    geometric centre."""
    E = np.where(np.isfinite(piece.E_GeV), piece.E_GeV, np.sqrt(piece.E_lo_GeV * piece.E_hi_GeV))
    name = model.scale_parameter(piece)
    s = 0.0 if name is None else float(np.asarray(values, dtype=float)[model.col[name]])
    factor = 1.0 + s if piece.observable == "flux" else 1.0
    return E / (1.0 + s), piece.y * factor, piece.err_lo * factor, piece.err_hi * factor
