"""The one physical validator of an analysis configuration.

:func:`crknee.config.load` (hence ``crknee config validate`` and every command that
reads a config) runs :func:`check` on the config as given and with its ``[fast]``
overrides applied, after the per-key checks of :data:`crknee.config.SCHEMA` (types,
units, open ranges).  What is checked here needs more than one key or a physics module:

* geometry: the Sun inside the Galaxy (``r_sun_kpc < R_gal_kpc``), the source layer and
  the gas disc inside the halo (``z_s_kpc``, ``h_kpc`` < ``H_kpc``);
* the energy grid: ``ekn_min_GeV < ekn_max_GeV``, the grid reaching the normalisation
  window and the local SNR's fit window; grid sizes with caps that bound
  memory and time (:data:`MAX_N_MODES`, :data:`MAX_POINTS_PER_DECADE`,
  :data:`MAX_SOLVER_BYTES` for the Bessel-mode array, :data:`MAX_FIXED_POINTS_PER_DECADE`);
* sane physical ranges (:data:`PHI_RANGE_MV`, :data:`D0_RANGE_CM2_S`), known nuclides
  (``heaviest``) and network tables (``production``, ``inelastic``);
* every dataset used where its kind fits (:data:`DATASET_KINDS`): ``bc.chi2_dataset``
  must be a B/C ratio, ``local_snr.fit_datasets`` proton spectra, ...;
* the samplers: seeds >= 0, walkers x steps capped (:data:`MAX_SAMPLES`);
* the model objects the pipeline builds (the propagation model, each gamma-ray source,
  the local SNR's name) are built once here, so a value they refuse fails up front;
* the knee-source fit's energy range against the background's (:func:`check_fit_energies`).

Every failure is a :class:`~crknee.errors.ConfigError` whose message starts with the key
to change.
"""

from __future__ import annotations

import math

from crknee.errors import ConfigError, CrkneeError

#: Force-field potential [MV]: 0 (LIS) to 2 GV, above every value reconstructed from
#: neutron monitors since 1936 (Usoskin et al. 2011, JGR 116, A02104: < 1.5 GV).
PHI_RANGE_MV = (0.0, 2000.0)
#: D0 of eq. (2) [cm^2/s]: two decades either side of the B/C fits, D0 ~ 1e28-1e29 cm^2/s
#: at a few GV (Strong, Moskalenko & Ptuskin 2007, ARNPS 57, 285; Table 1: 3.2e28).
D0_RANGE_CM2_S = (1.0e26, 1.0e31)
#: Caps of the solver grid (paper config: 40 modes, 20 points per decade).
MAX_N_MODES = 400
MAX_POINTS_PER_DECADE = 200
#: Memory of the solver's Bessel-mode array, nuclides x modes x energies x 3 groups x
#: 8 bytes (Ni at the top: at most 100 nuclides) [bytes]; the paper config needs 15 MB.
MAX_SOLVER_BYTES = 2**30
MAX_NUCLIDES = 100
#: Tabulation of the fixed components for the knee fit (paper config: 20 per decade).
MAX_FIXED_POINTS_PER_DECADE = 1000
#: emcee positions (walkers x steps) of one chain: 1e7 x 8 parameters x 8 bytes = 640 MB.
MAX_SAMPLES = 10_000_000
#: Top of a fit energy range without a finite window: above the most energetic cosmic
#: ray recorded, 3.2e20 eV (Bird et al. 1995, ApJ 441, 144) [GeV].
E_CEILING_GeV = 1.0e12
#: The background may stop below the fit's top energy only where its injection
#: exp(-R/R_cut) (eq. 4) is negligible: R_top >= CUTOFF_MARGIN x R_cut (e^-50 = 2e-22).
CUTOFF_MARGIN = 50.0

#: Allowed dataset quantities (the part before "/") of the keys naming datasets.
DATASET_KINDS = {
    "propagation.normalisation_datasets": ("proton", "helium"),
    "bc.chi2_dataset": ("bc",),
    "bc.plot_datasets": ("bc",),
    "local_snr.fit_datasets": ("proton",),
    "protons.reference_dataset": ("proton",),
    "protons.plot_datasets": ("proton",),
    "candidates.catalogs": ("catalog",),
}
_KIND_WORDS = {
    "proton": "a proton spectrum",
    "helium": "a helium spectrum",
    "bc": "a B/C ratio",
    "catalog": "a catalogue",
    "gamma": "a gamma-ray SED",
}


def check(values: dict) -> None:
    """Raise :class:`ConfigError` naming the key for the first inconsistency in ``values``
    (a whole config, ``[fast]`` already merged or absent; module docstring)."""
    _propagation(values["propagation"])
    top = values["local_snr"]["fit_window_GeV"][1]
    if values["propagation"]["ekn_max_GeV"] < top:
        raise ConfigError(
            f"propagation.ekn_max_GeV: {values['propagation']['ekn_max_GeV']:g} GeV stops the background "
            f"below the top of local_snr.fit_window_GeV ({top:g} GeV); raise it or lower the window"
        )
    _dataset_kinds(values)
    _samplers(values)
    _models(values)
    check_fit_energies(values)


def _propagation(p: dict) -> None:
    if not p["r_sun_kpc"] < p["R_gal_kpc"]:
        raise ConfigError(
            f"propagation.r_sun_kpc: the Sun ({p['r_sun_kpc']:g} kpc) must lie inside the Galaxy, "
            f"r_sun_kpc < R_gal_kpc = {p['R_gal_kpc']:g}"
        )
    for key in ("z_s_kpc", "h_kpc"):
        if not p[key] < p["H_kpc"]:
            raise ConfigError(
                f"propagation.{key}: {p[key]:g} kpc must be smaller than the halo half-height H_kpc = {p['H_kpc']:g}"
            )
    if not p["ekn_min_GeV"] < p["ekn_max_GeV"]:
        raise ConfigError(
            f"propagation.ekn_min_GeV: {p['ekn_min_GeV']:g} must be smaller than ekn_max_GeV = {p['ekn_max_GeV']:g}"
        )
    # the primaries are normalised in a rigidity window (protons: R ~ Ekn there)
    if p["ekn_max_GeV"] < p["normalisation_window_GV"][1]:
        raise ConfigError(
            f"propagation.ekn_max_GeV: {p['ekn_max_GeV']:g} GeV stops the background below the top of "
            f"propagation.normalisation_window_GV ({p['normalisation_window_GV'][1]:g}); raise it"
        )
    _within("propagation.phi_MV", p["phi_MV"], PHI_RANGE_MV, "MV")
    _within("propagation.D0_cm2_s", p["D0_cm2_s"], D0_RANGE_CM2_S, "cm2/s")
    if p["n_modes"] > MAX_N_MODES:
        raise ConfigError(f"propagation.n_modes: {p['n_modes']} is above the cap {MAX_N_MODES} (memory and time)")
    if p["points_per_decade"] > MAX_POINTS_PER_DECADE:
        raise ConfigError(
            f"propagation.points_per_decade: {p['points_per_decade']} is above the cap "
            f"{MAX_POINTS_PER_DECADE} (memory and time)"
        )
    n_E = int(math.log10(p["ekn_max_GeV"] / p["ekn_min_GeV"]) * p["points_per_decade"]) + 1
    need = MAX_NUCLIDES * p["n_modes"] * n_E * 3 * 8
    if need > MAX_SOLVER_BYTES:
        raise ConfigError(
            f"propagation.n_modes: {p['n_modes']} modes x {n_E} energies need up to "
            f"{need / 2**30:.1f} GiB, above the cap {MAX_SOLVER_BYTES / 2**30:.0f} GiB: lower n_modes, "
            f"points_per_decade or the ekn_min_GeV-ekn_max_GeV range"
        )
    from crknee.errors import UnknownSpeciesError
    from crknee.kinematics import nuclide
    from crknee.propagation.network import INELASTIC_TABLES, PRODUCTION_TABLES

    try:
        nuclide(p["heaviest"])
    except UnknownSpeciesError:
        raise ConfigError(
            f"propagation.heaviest: unknown nuclide {p['heaviest']!r} (a nuclide from H to Ni, e.g. 'Fe56')"
        ) from None
    for key, known in (("production", PRODUCTION_TABLES), ("inelastic", INELASTIC_TABLES)):
        if p[key] not in known:
            raise ConfigError(f"propagation.{key}: unknown table {p[key]!r} (known: {', '.join(sorted(known))})")


def _within(key: str, value: float, bounds: tuple, unit: str) -> None:
    lo, hi = bounds
    if not lo <= value <= hi:
        raise ConfigError(f"{key}: {value:g} {unit} is outside the sane range [{lo:g}, {hi:g}] {unit}")


def _dataset_kinds(values: dict) -> None:
    for path, kinds in DATASET_KINDS.items():
        section, key = path.split(".")
        names = values[section][key]
        for name in [names] if isinstance(names, str) else names:
            _kind(path, name, kinds)
    for src, opts in values["gamma"]["sources"].items():
        for name in opts["sed"]:
            _kind(f"gamma.sources.{src}.sed", name, ("gamma",))


def _kind(path: str, name: str, kinds: tuple) -> None:
    quantity = name.partition("/")[0]
    if quantity not in kinds:
        want = " or ".join(_KIND_WORDS.get(k, k) for k in kinds)
        raise ConfigError(f"{path}: {name!r} is a {quantity} dataset; this key needs {want}")


def _samplers(values: dict) -> None:
    gamma = values["gamma"]
    if gamma["nwalkers"] * gamma["nsteps"] > MAX_SAMPLES:
        raise ConfigError(
            f"gamma.nsteps: {gamma['nwalkers']} walkers x {gamma['nsteps']} steps is above the cap "
            f"{MAX_SAMPLES:g} samples"
        )
    sampler = values.get("fit", {}).get("sampler", {})
    seed = sampler.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"fit.sampler.seed: must be an integer >= 0 (numpy SeedSequence); got {seed!r}")
    nwalkers, nsteps = sampler.get("nwalkers", 1), sampler.get("nsteps", 1)
    if isinstance(nwalkers, int) and isinstance(nsteps, int) and nwalkers * nsteps > MAX_SAMPLES:
        raise ConfigError(
            f"fit.sampler.nsteps: {nwalkers} walkers x {nsteps} steps is above the cap {MAX_SAMPLES:g} samples"
        )
    fixed = values["knee_mcmc"]["fixed_points_per_decade"]
    if fixed > MAX_FIXED_POINTS_PER_DECADE:
        raise ConfigError(f"knee_mcmc.fixed_points_per_decade: {fixed} is above the cap {MAX_FIXED_POINTS_PER_DECADE}")


def _models(values: dict) -> None:
    """Build the model objects the pipeline builds (no solving)."""
    from crknee.gamma import SourceParams
    from crknee.propagation.model import model_from_config
    from crknee.sources.catalogue import NAMED_SOURCES

    model_from_config(values["propagation"])
    for name, opts in values["gamma"]["sources"].items():
        params = {k: v for k, v in opts.items() if k not in ("sed", "refit")}
        try:
            SourceParams.from_dict({"name": name, **params})
        except CrkneeError as exc:
            raise ConfigError(f"gamma.sources.{name}: {exc}") from None
    if values["local_snr"]["name"] not in NAMED_SOURCES:
        raise ConfigError(
            f"local_snr.name: unknown source {values['local_snr']['name']!r} (known: {', '.join(NAMED_SOURCES)})"
        )


def fit_energy_top(fit: dict) -> tuple[float, str]:
    """The highest total energy per particle [GeV] the knee-source fit evaluates, and the
    dataset that sets it: each ``[[fit.datasets]]`` window's top, or, for a window
    without a finite top, the dataset's highest energy (capped at :data:`E_CEILING_GeV`);
    the ``[[fit.mock.extra]]`` energies too."""
    import numpy as np

    top, who = 0.0, ""
    for i, spec in enumerate(fit.get("datasets", [])):
        window = spec.get("window_GeV", [0.0, math.inf])
        hi = float(window[1]) if len(window) == 2 else math.inf
        if not math.isfinite(hi):
            hi = min(_dataset_top(spec["name"]), E_CEILING_GeV)
        if hi > top:
            top, who = hi, f"fit.datasets[{i}] ({spec['name']})"
    for i, extra in enumerate(fit.get("mock", {}).get("extra", [])):
        e = float(np.max(extra.get("E_GeV", [0.0])))
        if e > top:
            top, who = e, f"fit.mock.extra[{i}]"
    return top, who


def _dataset_top(name: str) -> float:
    import numpy as np

    from crknee import data

    table = data.load(name)
    if name.startswith("anisotropy/"):
        cols = [table[c] for c in ("x", "x_lo", "x_hi")]
    else:
        table = data.to_variable(table, "Etot")
        cols = [table[c] for c in ("x", "x_hi")]
    values = np.concatenate([np.atleast_1d(getattr(c, "value", c)).astype(float) for c in cols])
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else 0.0


def check_fit_energies(values: dict) -> None:
    """The background must reach the fit's top energy, or be cut off below it (issue 16).

    The fixed components of the knee-source fit (background + local SNR) are tabulated
    from 100 GeV up to the fit's highest energy per particle (:func:`fit_energy_top`).
    The background is solved up to ``ekn_max_GeV`` per nucleon (protons: E ~ ekn_max);
    above it the background contributes zero.  That is the physics only where its
    injection (eq. 4) is already cut off: ekn_max_GeV >= CUTOFF_MARGIN x Rcut_GV, i.e.
    exp(-R/R_cut) <= e^-50 (for protons R ~ E; heavier nuclei reach higher E at the same
    R).  Otherwise ``ekn_max_GeV`` must reach the fit's top energy.  The paper config
    (ekn_max = 1e8 GeV, R_cut = 200 TV) passes with its 2 EeV anisotropy window: its
    solved proton flux at 9e7 GeV is 4e-98 of its value at 1 PeV.
    """
    if "fit" not in values:
        return
    p = values["propagation"]
    top, who = fit_energy_top(values["fit"])
    needed = min(top, CUTOFF_MARGIN * p["Rcut_GV"])
    if p["ekn_max_GeV"] < needed:
        raise ConfigError(
            f"propagation.ekn_max_GeV: {p['ekn_max_GeV']:g} GeV stops the background below the fit's top energy "
            f"{top:g} GeV ({who}) where its flux is not yet cut off (R_cut = {p['Rcut_GV']:g} GV): raise "
            f"propagation.ekn_max_GeV to >= {needed:g} or lower that window"
        )
