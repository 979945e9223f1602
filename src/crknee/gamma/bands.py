"""Sec. 3 as an honest constraint: per source, the ratio map, its plausible range, the
bands of Fig. 2 and Fig. 3, and the leptonic alternative (issue 12).

:func:`knee_constraints` runs, for each source of a Sec. 3 analysis (a dict of
:class:`crknee.gamma.FitResult`): the ratio map of :mod:`crknee.gamma.maps` (fitted
sources: on their SED points; Table 2 sources: their fixed beta, L0), the plausible
range of the ratio, and for fitted sources the leptonic fit of
:mod:`crknee.gamma.leptonic` with the likelihood ratio.  The bands:

* :func:`sed_envelope` (Fig. 2): the envelope of the best-fit hadronic SEDs over the
  (chi, age) points of the plausible box (n_H does not change the best-fit SED: only L0);
* :func:`earth_band` (Fig. 3): the envelope of the protons at Earth over the box: the
  flux of each (chi, age) fit scaled by n_ref / n_H at the box's n_H edges (exact, the
  flux being proportional to L0 and L0 to 1/n_H).
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np

import crknee.data
from crknee.gamma.earth import proton_kinematics, two_zone_flux_from_density
from crknee.gamma.fit import LABEL_FIT, SED_UNIT, FitResult, SEDData
from crknee.gamma.leptonic import LeptonicResult, fit_leptonic, likelihood_ratio
from crknee.gamma.maps import AGE_FACTORS, CHIS, N_H_FACTORS, RatioMap, ratio_map
from crknee.gamma.source_model import HadronicSource
from crknee.modulation import PHI_PAPER
from crknee.sources import two_zone
from crknee.sources.point import FLUX_UNIT
from crknee.transport import Diffusion


@dataclass
class KneeConstraint:
    """One source: ``map`` (RatioMap), ``range`` (min, max) of the ratio in the plausible
    box, ``leptonic`` (LeptonicResult or None) and ``likelihood_ratio`` (dict or None)."""

    map: RatioMap
    range: tuple[float, float]
    leptonic: LeptonicResult | None = None
    likelihood_ratio: dict | None = None

    def summary(self) -> dict:
        return {
            **self.map.summary(),
            "leptonic": None if self.leptonic is None else self.leptonic.summary(),
            "likelihood_ratio": self.likelihood_ratio,
        }


def _box_points(m: RatioMap):
    box = m.plausible
    age0 = m.params.age_Myr
    ia = np.flatnonzero(
        (m.age_Myr >= box["age_factor"][0] * age0 * (1 - 1e-9))
        & (m.age_Myr <= box["age_factor"][1] * age0 * (1 + 1e-9))
    )
    ic = np.flatnonzero((m.chi >= box["chi"][0] * (1 - 1e-9)) & (m.chi <= box["chi"][1] * (1 + 1e-9)))
    return [(i, j) for i in ia for j in ic]


def _fit_params(m: RatioMap, i: int, j: int):
    return m.params.replace(
        containment="two_zone",
        age_Myr=float(m.age_Myr[i]),
        diffusion_suppression=float(m.chi[j]),
        L0_erg_s=float(m.L0_ref[i, j]),
        beta=float(m.beta[i, j]),
        Rcut_GV=float(m.Rcut_GV[i, j]),
    )


def sed_envelope(m: RatioMap, E_gamma: u.Quantity, diffusion: Diffusion | None = None) -> tuple[u.Quantity, u.Quantity]:
    """(lower, upper) envelope [erg cm^-2 s^-1] of the best-fit SEDs over the box."""
    Eg = np.atleast_1d(E_gamma.to_value(u.GeV))
    base = HadronicSource(m.params.replace(containment="two_zone"), diffusion)
    seds = []
    for i, j in _box_points(m):
        p = _fit_params(m, i, j)
        src = base.variant(p)
        seds.append(src.protons_per_GeV(p.L0_erg_s, p.beta, p.Rcut_GV) @ src.sed_kernel(Eg).T)
    seds = np.array(seds)
    return seds.min(axis=0) * SED_UNIT, seds.max(axis=0) * SED_UNIT


def earth_band(
    m: RatioMap, E: u.Quantity, diffusion: Diffusion | None = None, phi: u.Quantity = PHI_PAPER, n_energies: int = 40
) -> tuple[u.Quantity, u.Quantity]:
    """(lower, upper) envelope of the protons at Earth [m^-2 s^-1 sr^-1 GeV^-1] over the
    box, computed on ``n_energies`` log-spaced energies and interpolated in log-log (the
    two-zone density of all chi of one age in one call)."""
    E_GeV = np.atleast_1d(E.to_value(u.GeV))
    grid = np.geomspace(E_GeV.min(), E_GeV.max(), n_energies)
    kin = proton_kinematics(grid, diffusion, phi.to_value(u.GV))
    points = _box_points(m)
    J = []
    for i in sorted({i for i, _ in points}):
        js = [j for a, j in points if a == i]
        G = two_zone.density_at(
            m.params.d_kpc,
            m.params.radius_kpc,
            float(m.age_Myr[i]),
            kin[4][:, None],
            m.chi[js][None, :],
            m.params.injection,
        )
        J += [two_zone_flux_from_density(_fit_params(m, i, j), kin, G[:, k]) for k, j in enumerate(js)]
    J = np.array(J)
    lo, hi = J.min(axis=0), J.max(axis=0)
    if m.fitted:
        f_lo, f_hi = m.plausible["n_H_factor"]
        lo, hi = lo / f_hi, hi / f_lo
    tiny = 1e-300
    interp = [np.exp(np.interp(np.log(E_GeV), np.log(grid), np.log(np.maximum(b, tiny)))) for b in (lo, hi)]
    return tuple(np.where(b > tiny, b, 0.0) * FLUX_UNIT for b in interp)


def map_options(section: dict) -> dict:
    """Keyword arguments of :func:`knee_constraints` from the configuration's ``[gamma]``
    (``map_chi_points``, ``map_n_H_points``, ``plausible_*``, ``leptonic``; validated by
    crknee.config): chi from 1e-3 to 1 plus the box's edges, n_H from 1e-3 to 1e3 times
    the reference, and the ages at the box's edges and the paper's value."""
    lo_a, hi_a = section["plausible_age_factor"]
    box_chi = [c for c in section["plausible_chi"] if 1e-3 <= c <= 1.0]  # the box's edges are on the grid
    return {
        "chis": np.unique(np.concatenate([np.geomspace(1e-3, 1.0, section["map_chi_points"]), box_chi])),
        "n_H_factors": np.geomspace(1e-3, 1e3, section["map_n_H_points"]),
        "age_factors": tuple(sorted({lo_a, 1.0, hi_a})),
        "plausible": {
            "chi": tuple(section["plausible_chi"]),
            "n_H_factor": tuple(section["plausible_n_H_factor"]),
            "age_factor": (lo_a, hi_a),
        },
        "leptonic": bool(section["leptonic"]),
    }


def knee_constraints(
    results: dict[str, FitResult],
    *,
    diffusion: Diffusion | None = None,
    n_H_factors=N_H_FACTORS,
    chis=CHIS,
    age_factors=AGE_FACTORS,
    plausible: dict | None = None,
    cutoff="auto",
    leptonic: bool = True,
) -> dict[str, KneeConstraint]:
    """:class:`KneeConstraint` of every source of ``results`` (module docstring).  The
    reference parameters of each map are the result's (n_H, region, age, injection; beta
    and L0 are refitted at every point for fitted sources)."""
    out = {}
    for name, res in results.items():
        data = SEDData.from_tables([crknee.data.load(n) for n in res.datasets]) if res.label == LABEL_FIT else None
        m = ratio_map(
            res.params,
            data,
            n_H_factors=n_H_factors,
            chis=chis,
            age_factors=age_factors,
            cutoff=cutoff,
            diffusion=diffusion,
            plausible=plausible,
        )
        lep = lr = None
        if data is not None and leptonic:
            lep = fit_leptonic(data, res.params.d_kpc, name=name)
            lr = likelihood_ratio(res, lep)
        out[name] = KneeConstraint(m, m.plausible_range(), lep, lr)
    return out
