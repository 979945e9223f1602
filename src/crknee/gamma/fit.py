"""Fit of (L0, beta[, R_cut]) of a hadronic source to gamma-ray SED points (paper Fig. 2).

Likelihood (-2 ln L, "chi^2"):

* flux points: ((m - y) / sigma)^2 with sigma = y_err_hi where the model m lies above the
  point and y_err_lo below (the two-sided Gaussian treatment of asymmetric errors, one of
  those discussed by Barlow 2003, arXiv:physics/0306138);
* upper limits U: the flux is taken Gaussian with mean m and width U / z (z = 2 for the
  95 % limits; H.E.S.S. files quote UL_CONF = 0.9545, HAWC's confidence is not stated in
  the bundled file and 95 % is assumed), and the term is -2 ln Phi((U - m) / (U / z)) + 2
  ln Phi(z) (zero for a vanishing model; the error-function treatment of limits of
  Sawicki 2012, PASP 124, 1208).

Parameters and flat priors: log10(L0 / erg s^-1) in [30, 46]; beta in [1, 4] (the
domain of crknee.sources.injection's normalisation table); log10(R_cut / GV) in [3, 9]
when the cutoff is free.  ``cutoff="auto"`` keeps the cutoff only if it lowers the minimum
chi^2 by >= 3.84 (likelihood-ratio test, 1 parameter, 95 %).  The minimum comes from a
grid in beta with Nelder-Mead polishing (scipy); the uncertainties from emcee
(Foreman-Mackey et al. 2013, PASP 125, 306): medians and 16/84 % quantiles.  Every model
evaluation is one (walkers x protons) @ (protons x points) product
(:meth:`crknee.gamma.source_model.HadronicSource.sed_kernel`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import astropy.units as u
import emcee
import numpy as np
from scipy.optimize import minimize
from scipy.special import log_ndtr

from crknee.errors import InputError
from crknee.gamma.params import NO_CUTOFF_GV, SourceParams
from crknee.gamma.source_model import HadronicSource

#: Flat prior bounds (see the module docstring).
PRIOR = {"log10_L0": (30.0, 46.0), "beta": (1.0, 4.0), "log10_Rcut": (3.0, 9.0)}
#: Likelihood-ratio threshold for keeping a cutoff (chi^2 with 1 dof, 95 %).
CUTOFF_DCHI2 = 3.84
#: Upper limits are read as z-sigma limits.
UL_SIGMA = 2.0
SED_UNIT = u.erg / u.cm**2 / u.s
LABEL_FIT = "fitted"
LABEL_PAPER = "paper parameters, not refitted"


@dataclass(frozen=True)
class SEDData:
    """SED points in float units: E [GeV], y and errors [erg cm^-2 s^-1], upper-limit mask."""

    E_GeV: np.ndarray
    y: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    upper: np.ndarray
    names: tuple[str, ...] = ()

    @classmethod
    def from_tables(cls, tables) -> SEDData:
        """Concatenate crknee gamma tables (x [energy], y, y_err_lo, y_err_hi [erg cm^-2 s^-1],
        upper_limit).  Raises InputError for an empty SED or wrong units."""
        tables = list(tables)
        if not tables or sum(len(t) for t in tables) == 0:
            raise InputError(f"empty SED: no points in {[t.meta.get('name') for t in tables]!r}")
        cols = {k: [] for k in ("E", "y", "lo", "hi", "ul")}
        for t in tables:
            name = t.meta.get("name", "?")
            try:
                cols["E"].append(u.Quantity(t["x"]).to_value(u.GeV))
                for key, col in (("y", "y"), ("lo", "y_err_lo"), ("hi", "y_err_hi")):
                    cols[key].append(u.Quantity(t[col]).to_value(SED_UNIT))
            except (KeyError, u.UnitConversionError, u.UnitsError) as exc:
                raise InputError(
                    f"SED {name!r}: needs x [energy] and y, y_err_lo, y_err_hi in erg cm^-2 s^-1: {exc}"
                ) from exc
            cols["ul"].append(np.asarray(t["upper_limit"], dtype=bool))
        E, y, lo, hi, ul = (np.concatenate(cols[k]).astype(float if k != "ul" else bool) for k in cols)
        if np.any(~np.isfinite(E) | (E <= 0)) or np.any(~np.isfinite(y) | (y <= 0)):
            raise InputError(f"SED energies and fluxes must be finite and > 0; got E={E!r}, y={y!r}")
        det = ~ul
        if np.any(~np.isfinite(lo[det]) | (lo[det] <= 0) | ~np.isfinite(hi[det]) | (hi[det] <= 0)):
            raise InputError(f"SED flux points need finite errors > 0; got lo={lo[det]!r}, hi={hi[det]!r}")
        return cls(E, y, lo, hi, ul, tuple(t.meta.get("name", "?") for t in tables))

    def chi2(self, model) -> np.ndarray:
        """-2 ln L (module docstring) of ``model`` [erg cm^-2 s^-1], shape (..., n_points)."""
        m = np.asarray(model, dtype=float)
        det = ~self.upper
        sig = np.where(m[..., det] > self.y[det], self.err_hi[det], self.err_lo[det])
        c = np.sum(((m[..., det] - self.y[det]) / sig) ** 2, axis=-1)
        if np.any(self.upper):
            U = self.y[self.upper]
            c = c - 2.0 * np.sum(log_ndtr((U - m[..., self.upper]) / (U / UL_SIGMA)) - log_ndtr(UL_SIGMA), axis=-1)
        return c


@dataclass
class FitResult:
    """Outcome of a fit (or the paper's parameters when ``label`` is LABEL_PAPER).

    ``params``: best (maximum-likelihood) parameters; ``median``/``err_lo``/``err_hi``:
    posterior medians and 16/84 % distances, keyed by parameter; ``chi2``: minimum
    -2 ln L; ``n_points`` (including ``n_upper`` limits); ``samples``: flat chain
    (log10 L0, beta[, log10 Rcut]); ``dchi2_cutoff``: chi^2(no cutoff) - chi^2(cutoff).
    """

    params: SourceParams
    label: str
    datasets: tuple[str, ...] = ()
    chi2: float = float("nan")
    n_points: int = 0
    n_upper: int = 0
    cutoff: bool = False
    dchi2_cutoff: float = float("nan")
    median: dict = field(default_factory=dict)
    err_lo: dict = field(default_factory=dict)
    err_hi: dict = field(default_factory=dict)
    samples: np.ndarray | None = None
    seconds: float = 0.0

    @property
    def ndof(self) -> int:
        return self.n_points - (3 if self.cutoff else 2)

    def summary(self) -> dict:
        """JSON-ready dictionary of the result."""
        out = {
            "source": self.params.name,
            "label": self.label,
            "datasets": list(self.datasets),
            "beta": self.params.beta,
            "L0_erg_s": self.params.L0_erg_s,
            "Rcut_GV": self.params.Rcut_GV if self.cutoff else None,
            "chi2": self.chi2 if self.label == LABEL_FIT else None,
            "n_points": self.n_points,
            "n_upper": self.n_upper,
            "ndof": self.ndof if self.label == LABEL_FIT else None,
            "dchi2_cutoff": None if np.isnan(self.dchi2_cutoff) else self.dchi2_cutoff,
            "seconds": self.seconds,
        }
        out["posterior"] = {
            k: {"median": self.median[k], "minus": self.err_lo[k], "plus": self.err_hi[k]} for k in self.median
        }
        return out


class _Model:
    """Vectorised SED model on the data energies for theta = (log10 L0, beta[, log10 Rcut])."""

    def __init__(self, source: HadronicSource, data: SEDData, cutoff: bool):
        self.source, self.data, self.cutoff = source, data, cutoff
        self.M = source.sed_kernel(data.E_GeV)
        self.lo = np.array([PRIOR["log10_L0"][0], PRIOR["beta"][0]] + ([PRIOR["log10_Rcut"][0]] if cutoff else []))
        self.hi = np.array([PRIOR["log10_L0"][1], PRIOR["beta"][1]] + ([PRIOR["log10_Rcut"][1]] if cutoff else []))

    def sed(self, theta) -> np.ndarray:
        th = np.asarray(theta, dtype=float)
        rc = 10.0 ** th[..., 2] if self.cutoff else NO_CUTOFF_GV
        N = self.source.protons_per_GeV(10.0 ** th[..., 0], th[..., 1], rc)
        return N @ self.M.T

    def chi2(self, theta) -> np.ndarray:
        th = np.asarray(theta, dtype=float)
        inside = np.all((th >= self.lo) & (th <= self.hi), axis=-1)
        out = np.full(th.shape[:-1], np.inf)
        if np.any(inside):
            out[inside] = self.data.chi2(self.sed(th[inside]))
        return out

    def log_prob(self, theta) -> np.ndarray:
        return -0.5 * self.chi2(theta)

    def minimise(self) -> tuple[np.ndarray, float]:
        """Global-then-local minimum of chi^2: a grid in (beta[, log10 Rcut]) times a scan
        in log10 L0 (the SED is proportional to L0), polished by Nelder-Mead."""
        betas = np.arange(1.1, 3.95, 0.1)
        lrc = np.arange(3.5, 9.0, 0.25) if self.cutoff else np.array([np.nan])
        B, RC = (a.ravel() for a in np.meshgrid(betas, lrc, indexing="ij"))
        shapes = self.sed(np.stack([np.zeros_like(B), B] + ([RC] if self.cutoff else []), axis=-1))
        lL = np.arange(PRIOR["log10_L0"][0], PRIOR["log10_L0"][1], 0.05)
        c = self.data.chi2(shapes[:, None, :] * (10.0**lL)[None, :, None])
        i, j = np.unravel_index(np.argmin(c), c.shape)
        start = np.array([lL[j], B[i]] + ([RC[i]] if self.cutoff else []))
        res = minimize(
            lambda t: float(self.chi2(t[None, :])[0]),
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-5, "fatol": 1e-6, "maxiter": 4000},
        )
        return res.x, float(res.fun)


def maximum_likelihood(source: HadronicSource, data: SEDData, cutoff="auto"):
    """The maximum-likelihood (L0, beta[, R_cut]) of ``source``'s model for ``data``:
    returns (model, theta, chi2, use_cutoff, dchi2_cutoff); ``cutoff`` "auto" | True | False."""
    if cutoff not in ("auto", True, False):
        raise InputError(f"cutoff must be 'auto', True or False; got {cutoff!r}")
    fits = {}
    for cut in (False, True) if cutoff == "auto" else (bool(cutoff),):
        model = _Model(source, data, cut)
        fits[cut] = (model, *model.minimise())
    dchi2 = fits[False][2] - fits[True][2] if len(fits) == 2 else float("nan")
    use_cut = bool(cutoff) if cutoff != "auto" else dchi2 >= CUTOFF_DCHI2
    model, x, c = fits[use_cut]
    return model, x, c, use_cut, dchi2


def fit_sed(
    params: SourceParams,
    data: SEDData,
    *,
    cutoff="auto",
    nwalkers: int = 24,
    nsteps: int = 1200,
    burn: int = 400,
    seed: int = 1,
    source: HadronicSource | None = None,
    sample: bool = True,
) -> FitResult:
    """Fit L0, beta (and R_cut per ``cutoff``: "auto" | True | False) of ``params`` to ``data``;
    ``sample=False`` stops at the maximum likelihood (no posterior: the maps of
    :mod:`crknee.gamma.maps` fit thousands of models)."""
    if nsteps <= burn or nwalkers < 8:
        raise InputError(
            f"need nsteps > burn and nwalkers >= 8; got nsteps={nsteps!r}, burn={burn!r}, nwalkers={nwalkers!r}"
        )
    t0 = time.perf_counter()
    source = source or HadronicSource(params)
    model, x, c, use_cut, dchi2 = maximum_likelihood(source, data, cutoff)
    names = ["log10_L0", "beta"] + (["log10_Rcut"] if use_cut else [])
    chain, median, minus, plus = None, {}, {}, {}
    if sample:
        rng = np.random.default_rng(seed)
        ndim = x.size
        p0 = x + 1e-3 * rng.standard_normal((nwalkers, ndim))
        p0 = np.clip(p0, model.lo + 1e-9, model.hi - 1e-9)
        sampler = emcee.EnsembleSampler(nwalkers, ndim, model.log_prob, vectorize=True)
        sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
        sampler.run_mcmc(p0, nsteps, progress=False)
        chain = sampler.get_chain(discard=burn, flat=True)
        lp = sampler.get_log_prob(discard=burn, flat=True)
        if -2.0 * lp.max() < c:  # the chain found a slightly better point
            x, c = chain[np.argmax(lp)], float(-2.0 * lp.max())
        q16, q50, q84 = np.percentile(chain, [16, 50, 84], axis=0)
        median = {k: float(q50[i]) for i, k in enumerate(names)}
        minus = {k: float(q50[i] - q16[i]) for i, k in enumerate(names)}
        plus = {k: float(q84[i] - q50[i]) for i, k in enumerate(names)}
    best = params.replace(
        L0_erg_s=float(10.0 ** x[0]),
        beta=float(x[1]),
        Rcut_GV=float(10.0 ** x[2]) if use_cut else NO_CUTOFF_GV,
        table2=False,
    )
    return FitResult(
        best,
        LABEL_FIT,
        data.names,
        c,
        int(data.y.size),
        int(np.sum(data.upper)),
        use_cut,
        dchi2,
        median,
        minus,
        plus,
        chain,
        time.perf_counter() - t0,
    )


def paper_result(params: SourceParams) -> FitResult:
    """Table 2's parameters taken as given (sources without SED points)."""
    return FitResult(params, LABEL_PAPER)


def sed_band(
    result: FitResult, E_gamma: u.Quantity, n_draws: int = 200, seed: int = 2, source: HadronicSource | None = None
) -> tuple[u.Quantity, u.Quantity, u.Quantity]:
    """(16 %, best, 84 %) SED bands [erg cm^-2 s^-1] at ``E_gamma`` from the posterior
    (the three coincide for LABEL_PAPER results)."""
    source = source or HadronicSource(result.params)
    Eg = np.atleast_1d(E_gamma.to_value(u.GeV))
    M = source.sed_kernel(Eg)
    p = result.params
    best = source.protons_per_GeV(p.L0_erg_s, p.beta, p.Rcut_GV) @ M.T
    if result.samples is None:
        return best * SED_UNIT, best * SED_UNIT, best * SED_UNIT
    rng = np.random.default_rng(seed)
    th = result.samples[rng.choice(len(result.samples), size=min(n_draws, len(result.samples)), replace=False)]
    rc = 10.0 ** th[:, 2] if result.cutoff else NO_CUTOFF_GV
    draws = source.protons_per_GeV(10.0 ** th[:, 0], th[:, 1], rc) @ M.T
    lo, hi = np.percentile(draws, [16, 84], axis=0)
    return lo * SED_UNIT, best * SED_UNIT, hi * SED_UNIT
