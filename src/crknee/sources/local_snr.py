"""Fit of the local SNR (paper Sec. 2.2-3): the burst source that makes the proton
hardening near 200 GeV and softening near 14 TeV (AMS-02: Aguilar et al. 2015, PRL 114,
171103; DAMPE: An et al. 2019, Sci. Adv. 5, eaax3793).

The model at Earth is background + local SNR (eq. 5-6, burst, protons; force-field
modulated with the paper's 550 MV).  The background is an input (array on the data
energies or a callable of E [GeV]), so the fit does not need the propagation solver.
Free parameters: log10 W [erg], beta, log10 Rcut [GV], distance within the catalogue's
range (parallax 1-sigma interval of the candidate) and age within
``AGE_RANGE_FACTORS`` x the characteristic age (a pulsar's characteristic age estimates
the true age to a factor of order unity: Lorimer & Kramer 2005, Handbook of Pulsar
Astronomy, sec. 3.1.1).  Minimises chi^2 with scipy.optimize.least_squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from scipy.optimize import least_squares

from crknee.errors import InputError
from crknee.modulation import PHI_PAPER
from crknee.sources.catalogue import LOCAL_SNR, NAMED_SOURCES, CatalogueEntry
from crknee.sources.injection import PROTONS, Composition
from crknee.sources.point import FLUX_UNIT, PointSource
from crknee.transport import Diffusion
from crknee.units import convert_fields, value_in

#: Age range searched, as factors of the catalogue (characteristic) age.
AGE_RANGE_FACTORS = (0.5, 1.5)
#: Search box of the spectral parameters: log10 W [erg], beta, log10 Rcut [GV].  beta >= 1.5
#: is the hardest momentum spectrum of nonlinear shock acceleration (total compression
#: ratio 7 for a gamma = 5/3 gas + escape: Malkov & Drury 2001, Rep. Prog. Phys. 64, 429).
LOG10_ENERGY_RANGE = (46.0, 52.0)
BETA_RANGE = (1.5, 3.5)
LOG10_RCUT_RANGE = (2.0, 7.0)


@dataclass(frozen=True)
class AnisotropyConstraint:
    """Dipole data for the fit: at total energies ``E_GeV`` (N,), the measured equatorial
    ``amplitude`` and its error, the RA ``phase_deg`` and its error (NaN: not used),
    and the rest of the model there: ``other_flux`` (N,) all-particle flux
    [m^-2 s^-1 sr^-1 GeV^-1] and ``other_dipole`` (N, 3) (background + other sources,
    e.g. from :func:`crknee.anisotropy.solution_dipole`)."""

    E_GeV: np.ndarray
    amplitude: np.ndarray
    amplitude_err: np.ndarray
    phase_deg: np.ndarray
    phase_err_deg: np.ndarray
    other_flux: np.ndarray
    other_dipole: np.ndarray

    #: Documented unit of each dimensional field (a Quantity is converted to it).
    UNITS = {
        "E_GeV": "GeV",
        "amplitude": "",
        "amplitude_err": "",
        "phase_deg": ("deg", "finite-or-nan"),
        "phase_err_deg": ("deg", "finite-or-nan"),
        "other_flux": FLUX_UNIT,
        "other_dipole": "",
    }

    def __post_init__(self):
        convert_fields(self, self.UNITS)
        n = np.shape(self.E_GeV)
        shapes = [
            np.shape(getattr(self, f))
            for f in ("amplitude", "amplitude_err", "phase_deg", "phase_err_deg", "other_flux")
        ]
        if len(n) != 1 or any(sh != n for sh in shapes) or np.shape(self.other_dipole) != n + (3,):
            raise InputError(
                f"anisotropy arrays must share one length N (dipole (N, 3)); got {n}, {shapes}, "
                f"{np.shape(self.other_dipole)}"
            )
        if np.any(~(np.asarray(self.amplitude_err) > 0)):
            raise InputError(f"anisotropy amplitude errors must be > 0; got {self.amplitude_err!r}")

    def residuals(self, source: PointSource) -> np.ndarray:
        """Amplitude and (where given) wrapped phase residuals of background + ``source``."""
        from crknee.anisotropy import combine, equatorial

        J, d, _ = source.evaluate(self.E_GeV, "all")
        _, total = combine([self.other_flux, J], [self.other_dipole, d])
        amp, ra = equatorial(total)
        r_amp = (amp - self.amplitude) / self.amplitude_err
        has = np.isfinite(self.phase_deg) & (np.asarray(self.phase_err_deg) > 0)
        dphi = (ra[has] - np.asarray(self.phase_deg)[has] + 180.0) % 360.0 - 180.0
        return np.concatenate([r_amp, dphi / np.asarray(self.phase_err_deg)[has]])


@dataclass(frozen=True)
class LocalSnrFit:
    """Best fit: the source, chi^2, degrees of freedom and the optimizer's message."""

    source: PointSource
    chi2: float
    ndof: int
    message: str


def _background_values(background, E_GeV):
    bg = background(E_GeV) if callable(background) else background
    bg = np.asarray(bg.to_value(FLUX_UNIT) if isinstance(bg, u.Quantity) else bg, dtype=float)
    if bg.shape != E_GeV.shape or np.any(~np.isfinite(bg)):
        raise InputError(f"background must give finite fluxes on the {E_GeV.size} data energies; got shape {bg.shape}")
    return bg


#: Proton data of the local-SNR fit: AMS-02 (Aguilar et al. 2021, Phys. Rep. 894, 1) and
#: DAMPE (An et al. 2019, Sci. Adv. 5, eaax3793), bundled.
PROTON_DATA = ("proton/AMS02_2021_PhysRep", "proton/DAMPE_2019")
#: Energy window of the fit [GeV, total energy per particle]: above the strongest solar
#: modulation, below the knee source's range (paper: the local SNR explains < 100 TeV).
FIT_WINDOW_GeV = (30.0, 1.0e5)


def proton_data(names=PROTON_DATA, window_GeV=FIT_WINDOW_GeV):
    """(E [GeV, Etot], flux [m^-2 s^-1 sr^-1 GeV^-1 per Etot], symmetric error) of the
    bundled proton spectra inside ``window_GeV`` (errors: stat + sys in quadrature,
    symmetrised as the mean of the lower and upper errors)."""
    from crknee.data import load, to_variable

    E, y, s = [], [], []
    for name in names:
        t = to_variable(load(name), "Etot", species="H1")
        x = t["x"].to_value(u.GeV)
        keep = (x >= window_GeV[0]) & (x <= window_GeV[1]) & ~np.asarray(t["upper_limit"], dtype=bool)
        E.append(x[keep])
        y.append(t["y"].to_value(FLUX_UNIT)[keep])
        s.append(0.5 * (t["y_err_lo"].to_value(FLUX_UNIT) + t["y_err_hi"].to_value(FLUX_UNIT))[keep])
    return np.concatenate(E), np.concatenate(y), np.concatenate(s)


def fit_local_snr(
    E_GeV,
    flux,
    flux_err,
    background,
    *,
    entry: CatalogueEntry | None = None,
    diffusion: Diffusion | None = None,
    phi=PHI_PAPER,
    x0=None,
    composition: Composition = PROTONS,
    anisotropy: AnisotropyConstraint | None = None,
) -> LocalSnrFit:
    """Fit the local SNR to a proton spectrum (and optionally dipole data).

    ``E_GeV`` total energy per particle [GeV]; ``flux``, ``flux_err`` per unit Etot
    [m^-2 s^-1 sr^-1 GeV^-1] (plain floats or Quantities); ``background`` proton flux at
    Earth on ``E_GeV`` (array) or a callable of E [GeV]; ``entry`` the catalogue entry
    (default Geminga SNR); ``x0`` start (log10 W, beta, log10 Rcut, d_kpc, t_Myr);
    ``composition`` of the SNR (W is summed over it); ``anisotropy`` adds the dipole
    residuals of :class:`AnisotropyConstraint` to the chi^2.
    """
    entry = NAMED_SOURCES[LOCAL_SNR] if entry is None else entry
    diffusion = Diffusion() if diffusion is None else diffusion
    E = np.asarray(value_in("E_GeV", E_GeV, "GeV"), dtype=float)
    y = np.asarray(value_in("flux", flux, FLUX_UNIT), dtype=float)
    s = np.asarray(value_in("flux_err", flux_err, FLUX_UNIT), dtype=float)
    if not (E.shape == y.shape == s.shape) or E.ndim != 1:
        raise InputError(
            f"energies, fluxes and errors must be 1-d of equal length; got {E.shape}, {y.shape}, {s.shape}"
        )
    if np.any(~np.isfinite(s) | (s <= 0)):
        raise InputError(f"flux errors must be finite and > 0; got {s[~np.isfinite(s) | (s <= 0)].flat[0]!r}")
    if E.size <= 5:
        raise InputError(f"need more than 5 data points for 5 parameters; got {E.size}")
    bg = _background_values(background, E)
    lo = np.array(
        [
            LOG10_ENERGY_RANGE[0],
            BETA_RANGE[0],
            LOG10_RCUT_RANGE[0],
            entry.d_lo_kpc,
            AGE_RANGE_FACTORS[0] * entry.age_Myr,
        ]
    )
    hi = np.array(
        [
            LOG10_ENERGY_RANGE[1],
            BETA_RANGE[1],
            LOG10_RCUT_RANGE[1],
            entry.d_hi_kpc,
            AGE_RANGE_FACTORS[1] * entry.age_Myr,
        ]
    )
    start = (
        np.array([49.0, 2.2, 4.5, entry.d_kpc, entry.age_Myr]) if x0 is None else np.clip(np.asarray(x0, float), lo, hi)
    )

    def make(p):
        return PointSource(
            entry.name,
            entry.l_deg,
            entry.b_deg,
            p[3],
            p[4],
            p[1],
            10.0 ** p[2],
            energy_erg=10.0 ** p[0],
            diffusion=diffusion,
            composition=composition,
        )

    def residuals(p):
        src = make(p)
        r = (bg + src.flux("H1", E * u.GeV, phi).to_value(FLUX_UNIT) - y) / s
        return r if anisotropy is None else np.concatenate([r, anisotropy.residuals(src)])

    res = least_squares(residuals, start, bounds=(lo, hi), x_scale=[1.0, 0.1, 0.5, 0.05, 0.05], xtol=1e-10, ftol=1e-10)
    n_data = res.fun.size
    return LocalSnrFit(make(res.x), float(2.0 * res.cost), int(n_data - 5), str(res.message))
