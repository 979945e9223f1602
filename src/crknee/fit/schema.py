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
from crknee.fit.model import AGGREGATES, PARAMETERS, KneeSourceModel
from crknee.fit.parameters import ParameterSet
from crknee.fit.pools import check_pool_settings
from crknee.fit.sampler import MOVES, SamplerSettings

EXAMPLE_TOML = '''\
[fit]
# knee-source abundances at equal rigidity (crknee.sources.injection.Composition);
# the paper fits protons, so protons only
source_composition = { H1 = 1.0 }
# a parameter whose 68 % posterior interval is wider than this fraction of its prior's
# 68 % interval is flagged "prior-dominated"
prior_dominated_ratio = 0.7

# where the knee source diffuses: "halo" (the background's halo, free escape at |z| = H;
# default) or "free" (free space, the paper's eq. 6)
knee_propagation = "halo"

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
'''

TOP_KEYS = {"source_composition", "prior_dominated_ratio", "datasets", "parameters", "sampler", "mock", "dipole",
            "knee_propagation"}
#: Where the knee source diffuses: in the background's halo (free escape at |z| = H,
#: crknee's default: the same environment as the background) or in free space (paper eq. 6).
KNEE_PROPAGATION = ("halo", "free")
DATASET_KEYS = {"name", "window_GeV", "observables", "species", "role", "errors", "upper_limit_cl", "likelihood",
                "convention"}
DIPOLE_KEYS = {"field_aligned", "field_l_deg", "field_b_deg", "D_perp_over_D_par"}
#: Likelihoods of an anisotropy dataset: the measured first-harmonic vector (crknee's
#: default, crknee.fit.harmonic) or independent split normals on amplitude and phase (the paper's).
ANISOTROPY_LIKELIHOODS = ("harmonic", "gaussian")
#: "published": the model is converted to what the dataset published (its meta
#: ``convention``); "d_perp": the published amplitude is compared with d_perp as it is (the paper's).
ANISOTROPY_CONVENTIONS = ("published", "d_perp")
MOCK_KEYS = {"seed", "extra"}
EXTRA_KEYS = {"name", "observable", "species", "E_GeV", "err"}
SPECIES_OF_QUANTITY = {"proton": "H", "helium": "He", "light": "light", "allparticle": "all"}


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


def pieces_from_dataset(spec: dict, index: int, load=None) -> list[Piece]:
    """Validate one ``[[fit.datasets]]`` table and return its pieces (possibly empty
    when no row lies in the window).  ``load`` defaults to :func:`crknee.data.load`."""
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
    if quantity == "anisotropy":
        observables = spec.get("observables", ["harmonic"] if spec.get("likelihood", "harmonic") == "harmonic"
                               else ["amplitude", "phase"])
    elif quantity in SPECIES_OF_QUANTITY:
        observables = spec.get("observables", ["flux"])
    else:
        raise ConfigError(f"{where}: dataset {name!r} is a {quantity!r} table; the fit takes "
                          f"{sorted(SPECIES_OF_QUANTITY)} spectra and anisotropy")
    if not isinstance(observables, list) or any(o not in OBSERVABLES for o in observables):
        raise ConfigError(f"{where}.observables must be a list from {OBSERVABLES}; got {observables!r}")
    fit = role == "fit"
    pieces = []
    if quantity == "anisotropy":
        return _anisotropy_pieces(where, spec, table, observables, lo, hi, fit)
    if observables != ["flux"]:
        raise ConfigError(f"{where}.observables: a {quantity} spectrum gives only ['flux']; got {observables!r}")
    species = spec.get("species", SPECIES_OF_QUANTITY[quantity])
    if species not in AGGREGATES:
        from crknee.kinematics import ELEMENT_SYMBOLS, nuclide

        if species not in ELEMENT_SYMBOLS:
            try:
                nuclide(species)
            except CrkneeError:
                raise ConfigError(f"{where}.species: unknown species {species!r}") from None
    if table.meta.get("x_variable") != "Etot":
        table = data.to_variable(table, "Etot")
    flux_unit = u.Unit("m-2 s-1 sr-1 GeV-1")
    x = table["x"].to_value(u.GeV)
    keep = (x >= lo) & (x <= hi)
    if keep.any():
        y, el, eh = (table[c].to_value(flux_unit)[keep] for c in ("y", "y_err_lo", "y_err_hi"))
        pieces.append(Piece(name, "flux", x[keep], y, el, eh, np.asarray(table["upper_limit"], bool)[keep],
                            species=species, ul_cl=cl, fit=fit))
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
    if likelihood == "harmonic" and observables != wanted or likelihood == "gaussian" and \
            not set(observables) <= set(wanted):
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
        return [HarmonicPiece(name, convention, x[keep], xl[keep], xh[keep], y[keep], err_lo[keep], err_hi[keep],
                              phase[keep], ph_err[keep], y_ul[keep], ul_cl=cl, err_reaches_zero=reaches_zero[keep],
                              phase_err_missing=no_phase_err[keep], fit=fit,
                              n_without_error=int(np.sum(inwin & np.isfinite(y) & ~has_err)))]
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
            pieces.append(Piece(name, obs, x[keep], values[keep], np.nan_to_num(err_lo[keep]),
                                np.nan_to_num(err_hi[keep]), ul[keep], E_lo_GeV=xl[keep], E_hi_GeV=xh[keep],
                                ul_cl=cl, fit=fit, convention=convention))
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


def expand_patterns(datasets: list) -> list:
    """``[[fit.datasets]]`` tables with a glob ``name`` (``"anisotropy/CRDB_*"``: the whole
    world compilation in one table) replaced by one table per matching dataset."""
    from crknee import data

    out = []
    for i, spec in enumerate(datasets):
        name = spec.get("name") if isinstance(spec, dict) else None
        if isinstance(name, str) and any(c in name for c in "*?["):
            matched = data.names(pattern=name)
            if not matched:
                raise ConfigError(f"fit.datasets[{i}].name: no dataset matches {name!r}")
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


def check_section(section: dict, load=None) -> tuple:
    """Validate a ``[fit]`` section without fixed components (also crknee.config's check
    of ``[fit]``): return its (composition, :class:`FitProblem` fields but the model)."""
    from crknee.sources.injection import TABLE_BETA, TABLE_LOG10_RCUT, Composition

    if not isinstance(section, dict):
        raise ConfigError(f"fit must be a table; got {section!r}")
    _unknown("fit", section, TOP_KEYS)
    try:
        composition = Composition.from_mapping(section.get("source_composition", {"H1": 1.0}))
    except CrkneeError as exc:
        raise ConfigError(f"fit.source_composition: {exc}") from None
    parameters = ParameterSet.from_config(section.get("parameters", {}), PARAMETERS)
    by_name = {p.name: p for p in parameters.parameters}
    for pname, (lo, hi) in (("beta", TABLE_BETA[:2]),
                            ("Rcut_PV", tuple(10.0 ** np.array(TABLE_LOG10_RCUT[:2]) / 1e6))):
        p = by_name[pname]
        if p.min < lo or p.max > hi:
            raise ConfigError(f"fit.parameters.{pname}: [min, max] = [{p.min}, {p.max}] must lie within "
                              f"[{lo:g}, {hi:g}] (the tabulated injection normalisation)")
    for pname in ("d_kpc", "age_Myr"):
        if by_name[pname].min <= 0:
            raise ConfigError(f"fit.parameters.{pname}.min must be > 0; got {by_name[pname].min!r}")
    datasets = section.get("datasets", [])
    if not isinstance(datasets, list) or not datasets:
        raise ConfigError("fit.datasets: give at least one [[fit.datasets]] table")
    pieces, inactive = [], []
    datasets = expand_patterns(datasets)
    _independent(datasets, load)
    for i, spec in enumerate(datasets):
        got = pieces_from_dataset(spec, i, load)
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
    where = section.get("knee_propagation", "halo")
    if where not in KNEE_PROPAGATION:
        raise ConfigError(f"fit.knee_propagation must be one of {KNEE_PROPAGATION}; got {where!r}")
    return composition, dict(field=field_, halo=where == "halo", parameters=parameters, pieces=pieces, settings=settings, inactive=inactive,
                             mock_seed=seed, mock_extra=extra, prior_dominated_ratio=float(ratio))


def problem_from_config(section: dict, fixed, load=None) -> FitProblem:
    """Validate a ``[fit]`` section and build the :class:`FitProblem` on ``fixed``
    (:class:`crknee.fit.model.FixedComponents`, which carries the background's diffusion)."""
    composition, declared = check_section(section, load)
    halo = declared.pop("halo")
    if halo and fixed.halo_kpc is not None:
        by_name = {p.name: p for p in declared["parameters"].parameters}
        d, b = by_name["d_kpc"], by_name["b_deg"]
        height = d.max * np.sin(np.radians(max(abs(b.min), abs(b.max))))
        if height >= fixed.halo_kpc:
            raise ConfigError(f"fit.parameters.b_deg: a source at d = {d.max:g} kpc and |b| = "
                              f"{max(abs(b.min), abs(b.max)):g} deg sits {height:.3g} kpc off the plane, outside the "
                              f"halo (H = {fixed.halo_kpc:g} kpc); narrow b_deg or d_kpc")
    if halo and fixed.halo_kpc is None:
        raise ConfigError("fit.knee_propagation = 'halo' needs the background's halo height in the fixed components "
                          "(FixedComponents(..., halo_kpc=H), written by crknee reproduce); or set it to 'free'")
    return FitProblem(model=KneeSourceModel(fixed, composition, declared.pop("field"), halo=halo), **declared)
