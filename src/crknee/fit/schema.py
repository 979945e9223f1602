"""The ``[fit]`` configuration section: schema, validation and the fit problem it declares.

The section is a plain dict (parsed TOML).  :data:`EXAMPLE_TOML` is the reference
example (also in docs/fit.md); :func:`problem_from_config` validates a section and
builds the parameters, the likelihood pieces (from crknee.data), the model and the
sampler settings.  Every error is a :class:`crknee.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from crknee.errors import ConfigError, CrkneeError
from crknee.fit.likelihood import OBSERVABLES, HarmonicPiece, Piece
from crknee.fit.model import AGGREGATES, KneeSourceModel
from crknee.fit.parameters import ParameterSet
from crknee.fit.pools import check_pool_settings
from crknee.fit.sampler import MOVES, SamplerSettings

EXAMPLE_TOML = """\
[fit]
# the knee source's groups (crknee.fit.composition: H, He, CNO, NeSi, Fe at one R_cut) and
# their abundances ("prior" | "free" | "fixed"); the paper fits protons, so protons only.
# (source_composition = { H1 = 1.0, He4 = ... } instead gives a fixed isotopic composition.)
composition = { groups = ["H"] }
# the source's normalisation: "log10_J1PeV" (its proton flux at Earth at 1 PeV, crknee's
# default) or "log10_E_erg" (the injected energy, the paper's); the other's table is ignored
normalisation = "log10_E_erg"
# a parameter whose 68 % posterior interval is wider than this fraction of its prior's
# 68 % interval is flagged "prior-dominated"
prior_dominated_ratio = 0.7

# where the knee source diffuses: "halo" (the background's halo, free escape at |z| = H;
# default) or "free" (free space, the paper's eq. 6)
knee_propagation = "halo"
# how it injects: "burst" (eq. 5-6) or "continuous" (a constant rate over the last
# active_fraction x age_Myr; parameter active_fraction, default flat on (0.01, 1])
injection = "burst"

# the local magnetic field: true projects the dipole on it (crknee.anisotropy.field;
# default direction the IBEX ribbon centre); false is isotropic diffusion (the paper's)
[fit.dipole]
field_aligned = false
D_perp_over_D_par = 0.0

# one table per dataset; observables default to "flux" for spectra and to the measured
# first harmonic ["harmonic"] for anisotropy tables; species defaults from the quantity;
# a glob name ("anisotropy/CRDB_*") adds every matching dataset
[[fit.datasets]]
name = "proton/LHAASO_2025_2505.14447_EPOSLHC"   # LHAASO 2025, arXiv:2505.14447
window_GeV = [1.0e5, 1.0e8]
errors = "total"            # stat (+) sys in quadrature; "stat" for statistical only
role = "fit"                # "check": drawn and reported, not in the likelihood

[[fit.datasets]]
name = "anisotropy/KASCADE-Grande_2019"
window_GeV = [1.0e6, 2.0e9]  # paper Sec. 3: above the background cut-off, below the 2 EeV phase flip
likelihood = "harmonic"      # amplitude + phase as one 2D harmonic vector (Rice); "gaussian": the paper's split normals
convention = "published"     # compare with what the experiment published (r1, d_perp, ...); "d_perp": as the paper

[[fit.datasets]]
name = "helium/LHAASO_2025_2511.05013_EPOSLHC"
window_GeV = [1.0e5, 1.0e8]
role = "check"

[fit.parameters.l_deg]       # Galactic longitude
value = 0.0
min = -180.0
max = 180.0
prior = "uniform"
[fit.parameters.b_deg]       # Galactic latitude (|b| < 5 deg, paper Sec. 3)
value = 0.0
min = -5.0
max = 5.0
[fit.parameters.d_kpc]
value = 2.5
min = 0.1
max = 10.0
[fit.parameters.age_Myr]
value = 5.0
min = 0.1
max = 30.0
[fit.parameters.Rcut_PV]     # cutoff rigidity of eq. (5)
value = 5.0
min = 0.1
max = 100.0
[fit.parameters.beta]        # injection index of eq. (5)
value = 2.2
min = 1.5
max = 3.5
[fit.parameters.log10_E_erg] # energy injected above 1 GeV (crknee.sources.injection)
value = 50.0
min = 46.0
max = 54.0
# a Gaussian prior: prior = "gaussian", mu = ..., sigma = ... (truncated to [min, max]);
# prior = "fixed" keeps the parameter at value

[fit.sampler]
nwalkers = 32
nsteps = 20000        # maximum number of steps
seed = 20260
n_tau = 50.0          # stop when the chain is longer than n_tau x tau for every parameter
check_every = 200     # steps between autocorrelation estimates
tau_rtol = 0.01       # ... and tau changed by less than this fraction since the last check
moves = "de"          # "de": differential evolution 80 % + snooker 20 %; "stretch": Goodman & Weare
init = "ball"         # "ball" around value (+- init_width x (max - min)) or "prior"
init_width = 0.01
pool = "serial"       # "serial" | "process" | "dask" | "mpi"
workers = 1
scheduler = ""        # dask scheduler address ("" = a LocalCluster of `workers` processes)
progress = true

[fit.mock]            # crknee fit knee --mock: data made by the model at the parameters' values
seed = 7
[[fit.mock.extra]]    # a hypothetical measurement, to study its constraining power
name = "mock anisotropy"
observable = "amplitude"      # "amplitude" | "phase" | "flux" (then give species)
E_GeV = [3.0e6, 1.0e7, 3.0e7, 1.0e8]
err = [1.0e-3, 1.0e-3, 2.0e-3, 3.0e-3]
"""

TOP_KEYS = {
    "source_composition",
    "prior_dominated_ratio",
    "datasets",
    "parameters",
    "sampler",
    "mock",
    "dipole",
    "knee_propagation",
    "composition",
    "hadronic_model",
    "energy_scale",
    "W_prior",
    "normalisation",
    "injection",
}
#: Where the knee source diffuses: in the background's halo (free escape at |z| = H,
#: crknee's default: the same environment as the background), in free space (paper eq. 6),
#: or "none": no knee source, the background's cutoff free (the evidence's model (a)).
KNEE_PROPAGATION = ("halo", "free", "none")
#: The default prior of ``active_fraction`` with ``injection = "continuous"``: flat on
#: (0.01, 1], from a source active for 1 % of its age to one still active (a choice; the
#: microquasar range 1e4-1e6 yr is 1-100 % of a 1 Myr old source).
ACTIVE_FRACTION_DEFAULT = {"value": 0.5, "min": 0.01, "max": 1.0, "prior": "uniform"}
#: Hadronic-interaction models with which air-shower datasets are interpreted (meta ``hadronic_model``).
HADRONIC_MODELS = ("EPOS-LHC", "QGSJET-II-04", "SIBYLL-2.3d")
COMPOSITION_KEYS = {"groups", "abundances", "prior_width_dex"}
ENERGY_SCALE_KEYS = {"sigma", "datasets"}
W_PRIOR_KEYS = {"kind", "log10_min", "log10_max", "mu", "sigma"}
W_PRIOR_KINDS = ("none", "log-uniform", "log-normal")
#: Energy-scale nuisance bounds: +- this many sigma of its Gaussian prior.
ESCALE_BOUND_SIGMA = 4.0
#: Bounds of a group abundance around GALPROP's [dex]: +- 5 prior widths ("prior"), +- 2 dex ("free").
ABUNDANCE_BOUND_WIDTHS, ABUNDANCE_FREE_DEX = 5.0, 2.0
#: Default of the no-source model's background cutoff [PV]: Table 1's 200 TV in [0.02, 20] PV (choice).
BACKGROUND_CUTOFF_DEFAULT = {"value": 0.2, "min": 0.02, "max": 20.0}
DATASET_KEYS = {
    "name",
    "window_GeV",
    "observables",
    "species",
    "role",
    "errors",
    "upper_limit_cl",
    "likelihood",
    "convention",
}
DIPOLE_KEYS = {"field_aligned", "field_l_deg", "field_b_deg", "D_perp_over_D_par"}
#: Likelihoods of an anisotropy dataset: the measured first-harmonic vector (crknee's
#: default, crknee.fit.harmonic) or independent split normals on amplitude and phase (the paper's).
ANISOTROPY_LIKELIHOODS = ("harmonic", "gaussian")
#: "published": the model is converted to what the dataset published (its meta
#: ``convention``); "d_perp": the published amplitude is compared with d_perp as it is (the paper's).
ANISOTROPY_CONVENTIONS = ("published", "d_perp")
MOCK_KEYS = {"seed", "extra"}
EXTRA_KEYS = {"name", "observable", "species", "E_GeV", "err"}
SPECIES_OF_QUANTITY = {
    "proton": "H",
    "helium": "He",
    "light": "light",
    "allparticle": "all",
    "nuclei": None,
    "lnA": None,
}


@dataclass
class FitProblem:
    """What a ``[fit]`` section declares, ready to sample."""

    parameters: ParameterSet
    model: KneeSourceModel
    pieces: list
    settings: SamplerSettings
    inactive: list = field(default_factory=list)
    mock_seed: int = 0
    mock_extra: list = field(default_factory=list)
    prior_dominated_ratio: float = 0.7


def _unknown(where, given, allowed):
    bad = sorted(set(given) - set(allowed))
    if bad:
        raise ConfigError(f"{where}: unknown key {bad[0]!r} (allowed: {sorted(allowed)})")


def sampler_settings(spec: dict, where: str = "fit.sampler") -> SamplerSettings:
    """Validate ``[fit.sampler]`` against :class:`SamplerSettings`."""
    defaults = SamplerSettings()
    _unknown(where, spec, {f.name for f in fields(SamplerSettings)})
    kw = {}
    for f in fields(SamplerSettings):
        if f.name not in spec:
            continue
        v, d = spec[f.name], getattr(defaults, f.name)
        if isinstance(d, bool):
            ok = isinstance(v, bool)
        elif isinstance(d, int):
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif isinstance(d, float):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            v = float(v) if ok else v
        else:
            ok = isinstance(v, str)
        if not ok:
            raise ConfigError(f"{where}.{f.name} must be a {type(d).__name__}; got {v!r}")
        kw[f.name] = v
    s = SamplerSettings(**kw)
    for name, lo in (("nwalkers", 2), ("nsteps", 1), ("check_every", 1)):
        if getattr(s, name) < lo:
            raise ConfigError(f"{where}.{name} must be >= {lo}; got {getattr(s, name)!r}")
    if s.nwalkers % 2:
        raise ConfigError(f"{where}.nwalkers must be even (emcee's stretch move); got {s.nwalkers!r}")
    for name in ("n_tau", "tau_rtol", "init_width"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"{where}.{name} must be > 0; got {getattr(s, name)!r}")
    if s.moves not in MOVES:
        raise ConfigError(f"{where}.moves must be one of {sorted(MOVES)}; got {s.moves!r}")
    if s.init not in ("ball", "prior"):
        raise ConfigError(f"{where}.init must be 'ball' or 'prior'; got {s.init!r}")
    check_pool_settings({"pool": s.pool, "workers": s.workers, "scheduler": s.scheduler}, where)
    from crknee.fit.nested import check_nested_settings

    check_nested_settings(s, where)
    return s


def _window(where, spec):
    w = spec.get("window_GeV", [0.0, math.inf])
    try:
        lo, hi = (float(x) for x in w)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.window_GeV must be [E_min, E_max] in GeV; got {w!r}") from None
    if not (0.0 <= lo < hi):
        raise ConfigError(f"{where}.window_GeV: need 0 <= E_min < E_max; got {w!r}")
    return lo, hi


def _in_window(x, x_lo, x_hi, lo, hi):
    """Point rows: lo <= x <= hi; bin/threshold rows (x NaN): the whole bin inside."""
    top = np.where(np.isfinite(x_hi), x_hi, np.inf)
    return np.where(np.isfinite(x), (x >= lo) & (x <= hi), (x_lo >= lo) & (top <= hi))


def pieces_from_dataset(spec: dict, index: int, load=None, hadronic_model: str | None = None) -> list[Piece]:
    """Validate one ``[[fit.datasets]]`` table and return its pieces (possibly empty
    when no row lies in the window).  ``load`` defaults to :func:`crknee.data.load`;
    ``hadronic_model``: ``fit.hadronic_model`` (a fitted dataset interpreted with another
    model is a ConfigError; a check is drawn as published)."""
    import astropy.units as u

    from crknee import data

    load = load or data.load
    where = f"fit.datasets[{index}]"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where} must be a table; got {spec!r}")
    _unknown(where, spec, DATASET_KEYS)
    name = spec.get("name")
    if not isinstance(name, str):
        raise ConfigError(f"{where}.name: missing or not a string ({name!r})")
    where = f"fit.datasets[{index}] ({name})"
    errors = spec.get("errors", "total")
    role = spec.get("role", "fit")
    if role not in ("fit", "check"):
        raise ConfigError(f"{where}.role must be 'fit' or 'check'; got {role!r}")
    cl = spec.get("upper_limit_cl", 0.95)
    lo, hi = _window(where, spec)
    try:
        table = load(name, errors=errors)
    except CrkneeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    quantity = table.meta.get("quantity")
    hm = table.meta.get("hadronic_model")
    if hadronic_model is not None and hm is not None and hm != hadronic_model and role == "fit":
        raise ConfigError(
            f"fit.hadronic_model is {hadronic_model!r}, but the fitted {where} is interpreted "
            f"with {hm!r}: choose its {hadronic_model} variant or change fit.hadronic_model"
        )
    if quantity == "anisotropy":
        observables = spec.get(
            "observables", ["harmonic"] if spec.get("likelihood", "harmonic") == "harmonic" else ["amplitude", "phase"]
        )
    elif quantity in SPECIES_OF_QUANTITY:
        observables = spec.get("observables", ["flux"])
    else:
        raise ConfigError(
            f"{where}: dataset {name!r} is a {quantity!r} table; the fit takes "
            f"{sorted(SPECIES_OF_QUANTITY)} spectra and anisotropy"
        )
    if not isinstance(observables, list) or any(o not in OBSERVABLES for o in observables):
        raise ConfigError(f"{where}.observables must be a list from {OBSERVABLES}; got {observables!r}")
    fit = role == "fit"
    pieces = []
    if quantity == "anisotropy":
        return _anisotropy_pieces(where, spec, table, observables, lo, hi, fit)
    if quantity == "lnA":
        if spec.get("observables", ["lnA"]) != ["lnA"] or "species" in spec:
            raise ConfigError(f"{where}: a <ln A> table gives only observables = ['lnA'] and has no species")
        observables = ["lnA"]
    elif observables != ["flux"]:
        raise ConfigError(f"{where}.observables: a {quantity} spectrum gives only ['flux']; got {observables!r}")
    default = SPECIES_OF_QUANTITY[quantity]
    if quantity == "nuclei" and table.meta.get("species"):
        from crknee.kinematics import ELEMENT_SYMBOLS, nuclide

        sp = table.meta["species"]
        try:
            default = sp if sp in ELEMENT_SYMBOLS else nuclide(sp).element
        except CrkneeError:
            raise ConfigError(f"{where}: dataset {name!r} has species {sp!r}; give species = an element") from None
    species = spec.get("species", default)
    if quantity == "lnA":
        species = None
    elif species is None:
        raise ConfigError(f"{where}.species: dataset {name!r} names no species; give species = ...")
    if species is not None and species not in AGGREGATES:
        from crknee.kinematics import ELEMENT_SYMBOLS, nuclide

        if species not in ELEMENT_SYMBOLS:
            try:
                nuclide(species)
            except CrkneeError:
                raise ConfigError(f"{where}.species: unknown species {species!r}") from None
    if table.meta.get("x_variable") != "Etot":
        table = data.to_variable(table, "Etot")
    y_unit = u.one if quantity == "lnA" else u.Unit("m-2 s-1 sr-1 GeV-1")
    x = table["x"].to_value(u.GeV)
    keep = (x >= lo) & (x <= hi)
    if keep.any():
        y, el, eh = (u.Quantity(table[c]).to_value(y_unit)[keep] for c in ("y", "y_err_lo", "y_err_hi"))
        pieces.append(
            Piece(
                name,
                observables[0],
                x[keep],
                y,
                el,
                eh,
                np.asarray(table["upper_limit"], bool)[keep],
                species=species,
                ul_cl=cl,
                fit=fit,
            )
        )
    return pieces


def _column(table, name) -> np.ndarray:
    c = table[name]
    return np.asarray(getattr(c, "value", c), dtype=float)


def _anisotropy_pieces(where, spec, table, observables, lo, hi, fit) -> list:
    """Pieces of one anisotropy table (rows inside the window): a :class:`HarmonicPiece`
    (``likelihood = "harmonic"``) or "amplitude"/"phase" pieces (``"gaussian"``), compared
    in the dataset's published convention or as d_perp (``convention``)."""
    from crknee.anisotropy.conventions import Convention

    likelihood = spec.get("likelihood", "harmonic")
    if likelihood not in ANISOTROPY_LIKELIHOODS:
        raise ConfigError(f"{where}.likelihood must be one of {ANISOTROPY_LIKELIHOODS}; got {likelihood!r}")
    how = spec.get("convention", "published")
    if how not in ANISOTROPY_CONVENTIONS:
        raise ConfigError(f"{where}.convention must be one of {ANISOTROPY_CONVENTIONS}; got {how!r}")
    wanted = ["harmonic"] if likelihood == "harmonic" else ["amplitude", "phase"]
    if "flux" in observables:
        raise ConfigError(f"{where}.observables: an anisotropy table has no 'flux'")
    if (
        likelihood == "harmonic"
        and observables != wanted
        or likelihood == "gaussian"
        and not set(observables) <= set(wanted)
    ):
        raise ConfigError(f"{where}.observables: likelihood {likelihood!r} takes {wanted}; got {observables!r}")
    convention = Convention("d_perp") if how == "d_perp" else Convention.from_meta(table.meta, table.meta["name"])
    cl = float(spec.get("upper_limit_cl", table.meta.get("upper_limit_cl") or 0.95))
    x, xl, xh = (_column(table, c) for c in ("x", "x_lo", "x_hi"))
    xh = np.where(np.isnan(x) & np.isfinite(xl) & np.isnan(xh), np.inf, xh)
    inwin = _in_window(x, xl, xh, lo, hi)
    y, y_ul = _column(table, "y"), _column(table, "y_ul")
    phase = _column(table, "phase")
    name = table.meta["name"]
    if likelihood == "harmonic":
        err_lo, err_hi = _column(table, "y_err_lo"), _column(table, "y_err_hi")
        ph_err = 0.5 * (_column(table, "phase_err_lo") + _column(table, "phase_err_hi"))
        reaches_zero = np.asarray(table["amp_err_lo_reaches_zero"], bool)
        no_phase_err = np.asarray(table["phase_err_missing"], bool)
        # a measured row needs an error: its amplitude's, or its phase's (sigma = a dphi)
        has_err = (np.isfinite(err_hi) & (err_hi > 0)) | (np.isfinite(phase) & (ph_err > 0) & ~no_phase_err)
        usable = np.where(np.isfinite(y), has_err, np.isfinite(y_ul))
        keep = inwin & usable
        if not keep.any():
            return []
        return [
            HarmonicPiece(
                name,
                convention,
                x[keep],
                xl[keep],
                xh[keep],
                y[keep],
                err_lo[keep],
                err_hi[keep],
                phase[keep],
                ph_err[keep],
                y_ul[keep],
                ul_cl=cl,
                err_reaches_zero=reaches_zero[keep],
                phase_err_missing=no_phase_err[keep],
                fit=fit,
                n_without_error=int(np.sum(inwin & np.isfinite(y) & ~has_err)),
            )
        ]
    pieces = []
    for obs in observables:
        if obs == "amplitude":
            # the paper's treatment: a row's measured value, or its upper limit where only that is given
            limit = ~np.isfinite(y) & np.isfinite(y_ul)
            values, ul = np.where(limit, y_ul, y), limit
            err_lo, err_hi = (np.where(limit, np.nan, _column(table, c)) for c in ("y_err_lo", "y_err_hi"))
        else:
            values, ul = phase, np.zeros(len(phase), bool)
            err_lo, err_hi = _column(table, "phase_err_lo"), _column(table, "phase_err_hi")
        keep = inwin & np.isfinite(values)
        if obs == "phase":
            keep &= np.isfinite(err_lo) & (err_lo > 0)  # a phase without an error cannot enter a split normal
        if keep.any():
            pieces.append(
                Piece(
                    name,
                    obs,
                    x[keep],
                    values[keep],
                    np.nan_to_num(err_lo[keep]),
                    np.nan_to_num(err_hi[keep]),
                    ul[keep],
                    E_lo_GeV=xl[keep],
                    E_hi_GeV=xh[keep],
                    ul_cl=cl,
                    fit=fit,
                    convention=convention,
                )
            )
    return pieces


def field_alignment(section: dict):
    """The ``[fit.dipole]`` table -> a :class:`crknee.anisotropy.field.FieldAlignment` or
    None (isotropic diffusion, the paper's mode)."""
    from crknee.anisotropy.field import FieldAlignment

    spec = section.get("dipole", {})
    if not isinstance(spec, dict):
        raise ConfigError(f"fit.dipole must be a table; got {spec!r}")
    _unknown("fit.dipole", spec, DIPOLE_KEYS)
    on = spec.get("field_aligned", False)
    if not isinstance(on, bool):
        raise ConfigError(f"fit.dipole.field_aligned must be true or false; got {on!r}")
    if not on:
        return None
    default = FieldAlignment()
    kw = {}
    for key, attr in (("field_l_deg", "l_deg"), ("field_b_deg", "b_deg"), ("D_perp_over_D_par", "ratio")):
        v = spec.get(key, getattr(default, attr))
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ConfigError(f"fit.dipole.{key} must be a number; got {v!r}")
        kw[attr] = float(v)
    try:
        return FieldAlignment(**kw)
    except CrkneeError as exc:
        raise ConfigError(f"fit.dipole: {exc}") from None


def _mock_extra(spec, index):
    where = f"fit.mock.extra[{index}]"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where} must be a table; got {spec!r}")
    _unknown(where, spec, EXTRA_KEYS)
    obs = spec.get("observable")
    if obs not in OBSERVABLES:
        raise ConfigError(f"{where}.observable must be one of {OBSERVABLES}; got {obs!r}")
    try:
        E = np.asarray(spec["E_GeV"], dtype=float)
        err = np.asarray(spec["err"], dtype=float)
    except KeyError as exc:
        raise ConfigError(f"{where}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: E_GeV and err must be lists of numbers") from None
    if E.ndim != 1 or E.shape != err.shape or E.size == 0 or np.any(~(E > 0)) or np.any(~(err > 0)):
        raise ConfigError(f"{where}: E_GeV and err must be equally long lists of positive numbers")
    name = str(spec.get("name", f"mock extra {index}"))
    # the values are drawn by crknee.fit.mock; zeros here only fix the layout
    return Piece(name, obs, E, np.zeros(E.size), err, err, np.zeros(E.size, bool), species=spec.get("species"))


def expand_patterns(datasets: list, hadronic_model: str | None = None) -> list:
    """``[[fit.datasets]]`` tables with a glob ``name`` (``"anisotropy/CRDB_*"``: the whole
    world compilation in one table) replaced by one table per matching dataset; with
    ``hadronic_model``, a glob keeps only the datasets interpreted with that model (meta
    ``hadronic_model``) or with none (direct measurements, anisotropy)."""
    from crknee import data

    out = []
    for i, spec in enumerate(datasets):
        name = spec.get("name") if isinstance(spec, dict) else None
        if isinstance(name, str) and any(c in name for c in "*?["):
            matched = data.names(pattern=name)
            if hadronic_model is not None:
                matched = [m for m in matched if data.load(m).meta.get("hadronic_model") in (None, hadronic_model)]
            if not matched:
                extra = f" interpreted with fit.hadronic_model = {hadronic_model!r}" if hadronic_model else ""
                raise ConfigError(f"fit.datasets[{i}].name: no dataset{extra} matches {name!r}")
            out.extend({**spec, "name": m} for m in matched)
        else:
            out.append(spec)
    return out


def _independent(datasets: list, load=None) -> None:
    """ConfigError if two selected datasets hold the same measurement
    (:func:`crknee.data.check_independent`): fitting both would count it twice."""
    from crknee import data

    if load is not None:  # a test's own loader: its datasets carry no duplicates
        return
    chosen = [s["name"] for s in datasets if isinstance(s, dict) and isinstance(s.get("name"), str)]
    try:
        data.check_independent([n for n in chosen if n in set(data.names())])
    except CrkneeError as exc:
        raise ConfigError(f"fit.datasets: {exc}") from None


def _number(where, v):
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise ConfigError(f"{where} must be a finite number; got {v!r}")
    return float(v)


def composition_groups(section: dict):
    """``[fit.composition]`` -> (groups or None, {parameter: default table}); None: the
    fixed ``source_composition`` (the paper's protons)."""
    from crknee.fit import composition as comp

    spec = section.get("composition")
    if spec is None:
        return None, {}
    if "source_composition" in section:
        raise ConfigError(
            "fit: give either source_composition (a fixed composition) or [fit.composition] "
            "(groups with abundance parameters), not both"
        )
    if not isinstance(spec, dict):
        raise ConfigError(f"fit.composition must be a table; got {spec!r}")
    _unknown("fit.composition", spec, COMPOSITION_KEYS)
    groups = spec.get("groups", list(comp.GROUPS))
    if (
        not isinstance(groups, list)
        or "H" not in groups
        or any(g not in comp.GROUPS for g in groups)
        or len(set(groups)) != len(groups)
    ):
        raise ConfigError(
            f"fit.composition.groups must be distinct names from {list(comp.GROUPS)} including 'H'; got {groups!r}"
        )
    mode = spec.get("abundances", "prior")
    if mode not in comp.ABUNDANCE_MODES:
        raise ConfigError(f"fit.composition.abundances must be one of {comp.ABUNDANCE_MODES}; got {mode!r}")
    width = _number("fit.composition.prior_width_dex", spec.get("prior_width_dex", comp.ABUNDANCE_PRIOR_WIDTH_DEX))
    if width <= 0:
        raise ConfigError(f"fit.composition.prior_width_dex must be > 0; got {width!r}")
    defaults = {}
    for g in groups:
        if g == "H":
            continue
        ref = round(comp.reference_log10_abundance(g), 4)
        span = ABUNDANCE_BOUND_WIDTHS * width if mode == "prior" else ABUNDANCE_FREE_DEX
        table = {"value": ref, "min": ref - span, "max": ref + span}
        if mode == "prior":
            table.update(prior="gaussian", mu=ref, sigma=width)
        elif mode == "fixed":
            table["prior"] = "fixed"
        defaults[comp.abundance_parameter(g)] = table
    return groups, defaults


def energy_scales(section: dict, names: list) -> tuple[dict, dict]:
    """``[fit.energy_scale.<experiment>]`` tables -> ({experiment: (sigma, dataset names)},
    {parameter: default table}); ``names``: the datasets of the fit (after glob expansion).
    An experiment with sigma = 0 has no nuisance."""
    from fnmatch import fnmatchcase

    from crknee.fit.model import ESCALE_PREFIX

    spec = section.get("energy_scale", {})
    if not isinstance(spec, dict):
        raise ConfigError(f"fit.energy_scale must be a table of experiments; got {spec!r}")
    out, defaults, owner = {}, {}, {}
    for exp, t in spec.items():
        where = f"fit.energy_scale.{exp}"
        if not isinstance(t, dict):
            raise ConfigError(f"{where} must be a table {{sigma, datasets}}; got {t!r}")
        _unknown(where, t, ENERGY_SCALE_KEYS)
        if not exp.isidentifier():
            raise ConfigError(f"{where}: the experiment's name must be an identifier (it names escale_{exp})")
        sigma = _number(f"{where}.sigma", t.get("sigma"))
        if not 0 <= sigma < 1 / ESCALE_BOUND_SIGMA:
            raise ConfigError(f"{where}.sigma must lie in [0, {1 / ESCALE_BOUND_SIGMA:g}); got {sigma!r}")
        pats = t.get("datasets")
        if not isinstance(pats, list) or not pats or not all(isinstance(p, str) for p in pats):
            raise ConfigError(f"{where}.datasets must be a non-empty list of dataset names or globs; got {pats!r}")
        mine = [n for n in names if any(fnmatchcase(n, p) for p in pats)]
        for n in mine:
            if n in owner:
                raise ConfigError(f"{where}.datasets: {n!r} already has the energy scale of {owner[n]!r}")
            if n.startswith("anisotropy/"):
                raise ConfigError(
                    f"{where}.datasets: {n!r} is an anisotropy table; the energy-scale nuisance "
                    "applies to spectra and <ln A>"
                )
            owner[n] = exp
        if sigma == 0 or not mine:
            continue
        out[exp] = (sigma, tuple(mine))
        defaults[ESCALE_PREFIX + exp] = {
            "value": 0.0,
            "min": -ESCALE_BOUND_SIGMA * sigma,
            "max": ESCALE_BOUND_SIGMA * sigma,
            "prior": "gaussian",
            "mu": 0.0,
            "sigma": sigma,
        }
    return out, defaults


def w_prior(section: dict):
    """``[fit.W_prior]`` -> :class:`crknee.fit.model.WPrior`."""
    from crknee.fit.model import WPrior

    spec = section.get("W_prior", {})
    if not isinstance(spec, dict):
        raise ConfigError(f"fit.W_prior must be a table; got {spec!r}")
    _unknown("fit.W_prior", spec, W_PRIOR_KEYS)
    kind = spec.get("kind", "none")
    if kind not in W_PRIOR_KINDS:
        raise ConfigError(f"fit.W_prior.kind must be one of {W_PRIOR_KINDS}; got {kind!r}")
    kw = {k: _number(f"fit.W_prior.{k}", spec[k]) for k in ("log10_min", "log10_max", "mu", "sigma") if k in spec}
    allowed = {"log-uniform": {"log10_min", "log10_max"}, "log-normal": {"mu", "sigma"}}.get(kind, set())
    extra = sorted(set(kw) - allowed)
    if extra:
        raise ConfigError(f"fit.W_prior.{extra[0]} does not apply to kind = {kind!r}")
    p = WPrior(kind, **kw)
    if p.log10_min >= p.log10_max:
        raise ConfigError(f"fit.W_prior: log10_min ({p.log10_min}) must be < log10_max ({p.log10_max})")
    if p.sigma <= 0:
        raise ConfigError(f"fit.W_prior.sigma must be > 0; got {p.sigma!r}")
    return p


def check_section(section: dict, load=None) -> tuple:
    """Validate a ``[fit]`` section without fixed components (also crknee.config's check
    of ``[fit]``): return its (composition, :class:`FitProblem` fields but the model, and
    the model's settings)."""
    from crknee.fit.model import BACKGROUND_CUTOFF, NORMALISATIONS, model_parameters
    from crknee.sources.injection import TABLE_BETA, TABLE_LOG10_RCUT, Composition

    if not isinstance(section, dict):
        raise ConfigError(f"fit must be a table; got {section!r}")
    _unknown("fit", section, TOP_KEYS)
    try:
        composition = Composition.from_mapping(section.get("source_composition", {"H1": 1.0}))
    except CrkneeError as exc:
        raise ConfigError(f"fit.source_composition: {exc}") from None
    where = section.get("knee_propagation", "halo")
    if where not in KNEE_PROPAGATION:
        raise ConfigError(f"fit.knee_propagation must be one of {KNEE_PROPAGATION}; got {where!r}")
    source = where != "none"
    hadronic = section.get("hadronic_model")
    if hadronic is not None and hadronic not in HADRONIC_MODELS:
        raise ConfigError(f"fit.hadronic_model must be one of {HADRONIC_MODELS}; got {hadronic!r}")
    groups, defaults = composition_groups(section)
    datasets = section.get("datasets", [])
    if not isinstance(datasets, list) or not datasets:
        raise ConfigError("fit.datasets: give at least one [[fit.datasets]] table")
    datasets = expand_patterns(datasets, hadronic)
    _independent(datasets, load)
    scales, scale_defaults = energy_scales(section, [s.get("name") for s in datasets if isinstance(s, dict)])
    declared = section.get("parameters", {})
    if not isinstance(declared, dict):
        raise ConfigError(f"fit.parameters must be a table of parameters; got {declared!r}")
    if not source:
        # no knee source: its parameters describe no component (so a no-source variant can
        # be merged onto a [fit] section with a source); the background cutoff is free
        from crknee.fit.model import SOURCE_PARAMETERS

        ignored = set(SOURCE_PARAMETERS) | set(NORMALISATIONS)
        declared = {k: v for k, v in declared.items() if k not in ignored and not k.startswith("log10_f")}
    else:
        # abundance tables of groups the source does not inject (a protons-only variant)
        from crknee.fit.composition import abundance_parameter

        kept = {abundance_parameter(g) for g in groups or ()}
        declared = {k: v for k, v in declared.items() if not k.startswith("log10_f") or k in kept}
    normalisation = section.get("normalisation")
    if normalisation is not None and normalisation not in NORMALISATIONS:
        raise ConfigError(f"fit.normalisation must be one of {list(NORMALISATIONS)}; got {normalisation!r}")
    if normalisation is None:
        given = [k for k in NORMALISATIONS if k in declared]
        if source and len(given) != 1:
            raise ConfigError(
                f"fit.normalisation: declare exactly one normalisation of the knee source, "
                f"{' or '.join(NORMALISATIONS)}, or name it in fit.normalisation; got {given or 'none'}"
            )
        normalisation = given[0] if given else "log10_E_erg"
    declared = {k: v for k, v in declared.items() if k not in NORMALISATIONS or k == normalisation}
    if source:
        defaults = {**defaults, **scale_defaults}
    else:
        defaults = {**scale_defaults, BACKGROUND_CUTOFF: dict(BACKGROUND_CUTOFF_DEFAULT)}
    from crknee.fit.model import ACTIVE_FRACTION, INJECTIONS

    injection = section.get("injection", "burst")
    if injection not in INJECTIONS:
        raise ConfigError(f"fit.injection must be one of {INJECTIONS}; got {injection!r}")
    if source and injection == "continuous":
        defaults = {**defaults, ACTIVE_FRACTION: dict(ACTIVE_FRACTION_DEFAULT)}
    else:
        declared = {k: v for k, v in declared.items() if k != ACTIVE_FRACTION}
    units = model_parameters(source, normalisation, groups if source else None, list(scales), injection)
    parameters = ParameterSet.from_config({**defaults, **declared}, units)
    by_name = {p.name: p for p in parameters.parameters}
    if source:
        for pname, (lo, hi) in (
            ("beta", TABLE_BETA[:2]),
            ("Rcut_PV", tuple(10.0 ** np.array(TABLE_LOG10_RCUT[:2]) / 1e6)),
        ):
            p = by_name[pname]
            if p.min < lo or p.max > hi:
                raise ConfigError(
                    f"fit.parameters.{pname}: [min, max] = [{p.min}, {p.max}] must lie within "
                    f"[{lo:g}, {hi:g}] (the tabulated injection normalisation)"
                )
        for pname in ("d_kpc", "age_Myr"):
            if by_name[pname].min <= 0:
                raise ConfigError(f"fit.parameters.{pname}.min must be > 0; got {by_name[pname].min!r}")
        if ACTIVE_FRACTION in by_name:
            p = by_name[ACTIVE_FRACTION]
            if not 0 < p.min <= p.max <= 1:
                raise ConfigError(
                    f"fit.parameters.{ACTIVE_FRACTION}: [min, max] = [{p.min}, {p.max}] must lie in (0, 1] "
                    "(the fraction of the age during which the source injected)"
                )
    elif by_name[BACKGROUND_CUTOFF].min <= 0:
        raise ConfigError(f"fit.parameters.{BACKGROUND_CUTOFF}.min must be > 0; got {by_name[BACKGROUND_CUTOFF].min!r}")
    from crknee.fit.model import ESCALE_PREFIX

    bounds = {}
    for exp, (_sigma, names) in scales.items():
        p = by_name[ESCALE_PREFIX + exp]
        if p.min <= -1:
            raise ConfigError(f"fit.parameters.{p.name}.min must be > -1 (E_true = E_obs / (1 + s)); got {p.min!r}")
        bounds[exp] = (p.min, p.max, names)
    pieces, inactive = [], []
    for i, spec in enumerate(datasets):
        got = pieces_from_dataset(spec, i, load, hadronic)
        pieces.extend(got)
        if not got:
            inactive.append(f"{spec['name']}: no point in window {list(_window(spec['name'], spec))} GeV")
    if not any(p.fit for p in pieces):
        raise ConfigError("fit.datasets: no fitted dataset has a point inside its window")
    mock = section.get("mock", {})
    if not isinstance(mock, dict):
        raise ConfigError(f"fit.mock must be a table; got {mock!r}")
    _unknown("fit.mock", mock, MOCK_KEYS)
    seed = mock.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"fit.mock.seed must be an integer >= 0; got {seed!r}")
    extra = [_mock_extra(s, i) for i, s in enumerate(mock.get("extra", []))]
    ratio = section.get("prior_dominated_ratio", 0.7)
    if not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise ConfigError(f"fit.prior_dominated_ratio must lie in (0, 1]; got {ratio!r}")
    settings = sampler_settings(section.get("sampler", {}))
    field_ = field_alignment(section)
    model_kw = dict(
        groups=groups if source else None,
        normalisation=normalisation,
        energy_scales=bounds,
        source=source,
        W_prior=w_prior(section),
        injection=injection,
    )
    if not source and model_kw["W_prior"].kind != "none":
        raise ConfigError("fit.W_prior: there is no knee source (knee_propagation = 'none') to put a prior on")
    return composition, dict(
        field=field_,
        halo=where == "halo",
        parameters=parameters,
        pieces=pieces,
        settings=settings,
        inactive=inactive,
        mock_seed=seed,
        mock_extra=extra,
        prior_dominated_ratio=float(ratio),
        model_kw=model_kw,
    )


def problem_from_config(section: dict, fixed, load=None) -> FitProblem:
    """Validate a ``[fit]`` section and build the :class:`FitProblem` on ``fixed``
    (:class:`crknee.fit.model.FixedComponents`, which carries the background's diffusion)."""
    composition, declared = check_section(section, load)
    halo = declared.pop("halo")
    model_kw = declared.pop("model_kw")
    if halo and fixed.halo_kpc is not None:
        by_name = {p.name: p for p in declared["parameters"].parameters}
        d, b = by_name["d_kpc"], by_name["b_deg"]
        height = d.max * np.sin(np.radians(max(abs(b.min), abs(b.max))))
        if height >= fixed.halo_kpc:
            raise ConfigError(
                f"fit.parameters.b_deg: a source at d = {d.max:g} kpc and |b| = "
                f"{max(abs(b.min), abs(b.max)):g} deg sits {height:.3g} kpc off the plane, outside the "
                f"halo (H = {fixed.halo_kpc:g} kpc); narrow b_deg or d_kpc"
            )
    if halo and fixed.halo_kpc is None:
        raise ConfigError(
            "fit.knee_propagation = 'halo' needs the background's halo height in the fixed components "
            "(FixedComponents(..., halo_kpc=H), written by crknee reproduce); or set it to 'free'"
        )
    if not model_kw["source"] and fixed.background is None:
        raise ConfigError(
            "fit.knee_propagation = 'none' needs the background part of the fixed components "
            "(FixedComponents.background, written by crknee reproduce)"
        )
    model = KneeSourceModel(fixed, composition, declared.pop("field"), halo=halo, **model_kw)
    return FitProblem(model=model, **declared)
