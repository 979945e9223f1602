"""Posterior predictive of the knee-source fit: what the posterior says a new measurement
will find (issue 17, item 7).

For posterior draws of the parameters, the model (:class:`crknee.fit.model.KneeSourceModel`,
fixed components + knee source, observed dipole) is evaluated on an energy grid and each
quantity is summarised by its 2.5, 16, 50, 84 and 97.5 % quantiles (68 and 95 % bands):
the equatorial dipole amplitude d_perp, its right ascension, and the proton, helium and
all-particle intensities at Earth.  The phase is an angle: its quantiles are taken on the
circle cut opposite the draws' circular mean at each energy and wrapped back into
[0, 360), so a band that straddles RA = 0 is not torn apart.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

#: Quantiles [%] of the bands: 95 % (2.5, 97.5), 68 % (16, 84) and the median.
QUANTILES = (2.5, 16.0, 50.0, 84.0, 97.5)
#: Column suffixes of :data:`QUANTILES`.
SUFFIXES = ("p2.5", "p16", "p50", "p84", "p97.5")
FLUX_UNIT = u.Unit("m-2 s-1 sr-1 GeV-1")


def circular_quantiles(phase_deg, q=QUANTILES, axis: int = 0) -> np.ndarray:
    """Quantiles [deg, in [0, 360)] of angles along ``axis``, measured on the circle cut
    opposite their circular mean (NaN where every draw is NaN)."""
    ph = np.radians(np.asarray(phase_deg, dtype=float))
    mean = np.arctan2(np.nanmean(np.sin(ph), axis=axis), np.nanmean(np.cos(ph), axis=axis))
    rel = np.mod(ph - np.expand_dims(mean, axis) + np.pi, 2 * np.pi) - np.pi
    qs = np.nanpercentile(rel, q, axis=axis) + mean
    return np.mod(np.degrees(qs), 360.0)


def posterior_predictive(model, parameters, samples, E_GeV, n_draws: int = 300, seed: int = 0) -> QTable:
    """The posterior predictive bands on total energies per particle ``E_GeV`` (GeV) from
    ``n_draws`` posterior ``samples`` (free parameters, as the chain stores them) drawn with
    ``numpy.random.default_rng(seed)``: one row per energy, columns ``<quantity>_<pXX>``
    for d_perp (fraction), phase_deg (RA), J_H, J_He, J_all (m^-2 s^-1 sr^-1 GeV^-1)."""
    samples = np.atleast_2d(np.asarray(samples, dtype=float))
    E = np.asarray(E_GeV, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.choice(samples.shape[0], size=min(n_draws, samples.shape[0]), replace=False)
    ev = model.evaluate(parameters.full(samples[idx]), E)
    table = QTable({"E": E * u.GeV})
    for name, values, unit in (
        ("d_perp", ev["amplitude"], u.one),
        ("J_H", ev.get("total:H"), FLUX_UNIT),
        ("J_He", ev.get("total:He"), FLUX_UNIT),
        ("J_all", ev["total:all"], FLUX_UNIT),
    ):
        if values is None:
            continue
        bands = np.nanpercentile(values, QUANTILES, axis=0)
        for suffix, band in zip(SUFFIXES, bands):
            table[f"{name}_{suffix}"] = band * unit
    for suffix, band in zip(SUFFIXES, circular_quantiles(ev["phase"])):
        table[f"phase_deg_{suffix}"] = band * u.deg
    table.meta.update(
        {
            "description": "posterior predictive of the knee-source fit: 68 % (p16-p84) and 95 % (p2.5-p97.5) bands",
            "n_draws": int(idx.size),
            "seed": int(seed),
            "energy": "total energy per particle",
            "dipole": "observed total dipole (fixed components + knee source), equatorial amplitude d_perp and RA",
            "phase_quantiles": "on the circle cut opposite the draws' circular mean, wrapped into [0, 360)",
        }
    )
    return table
