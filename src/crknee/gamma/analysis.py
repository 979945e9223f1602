"""Sec. 3 of the paper end to end: SED fits (or Table 2) and the protons at Earth.

Which SED points a source gets: every crknee dataset of quantity ``gamma`` whose
``meta["source"]`` is the source's name (bundled or added by the user with
``crknee data add FILE gamma``), except :data:`SUBREGIONS`, the HAWC northern and southern
components of V4641 Sgr, already contained in its whole-source HAWC spectrum.  Bundled
today: V4641 Sgr (LHAASO, HAWC, H.E.S.S.) and SS 433 (H.E.S.S. east and west jet
regions, HAWC east and west lobes at 20 TeV: the one-region model stands for one lobe).
The paper fits LHAASO points of all four sources, which are not bundled
(shared/data/SOURCES-other.md).  A source with no points keeps its Table 2 parameters
and is labelled "paper parameters, not refitted"; as soon as a user adds an SED for it
(any file ``crknee data add FILE --quantity gamma`` accepts, CSV or ECSV, with meta
``source`` = its name) it is fitted like the others (``datasets`` None or empty: every
dataset of the source).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

import crknee.data
from crknee.gamma.earth import ratio_to_data
from crknee.gamma.fit import FitResult, SEDData, fit_sed, paper_result
from crknee.gamma.params import PAPER_SOURCES, SourceParams, defaults
from crknee.gamma.source_model import HadronicSource

#: Datasets that are parts of another dataset of the same source (not fitted jointly).
SUBREGIONS = ("gamma/V4641Sgr_HAWC_northern", "gamma/V4641Sgr_HAWC_southern")


def datasets_for(name: str) -> list[str]:
    """Names of the gamma SED datasets fitted for source ``name``."""
    return [
        n for n in crknee.data.names("gamma") if n not in SUBREGIONS and crknee.data.load(n).meta.get("source") == name
    ]


def analyse(
    name: str, params: SourceParams | None = None, datasets=None, refit: bool = True, **fit_kwargs
) -> FitResult:
    """Fit source ``name`` to its SED points (``datasets``; None or empty: :func:`datasets_for`),
    or return its given parameters if it has none or ``refit`` is False."""
    params = params or defaults(name)
    names = list(datasets) if datasets else datasets_for(name)
    if not names or not refit:
        return paper_result(params)
    return fit_sed(params, SEDData.from_tables([crknee.data.load(n) for n in names]), **fit_kwargs)


def analyse_all(sources=PAPER_SOURCES, overrides: dict | None = None, **fit_kwargs) -> dict[str, FitResult]:
    """:func:`analyse` for each source.  ``overrides`` maps a name to the keys of the
    configuration's ``[gamma.sources.<name>]``: any :class:`SourceParams` field, plus
    ``sed`` (dataset names) and ``refit`` (bool)."""
    overrides = overrides or {}
    out = {}
    for name in sources:
        opts = dict(overrides.get(name, {}))
        datasets, refit = opts.pop("sed", None), opts.pop("refit", True)
        params = SourceParams.from_dict({"name": name, **opts})
        out[name] = analyse(name, params, datasets, refit, **fit_kwargs)
    return out


def knee_ratios(results: dict[str, FitResult], E: u.Quantity = 1 * u.PeV) -> dict[str, float]:
    """Proton flux at Earth of each result over LHAASO's measured protons at ``E``."""
    return {name: ratio_to_data(r.params, E) for name, r in results.items()}


def knee_ratio_per_gamma_flux(
    params: SourceParams, E: u.Quantity = 1 * u.PeV, E_gamma: u.Quantity = 100 * u.TeV
) -> u.Quantity:
    """(protons at Earth / LHAASO protons at ``E``) per unit model SED at ``E_gamma``
    [1 / (erg cm^-2 s^-1)]: independent of L0, so a measured SED at ``E_gamma`` times this
    gives the knee contribution allowed by the gamma rays.  Used for Cyg X-1, whose
    points are not bundled, to compare diffusion suppressions at fixed gamma-ray flux."""
    sed = HadronicSource(params).sed(np.atleast_1d(E_gamma.to(u.GeV)))[0]
    return ratio_to_data(params, E) / sed
