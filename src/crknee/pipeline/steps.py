"""The steps of ``crknee reproduce``: each one calls the public API of one physics module.

No physics lives here: a step reads its config sections, calls crknee.propagation /
crknee.gamma / crknee.sources / crknee.fit / crknee.catalogs, and writes what they return
(figures through their plot functions, tables through :mod:`crknee.io`).  Each step's
summary (JSON) feeds summary.json and the report; its state feeds the steps downstream.

==============  ==========================  ==============================================
step            config sections             outputs (in DIR)
==============  ==========================  ==============================================
background      propagation, bc             figures/fig01_bc, tables/bc.ecsv, tables/lis.ecsv
gamma           propagation, gamma          figures/fig02_gamma, tables/gamma_fits.ecsv
local_snr       propagation, local_snr      tables/local_snr.ecsv
protons         gamma, protons              figures/fig03_protons, tables/protons_at_earth.ecsv
knee_mcmc       fit                         figures/fig04-09, chains/knee_mcmc.h5, tables/knee_posterior.ecsv
candidates      candidates                  figures/fig10_xrb_map, tables/candidates.ecsv
==============  ==========================  ==============================================
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

from crknee.errors import ConfigError, CrkneeError
from crknee.io import atomic_write_table
from crknee.pipeline.engine import Step, StepResult

#: config key of [propagation] -> PropagationModel field (unit = the key's suffix).
PROPAGATION_FIELDS = {
    "D0_cm2_s": ("D0", "cm2 / s"), "delta": ("delta", None), "R0_GV": ("R0", "GV"), "eta": ("eta", None),
    "vA_km_s": ("v_A", "km / s"), "Vc_km_s": ("V_c", "km / s"), "H_kpc": ("H", "kpc"),
    "R_gal_kpc": ("R_gal", "kpc"), "r_sun_kpc": ("r_sun", "kpc"), "z_s_kpc": ("z_s", "kpc"),
    "h_kpc": ("h", "kpc"), "he_to_h": ("he_to_h", None), "nu1": ("nu1", None), "nu2": ("nu2", None),
    "Rbr_GV": ("R_br", "GV"), "Rcut_GV": ("R_cut", "GV"), "reacceleration": ("reacceleration", None),
    "n_modes": ("n_modes", None), "points_per_decade": ("points_per_decade", None),
    "ekn_min_GeV": ("ekn_min", "GeV"), "ekn_max_GeV": ("ekn_max", "GeV"), "heaviest": ("heaviest", None),
    "production": ("production", None), "inelastic": ("inelastic", None),
}
#: Element fitted by a normalisation dataset, from its quantity.
ELEMENT_OF_QUANTITY = {"proton": "H", "helium": "He"}


def propagation_model(section: dict):
    """The :class:`crknee.propagation.PropagationModel` of a ``[propagation]`` section."""
    from crknee.propagation.model import PropagationModel

    kwargs = {}
    for key, (field, unit) in PROPAGATION_FIELDS.items():
        value = section[key]
        kwargs[field] = value * u.Unit(unit) if unit else value
    try:
        return PropagationModel(**kwargs)
    except CrkneeError as exc:
        field = str(exc).split()[0].split(".")[-1]
        key = next((k for k, (f, _) in PROPAGATION_FIELDS.items() if f == field), "")
        raise ConfigError(f"propagation.{key or field}: {exc}") from None


def _phi(section: dict) -> u.Quantity:
    return section["phi_MV"] * u.MV


# ------------------------------------------------------------------------------ steps
def background(ctx) -> StepResult:
    """Solve eq. 1-4 (Table 1), fit the primary normalisations, B/C chi2, Fig. 1."""
    from crknee.propagation.fitting import bc_chi2, fit_normalisations
    from crknee.propagation.solution import solve

    prop, bc = ctx.config["propagation"], ctx.config["bc"]
    model = propagation_model(prop)
    phi = _phi(prop)
    raw = solve(model, norms=np.ones(3) * u.Unit("cm-3 GeV-1 Myr-1"))
    data = [(name, ELEMENT_OF_QUANTITY[name.split("/")[0]]) for name in prop["normalisation_datasets"]]
    norm = fit_normalisations(raw, data=data, window_GV=tuple(prop["normalisation_window_GV"]), phi=phi)
    solution = raw.with_norms(norm.norms)
    chi2, npts = bc_chi2(solution, name=bc["chi2_dataset"], phi=phi)
    ndof = npts - len(prop["normalisation_datasets"])
    ekn = np.geomspace(0.1, 1.0e4, 200) * u.GeV
    table = QTable({"Ek_per_nucleon": ekn, "B_over_C_lis": solution.ratio("B", "C", ekn, "Ekn", "lis"),
                    "B_over_C_earth": solution.ratio("B", "C", ekn, "Ekn", "earth", phi)})
    table.meta.update({"phi_MV": prop["phi_MV"], "chi2": chi2, "ndof": ndof, "dataset": bc["chi2_dataset"]})
    artifacts = [atomic_write_table(table, ctx.path("tables", "bc.ecsv"))]
    artifacts += _plot_bc(ctx, solution, bc, phi)
    return StepResult(
        {"bc": {"chi2": chi2, "ndof": int(ndof)}, "bc_dataset": bc["chi2_dataset"],
         "normalisation": {"chi2": norm.chi2, "ndof": norm.ndof, "datasets": prop["normalisation_datasets"]}},
        artifacts, state=solution)


def candidates(ctx) -> StepResult:
    """Posterior (l, d) x X-ray binaries: HPD regions, ranked candidates, Fig. 10."""
    from crknee import catalogs as cat
    from crknee.plots.xrb_map import plot_xrb_map

    section = ctx.config["candidates"]
    samples = ctx.state("knee_mcmc")["samples"]
    binaries = cat.load_binaries(section["catalogs"])
    region = cat.HPDRegion(samples["l_deg"] * u.deg, samples["d_kpc"] * u.kpc, convention=section["convention"])
    result = cat.find_candidates(region, binaries, max_b=section["b_max_deg"] * u.deg)
    result.meta["posterior"] = "crknee reproduce: knee_mcmc chain (chains/knee_mcmc.h5)"
    dens = np.asarray(result["density"].to_value(u.kpc**-2), dtype=float)
    inside1 = np.isfinite(dens) & (dens >= region.thresholds_kpc2[0])
    inside2 = np.isfinite(dens) & (dens >= region.thresholds_kpc2[1])
    artifacts = [atomic_write_table(result, ctx.path("tables", "candidates.ecsv"))]
    artifacts += plot_xrb_map(result, region, cat.microquasar_positions(binaries), ctx.path("figures", "fig10_xrb_map.png"))
    return StepResult(
        {"within_1sigma": [str(n) for n in result["name"][inside1]],
         "within_2sigma": [str(n) for n in result["name"][inside2]],
         "convention": section["convention"], "masses": list(region.masses),
         "n_no_distance": int(result.meta.get("n_no_distance", 0))},
        artifacts, state=None)


STEPS = [
    Step("background", background, sections=("propagation", "bc"), modules=("crknee.propagation", "crknee.data")),
    Step("candidates", candidates, sections=("candidates",), needs=("knee_mcmc",),
         modules=("crknee.catalogs", "crknee.plots.xrb_map", "crknee.data")),
]


def check_config(config) -> None:
    """Build every step's model objects from ``config`` (no solving): a bad value is a
    ConfigError naming its key before any work starts."""
    propagation_model(config["propagation"])
