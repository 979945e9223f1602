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
from crknee.fit.likelihood import OBSERVABLES, Piece
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

# one table per dataset; observables default to "flux" for spectra and
# ["amplitude", "phase"] for anisotropy tables; species defaults from the quantity
[[fit.datasets]]
name = "proton/LHAASO_2025_2505.14447_EPOSLHC"   # LHAASO 2025, arXiv:2505.14447
window_GeV = [1.0e5, 1.0e8]
errors = "total"            # stat (+) sys in quadrature; "stat" for statistical only
role = "fit"                # "check": drawn and reported, not in the likelihood

[[fit.datasets]]
name = "anisotropy/Auger_ICRC2017_first_harmonic"
window_GeV = [1.0e6, 2.0e9]  # paper Sec. 3: above the background cut-off, below the 2 EeV phase flip
upper_limit_cl = 0.99        # confidence level of any upper limit in the table

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

[fit.mock]            # crknee fit --mock: data made by the model at the parameters' values
seed = 7
[[fit.mock.extra]]    # a hypothetical measurement, to study its constraining power
name = "mock anisotropy"
observable = "amplitude"      # "amplitude" | "phase" | "flux" (then give species)
E_GeV = [3.0e6, 1.0e7, 3.0e7, 1.0e8]
err = [1.0e-3, 1.0e-3, 2.0e-3, 3.0e-3]
'''

TOP_KEYS = {"source_composition", "prior_dominated_ratio", "datasets", "parameters", "sampler", "mock"}
DATASET_KEYS = {"name", "window_GeV", "observables", "species", "role", "errors", "upper_limit_cl"}
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
        raise ConfigError(f"{where}: unknown dataset {name!r} ({exc})") from None
    quantity = table.meta.get("quantity")
    if quantity == "anisotropy":
        observables = spec.get("observables", ["amplitude", "phase"])
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
        bad = [o for o in observables if o == "flux"]
        if bad:
            raise ConfigError(f"{where}.observables: an anisotropy table has no 'flux'")
        x, xl, xh = (table[c].to_value(u.GeV) for c in ("x", "x_lo", "x_hi"))
        xh = np.where(np.isnan(x) & np.isfinite(xl) & np.isnan(xh), np.inf, xh)
        inwin = _in_window(x, xl, xh, lo, hi)
        cols = {"amplitude": ("y", "y_err_lo", "y_err_hi"), "phase": ("phase", "phase_err_lo", "phase_err_hi")}
        for obs in observables:
            yc, elc, ehc = cols[obs]
            y = np.asarray(table[yc].value if hasattr(table[yc], "value") else table[yc], dtype=float)
            ul = np.asarray(table["upper_limit"], dtype=bool) if obs == "amplitude" else np.zeros(len(y), bool)
            keep = inwin & np.isfinite(y)
            if keep.any():
                el = np.asarray(getattr(table[elc], "value", table[elc]), dtype=float)
                eh = np.asarray(getattr(table[ehc], "value", table[ehc]), dtype=float)
                pieces.append(Piece(name, obs, x[keep], y[keep], el[keep], eh[keep], ul[keep], E_lo_GeV=xl[keep],
                                    E_hi_GeV=xh[keep], ul_cl=cl, fit=fit))
        return pieces
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
    return composition, dict(parameters=parameters, pieces=pieces, settings=settings, inactive=inactive,
                             mock_seed=seed, mock_extra=extra, prior_dominated_ratio=float(ratio))


def problem_from_config(section: dict, fixed, load=None) -> FitProblem:
    """Validate a ``[fit]`` section and build the :class:`FitProblem` on ``fixed``
    (:class:`crknee.fit.model.FixedComponents`, which carries the background's diffusion)."""
    composition, declared = check_section(section, load)
    return FitProblem(model=KneeSourceModel(fixed, composition), **declared)
