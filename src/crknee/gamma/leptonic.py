"""Is a hadronic origin required?  A leptonic (inverse-Compton) fit of the same SEDs.

Electrons with an exponential-cutoff power law, dN/dE = A (E / E0)^-alpha exp(-E / E_cut)
(``naima.models.ExponentialCutoffPowerLaw``), up-scatter three thermal photon fields
(``naima.models.InverseCompton``, full Klein-Nishina cross section, Khangulyan, Aharonian
& Kelner 2014, ApJ 783, 100, as implemented in naima; Zabalza 2015, Proc. ICRC 2015, 922):

* the CMB, T = 2.72548 K (Fixsen 2009, ApJ 707, 916), u = a T^4 = 0.26 eV cm^-3;
* dust (far infrared), T = 30 K, u = 0.5 eV cm^-3, and starlight (near infrared),
  T = 3000 K, u = 1 eV cm^-3: naima's grey bodies for the interstellar radiation field,
  of the size of the GALPROP ISRF near the Sun (Porter, Moskalenko & Strong 2006, ApJ
  648, L29; Porter et al. 2008, ApJ 682, 400).  crknee bundles no ISRF map, so the same
  fields are used at every source (the ISRF a few kpc inside the Sun's orbit is ~2x
  denser in starlight).  Above ~10 TeV the Klein-Nishina suppression makes the CMB the
  dominant target whatever the infrared fields, which is where the LHAASO points lie.
  ``fields`` replaces them.

Fit: the -2 ln L of :class:`crknee.gamma.SEDData` (the same as the hadronic fit), flat
priors alpha in [1, 4] and log10(E_cut / TeV) in [-0.5, 4.5]; a grid in (alpha, E_cut)
with a scan in log10 A (the SED is proportional to A), polished by Nelder-Mead (scipy).

Comparison: -2 ln(L_lep / L_had) = chi2_lep - chi2_had at the two maxima (positive:
the hadronic model describes the points better).  The models are not nested, so Wilks'
theorem does not give its distribution; the difference of Akaike criteria (Akaike 1974,
IEEE TAC 19, 716), AIC = chi2 + 2 k, is given beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import astropy.units as u
import naima
import numpy as np
from scipy.optimize import minimize

from crknee.errors import InputError, check_finite_positive
from crknee.gamma.fit import SED_UNIT, FitResult, SEDData

#: Seed photon fields (module docstring): naima's format [name, T, u].
FIELDS = (
    ("CMB", 2.72548 * u.K, None),
    ("FIR", 30.0 * u.K, 0.5 * u.eV / u.cm**3),
    ("NIR", 3000.0 * u.K, 1.0 * u.eV / u.cm**3),
)
#: Reference energy of the electron spectrum.
E0 = 10.0 * u.TeV
#: Flat prior bounds.
PRIOR = {"alpha": (1.0, 4.0), "log10_Ecut_TeV": (-0.5, 4.5)}
#: Electron energy range of the IC integral (naima Eemin/Eemax): photons >= 0.1 TeV
#: come from electrons >= ~0.1 TeV; the top lies 10x above the highest cutoff allowed.
E_ELECTRON = (0.1 * u.TeV, 3.0e5 * u.TeV)


def _seed(fields):
    out = []
    for name, T, dens in fields:
        out.append(name if dens is None and name == "CMB" else [name, T, dens])
    return out


@dataclass
class LeptonicResult:
    """Maximum-likelihood leptonic fit: ``alpha``, ``Ecut_TeV``, ``amplitude_per_eV``
    (electrons per eV at E0, for the source's distance), ``We_erg`` (energy of the
    fitted electrons from 1 GeV to the top of the IC integral), ``chi2``, ``n_points``,
    ``distance_kpc``, ``seconds``."""

    source: str
    alpha: float
    Ecut_TeV: float
    amplitude_per_eV: float
    We_erg: float
    chi2: float
    n_points: int
    distance_kpc: float
    seconds: float = 0.0
    n_parameters: int = 3

    def model(self, fields=FIELDS) -> naima.models.InverseCompton:
        pd = naima.models.ExponentialCutoffPowerLaw(self.amplitude_per_eV / u.eV, E0, self.alpha, self.Ecut_TeV * u.TeV)
        return naima.models.InverseCompton(
            pd, seed_photon_fields=_seed(fields), Eemin=E_ELECTRON[0], Eemax=E_ELECTRON[1]
        )

    def sed(self, E_gamma: u.Quantity, fields=FIELDS) -> u.Quantity:
        """E^2 dN/dE [erg cm^-2 s^-1] at Earth."""
        return self.model(fields).sed(E_gamma, distance=self.distance_kpc * u.kpc).to(SED_UNIT)

    def summary(self) -> dict:
        return {
            "alpha": self.alpha,
            "Ecut_TeV": self.Ecut_TeV,
            "We_erg": self.We_erg,
            "chi2": self.chi2,
            "n_points": self.n_points,
            "n_parameters": self.n_parameters,
            "seconds": self.seconds,
        }


class _ICModel:
    def __init__(self, data: SEDData, d_kpc: float, fields):
        self.data, self.d_kpc = data, d_kpc
        self.pd = naima.models.ExponentialCutoffPowerLaw(1.0 / u.eV, E0, 2.0, 100.0 * u.TeV)
        self.ic = naima.models.InverseCompton(
            self.pd, seed_photon_fields=_seed(fields), Eemin=E_ELECTRON[0], Eemax=E_ELECTRON[1]
        )
        self.E = data.E_GeV * u.GeV

    def shape(self, alpha: float, log10_ecut: float) -> np.ndarray:
        """SED [erg cm^-2 s^-1] for amplitude 1 / eV at E0."""
        self.pd.alpha = alpha
        self.pd.e_cutoff = 10.0**log10_ecut * u.TeV
        return self.ic.sed(self.E, distance=self.d_kpc * u.kpc).to_value(SED_UNIT)

    def chi2(self, theta) -> float:
        la, alpha, lec = theta
        if not (
            PRIOR["alpha"][0] <= alpha <= PRIOR["alpha"][1]
            and PRIOR["log10_Ecut_TeV"][0] <= lec <= PRIOR["log10_Ecut_TeV"][1]
        ):
            return np.inf
        return float(self.data.chi2(10.0**la * self.shape(alpha, lec)))


def fit_leptonic(data: SEDData, d_kpc: float, *, name: str = "", fields=FIELDS) -> LeptonicResult:
    """Maximum-likelihood IC fit of ``data`` for a source at ``d_kpc`` (module docstring)."""
    check_finite_positive("d_kpc", d_kpc)
    t0 = time.perf_counter()
    model = _ICModel(data, d_kpc, fields)
    alphas = np.arange(1.2, 3.81, 0.3)
    lecs = np.arange(0.0, 4.51, 0.5)
    best = (np.inf, None)
    la_scan = np.arange(-10.0, 30.0, 0.05)
    for alpha in alphas:
        for lec in lecs:
            shape = model.shape(alpha, lec)
            if not np.all(np.isfinite(shape)) or np.all(shape <= 0):
                continue
            guess = (
                np.log10(np.median(data.y[~data.upper] / np.maximum(shape[~data.upper], 1e-300)))
                if np.any(~data.upper)
                else 0.0
            )
            las = guess + la_scan[np.abs(la_scan - 10.0) <= 3.0] - 10.0
            c = data.chi2(shape[None, :] * (10.0**las)[:, None])
            k = int(np.argmin(c))
            if c[k] < best[0]:
                best = (float(c[k]), np.array([las[k], alpha, lec]))
    if best[1] is None:
        raise InputError(f"{name}: no inverse-Compton shape on the grid describes the SED points")
    res = minimize(model.chi2, best[1], method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-5, "maxiter": 2000})
    x, c = (res.x, float(res.fun)) if res.fun <= best[0] else (best[1], best[0])
    amp = 10.0 ** x[0]
    pd = naima.models.ExponentialCutoffPowerLaw(amp / u.eV, E0, x[1], 10.0 ** x[2] * u.TeV)
    ee = np.geomspace(1.0, E_ELECTRON[1].to_value(u.GeV), 400) * u.GeV
    We = np.trapezoid((ee * pd(ee)).to_value(u.erg / u.erg), ee.to_value(u.erg))
    return LeptonicResult(
        name,
        float(x[1]),
        float(10.0 ** x[2]),
        float(amp),
        float(We),
        c,
        int(data.y.size),
        float(d_kpc),
        time.perf_counter() - t0,
    )


def likelihood_ratio(hadronic: FitResult, leptonic: LeptonicResult) -> dict:
    """-2 ln(L_lep / L_had) = chi2_lep - chi2_had and the AIC difference (module docstring)."""
    if hadronic.label != "fitted":
        raise InputError(f"{hadronic.params.name}: no hadronic fit to compare ({hadronic.label})")
    k_had = 3 if hadronic.cutoff else 2
    d = leptonic.chi2 - hadronic.chi2
    return {
        "minus2_ln_L_lep_over_L_had": d,
        "delta_AIC_lep_minus_had": d + 2 * (leptonic.n_parameters - k_had),
        "chi2_hadronic": hadronic.chi2,
        "chi2_leptonic": leptonic.chi2,
        "n_points": leptonic.n_points,
        "k_hadronic": k_had,
        "k_leptonic": leptonic.n_parameters,
    }
