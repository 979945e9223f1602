"""The protons of a microquasar at Earth as a function of what the paper does not give.

Issue 12: the ratio R = J_p(1 PeV at Earth) / J_LHAASO(1 PeV) of a source whose protons
make its gamma rays depends on the target density n_H, the size a of the emitting region,
the diffusion suppression chi inside it (two-zone model, :mod:`crknee.sources.two_zone`)
and the source's age t.  This module maps R over (n_H a^2, chi) at several ages, with the
gamma-ray SED fitted at every point (L0 follows).

What depends on what (exactly, not in a limit).  The model SED is

    SED(E) = L0 n_H F(E; beta, R_cut, a, chi, t, D, d)

(:class:`crknee.gamma.HadronicSource`: N(E) is proportional to L0 through eq. 5, and
the emissivity to n_H).  At fixed a, chi and t the *shape* F does not depend on n_H, so
one fit per (chi, t) gives beta, R_cut and L0 at a reference density n_ref, and at any
other n_H the best fit is the same shape with L0 = L0(n_ref) n_ref / n_H (same chi^2).  The
protons at Earth are proportional to L0 and do not depend on n_H, so R scales as 1/n_H
along the n_H axis.  The axis is labelled n_H a^2 [cm^-3 pc^2] with a held at the region
the source's extension gives (``SourceParams.radius_kpc``), because in the diffusive
limit (sqrt(4 chi D t) >> a) F depends on a and chi only through a^2 / chi, so n_H a^2 is
the combination the data constrain; changing a itself at fixed n_H a^2 changes F outside
that limit and is not what the map shows.  chi and t change the shape (T_res(E)), so
each (chi, t) is a fit.

Sources without SED points (paper Table 2 as given): beta and L0 are fixed, no gamma-ray
constraint ties L0 to n_H, so R depends on (chi, t) only; their maps are labelled
"paper parameters, not refitted".

The documented plausible box (:data:`PLAUSIBLE`) gives the range reported beside the
default-configuration value: n_H from 0.1 to 10 times the gas model's value (the smooth
2D model averages over the clumps and cavities of the ISM), chi from 3e-3 (the HAWC
Geminga halo: D(100 TeV) = 4.5e27 cm^2/s, Abeysekara et al. 2017, Science 358, 911, vs
1.4e30 cm^2/s of eq. 2, Table 1) to 1 (no slow zone), and the age from 1/3 to 3 times the
paper's (1 Myr "typical", Ohmura et al. 2021; 20 kyr for SS 433).  The factors on n_H and
t are crknee's choices, stated in docs/gamma.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.gamma.earth import LHAASO_PROTONS, data_flux_at, two_zone_flux
from crknee.gamma.fit import LABEL_FIT, LABEL_PAPER, SEDData, maximum_likelihood
from crknee.gamma.params import NO_CUTOFF_GV, SourceParams
from crknee.gamma.source_model import HadronicSource
from crknee.modulation import PHI_PAPER
from crknee.sources.point import FLUX_UNIT
from crknee.transport import Diffusion

#: Plausible box of the reported range (module docstring): factors on the gas model's
#: n_H and on the paper's age, and chi.
PLAUSIBLE = {"n_H_factor": (0.1, 10.0), "chi": (3e-3, 1.0), "age_factor": (1.0 / 3.0, 3.0)}
#: Default map axes: n_H / n_ref and chi (40 x 40), ages as factors of the paper's.
N_H_FACTORS = np.geomspace(1e-3, 1e3, 40)
CHIS = np.geomspace(1e-3, 1.0, 40)
AGE_FACTORS = (1.0 / 3.0, 1.0, 3.0)
PC_PER_KPC = 1e3


@dataclass
class RatioMap:
    """R = protons at Earth / measured protons at ``E_GeV`` over (age, chi, n_H a^2).

    ``params``: the reference parameters (n_ref = ``params.n_H_cm3``, a, the paper's age);
    ``n_H_a2`` [cm^-3 pc^2] (a = ``params.radius_kpc``), ``chi``, ``age_Myr``: the axes;
    ``ratio_ref`` (n_age, n_chi): R at n_ref; ``L0_ref``, ``beta``, ``Rcut_GV``, ``chi2``,
    ``cutoff`` (n_age, n_chi): the fit at each point (Table 2's values for LABEL_PAPER);
    ``valid`` (n_age, n_chi): the diffusive description holds at Earth.
    """

    source: str
    label: str
    params: SourceParams
    n_H_a2: np.ndarray
    chi: np.ndarray
    age_Myr: np.ndarray
    ratio_ref: np.ndarray
    L0_ref: np.ndarray
    beta: np.ndarray
    Rcut_GV: np.ndarray
    chi2: np.ndarray
    cutoff: np.ndarray
    valid: np.ndarray
    E_GeV: float = 1e6
    seconds: float = 0.0
    plausible: dict = field(default_factory=lambda: dict(PLAUSIBLE))

    @property
    def a_pc(self) -> float:
        return self.params.radius_kpc * PC_PER_KPC

    @property
    def n_H_a2_ref(self) -> float:
        """n_ref a^2 [cm^-3 pc^2] of the reference parameters."""
        return self.params.n_H_cm3 * self.a_pc**2

    @property
    def fitted(self) -> bool:
        return self.label == LABEL_FIT

    def _scale(self, n_H_a2):
        return self.n_H_a2_ref / np.asarray(n_H_a2, dtype=float) if self.fitted else np.ones(np.shape(n_H_a2))

    @property
    def ratio(self) -> np.ndarray:
        """R on the full grid, shape (n_age, n_chi, n_n_H_a2)."""
        return self.ratio_ref[..., None] * self._scale(self.n_H_a2)

    @property
    def L0_erg_s(self) -> np.ndarray:
        """L0 [erg/s] on the full grid, shape (n_age, n_chi, n_n_H_a2)."""
        return self.L0_ref[..., None] * self._scale(self.n_H_a2)

    def n_H_a2_for_L0(self, L0_erg_s: float, i_age: int, i_chi: int) -> float:
        """n_H a^2 [cm^-3 pc^2] at which the fit at (age, chi) needs luminosity ``L0_erg_s``
        (e.g. Table 2's: where the paper's L0 lies on the map)."""
        if not self.fitted:
            raise InputError(f"{self.source}: no gamma-ray fit ({self.label}): L0 does not depend on n_H a^2")
        return float(self.n_H_a2_ref * self.L0_ref[i_age, i_chi] / L0_erg_s)

    def index(self, chi: float, age_Myr: float) -> tuple[int, int]:
        """Grid indices (age, chi) nearest to ``age_Myr`` and ``chi`` (in log)."""
        ia = int(np.argmin(np.abs(np.log(self.age_Myr / age_Myr))))
        ic = int(np.argmin(np.abs(np.log(self.chi / chi))))
        return ia, ic

    def plausible_range(self) -> tuple[float, float]:
        """(min, max) of R over the grid points inside the plausible box (n_H in
        [f_lo, f_hi] n_ref: exactly at its edges, R being proportional to 1/n_H)."""
        box = self.plausible
        age0 = self.params.age_Myr
        ages = (self.age_Myr >= box["age_factor"][0] * age0 * (1 - 1e-9)) & (
            self.age_Myr <= box["age_factor"][1] * age0 * (1 + 1e-9)
        )
        chis = (self.chi >= box["chi"][0] * (1 - 1e-9)) & (self.chi <= box["chi"][1] * (1 + 1e-9))
        r = self.ratio_ref[np.ix_(ages, chis)]
        if r.size == 0:
            raise InputError(f"{self.source}: no map point inside the plausible box {box!r}")
        if self.fitted:
            lo_f, hi_f = box["n_H_factor"]
            return float(np.min(r) / hi_f), float(np.max(r) / lo_f)
        return float(np.min(r)), float(np.max(r))

    def summary(self) -> dict:
        lo, hi = self.plausible_range()
        return {
            "source": self.source,
            "label": self.label,
            "n_H_a2_ref_cm3_pc2": self.n_H_a2_ref,
            "n_H_ref_cm3": self.params.n_H_cm3,
            "a_pc": self.a_pc,
            "range": [lo, hi],
            "plausible": {k: list(v) for k, v in self.plausible.items()},
            "seconds": self.seconds,
        }


def ratio_map(
    params: SourceParams,
    data: SEDData | None,
    *,
    n_H_factors=N_H_FACTORS,
    chis=CHIS,
    age_factors=AGE_FACTORS,
    cutoff="auto",
    diffusion: Diffusion | None = None,
    E: u.Quantity = 1 * u.PeV,
    dataset: str = LHAASO_PROTONS,
    phi: u.Quantity = PHI_PAPER,
    plausible: dict | None = None,
) -> RatioMap:
    """Map of R for the source ``params`` (two-zone, its injection; n_ref = ``params.n_H_cm3``).

    ``data``: the SED points (None: ``params``' beta and L0 as given, e.g. Table 2);
    ``n_H_factors`` x n_ref, ``chis``, ``age_factors`` x ``params.age_Myr``: the axes;
    ``cutoff``: as :func:`crknee.gamma.fit_sed`.  One maximum-likelihood fit per (age, chi)."""
    t0 = time.perf_counter()
    chis = np.asarray(chis, dtype=float)
    ages = params.age_Myr * np.asarray(age_factors, dtype=float)
    nf = np.asarray(n_H_factors, dtype=float)
    for name, v in (("chis", chis), ("age_factors", ages), ("n_H_factors", nf)):
        if v.ndim != 1 or v.size == 0 or np.any(~np.isfinite(v) | (v <= 0)):
            raise InputError(f"ratio_map: {name} must be a non-empty 1-d array of finite values > 0; got {v!r}")
    if params.n_H_cm3 <= 0:
        raise InputError(f"{params.name}: the reference density must be > 0 for a map; got {params.n_H_cm3!r}")
    diffusion = diffusion or Diffusion()
    E_GeV = float(np.atleast_1d(E.to_value(u.GeV))[0])
    J_data = data_flux_at(E_GeV * u.GeV, dataset).to_value(FLUX_UNIT)[0]
    base = params.replace(containment="two_zone")
    src = HadronicSource(base, diffusion) if data is not None else None
    shape = (ages.size, chis.size)
    out = {k: np.empty(shape) for k in ("ratio", "L0", "beta", "Rcut", "chi2")}
    cut = np.zeros(shape, dtype=bool)
    valid = np.zeros(shape, dtype=bool)
    for i, age in enumerate(ages):
        for j, chi in enumerate(chis):
            p = base.replace(age_Myr=float(age), diffusion_suppression=float(chi))
            if data is not None:
                _, x, c, use_cut, _ = maximum_likelihood(src.variant(p), data, cutoff)
                p = p.replace(
                    L0_erg_s=float(10.0 ** x[0]),
                    beta=float(x[1]),
                    Rcut_GV=float(10.0 ** x[2]) if use_cut else NO_CUTOFF_GV,
                )
                out["chi2"][i, j], cut[i, j] = c, use_cut
            else:
                out["chi2"][i, j] = np.nan
            J, ok = two_zone_flux(p, np.array([E_GeV]), diffusion, phi.to_value(u.GV))
            out["ratio"][i, j] = J[0] / J_data
            out["L0"][i, j], out["beta"][i, j], out["Rcut"][i, j], valid[i, j] = p.L0_erg_s, p.beta, p.Rcut_GV, ok[0]
    a_pc = params.radius_kpc * PC_PER_KPC
    return RatioMap(
        params.name,
        LABEL_FIT if data is not None else LABEL_PAPER,
        params,
        params.n_H_cm3 * a_pc**2 * nf,
        chis,
        ages,
        out["ratio"],
        out["L0"],
        out["beta"],
        out["Rcut"],
        out["chi2"],
        cut,
        valid,
        E_GeV,
        time.perf_counter() - t0,
        dict(plausible or PLAUSIBLE),
    )
