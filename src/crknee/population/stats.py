"""Ensemble statistics of population realisations (an xarray Dataset from
:mod:`crknee.population.ensemble`): bands, dipole amplitudes, and how often one source
dominates.

Bands are empirical quantiles over realisations (median, 68 % and 95 % central
intervals): the sum of discrete sources has a heavy (stable-law) upper tail, so its mean
and standard deviation are not representative (Lee 1979, ApJ 229, 424; Genolini et al.
2017, A&A 600, A68); the exact ensemble mean is carried as ``mean_*``.  Probabilities come
with Clopper-Pearson 68 % intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import QTable
from scipy.stats import binomtest

from crknee.anisotropy import equatorial
from crknee.errors import InputError

#: Quantiles of the bands: 95 % low, 68 % low, median, 68 % high, 95 % high.
QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)
#: Columns of the per-energy summary table, per quantity.
BAND_NAMES = ("q025", "q16", "median", "q84", "q975")


def dipole_amplitudes(ds):
    """(|delta| 3D, equatorial amplitude d_perp, RA phase [deg]) per realisation and energy
    (crknee.anisotropy.equatorial: what ground arrays measure)."""
    d = ds["dipole"].values
    amp_eq, ra = equatorial(d)
    return np.linalg.norm(d, axis=-1), amp_eq, ra


def bands(values) -> np.ndarray:
    """Quantiles :data:`QUANTILES` over the first axis (realisations): shape (5, ...)."""
    return np.quantile(np.asarray(values, dtype=float), QUANTILES, axis=0)


def _energy_index(ds, E_GeV: float) -> int:
    E = ds["energy"].values
    k = int(np.argmin(np.abs(np.log(E / E_GeV))))
    if not np.isclose(E[k], E_GeV, rtol=1e-6):
        raise InputError(
            f"energy {E_GeV:g} GeV is not on the population grid {E.min():g}..{E.max():g} GeV "
            f"(nearest {E[k]:g}); choose E_min_GeV/points_per_decade to include it"
        )
    return k


@dataclass(frozen=True)
class Dominance:
    """How often one source supplies more than ``threshold`` of the flux at ``E_GeV``:
    ``probability`` with its 68 % Clopper-Pearson interval (``lo``, ``hi``), out of ``n``
    realisations; ``d_kpc``, ``age_Myr``, ``l_deg``, ``cls``, ``valid`` (diffusive regime)
    of the dominant source in each realisation where it dominates."""

    E_GeV: float
    threshold: float
    probability: float
    lo: float
    hi: float
    n: int
    d_kpc: np.ndarray
    age_Myr: np.ndarray
    l_deg: np.ndarray
    cls: np.ndarray
    valid: np.ndarray


def dominance(ds, E_GeV: float = 1.0e6, threshold: float = 0.5) -> Dominance:
    """P(brightest single source > ``threshold`` of the protons at ``E_GeV``) (default: the
    issue's question, > 50 % of the 1 PeV protons) and the dominant sources' properties."""
    if not 0.0 < threshold < 1.0:
        raise InputError(f"threshold must lie in (0, 1); got {threshold!r}")
    k = _energy_index(ds, E_GeV)
    share = ds["share_p"].values[:, k]
    hit = share > threshold
    n, m = share.size, int(hit.sum())
    ci = binomtest(m, n).proportion_ci(confidence_level=0.68, method="exact")
    pick = lambda name: ds[name].values[hit, k]  # noqa: E731
    return Dominance(
        float(E_GeV),
        float(threshold),
        m / n,
        float(ci.low),
        float(ci.high),
        n,
        pick("brightest_d_kpc"),
        pick("brightest_age_Myr"),
        pick("brightest_l_deg"),
        pick("brightest_class"),
        pick("brightest_valid").astype(bool),
    )


def summary_table(ds) -> QTable:
    """Per energy: the exact means, the bands of the proton, helium and all-particle fluxes,
    of the 3D and equatorial dipole amplitudes and of the brightest source's proton share,
    and P(share > 0.5) (ECSV-ready)."""
    funit = u.Unit(ds["flux_p"].attrs["units"])
    t = QTable({"E": ds["energy"].values * u.GeV})
    for name in ("flux_p", "flux_he", "flux_all"):
        t[f"mean_{name}"] = ds[f"mean_{name}"].values * funit
        for col, row in zip(BAND_NAMES, bands(ds[name].values)):
            t[f"{name}_{col}"] = row * funit
    amp3, amp_eq, _ = dipole_amplitudes(ds)
    mean = ds["mean_dipole"].values
    t["mean_amplitude_3d"] = np.linalg.norm(mean, axis=-1)
    t["mean_amplitude_eq"] = equatorial(mean)[0]
    for label, vals in (("amplitude_3d", amp3), ("amplitude_eq", amp_eq), ("share_p", ds["share_p"].values)):
        for col, row in zip(BAND_NAMES, bands(vals)):
            t[f"{label}_{col}"] = row
    t["p_share_p_gt_half"] = np.mean(ds["share_p"].values > 0.5, axis=0)
    t.meta.update(
        {
            "n_realisations": int(ds.sizes["realisation"]),
            "seed": ds.attrs.get("seed"),
            "description": "crknee.population ensemble summary: quantiles over realisations (q025, q16, "
            "median, q84, q975); mean_* = exact ensemble mean; fluxes LIS per total "
            "energy per particle; amplitude_eq = equatorial projection d_perp",
        }
    )
    return t
