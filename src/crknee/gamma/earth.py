"""Protons of a hadronic gamma-ray source at Earth (paper Sec. 3, Fig. 3).

The same continuous injection (L0, beta, R_cut of the fit or of Table 2) over the source's
age, propagated to its distance with the same diffusion (times the source's
``diffusion_suppression``): :class:`crknee.sources.point.PointSource` in mode
"continuous" with eq. (6) integrated in time, then force-field modulation (paper
phi = 550 MV, irrelevant above a TeV).  The paper finds these fluxes more than two
orders of magnitude below the measured protons around the knee; :func:`ratio_to_data`
quantifies it against a crknee dataset (default LHAASO's proton spectrum,
Cao et al. 2025, arXiv:2505.14447, EPOS-LHC) at 1 PeV.

With a uniform suppression chi < 1 (containment "diffusive" or "all") the whole path to
Earth is slow: the limit of a bubble as large as the distance.  ``containment="two_zone"``
is the bubble of the region's size (the Cygnus-bubble picture of Nie et al. 2024, ApJ
974, 276; TeV halos): chi D inside the sphere of radius a, D outside, solved exactly by
:mod:`crknee.sources.two_zone` (the density at Earth is the exterior solution fed by the
density on the sphere); for chi = 1 it is the one-zone flux, for chi -> 0 nothing arrives.
``injection="burst"`` releases the energy L0 * age at once (eq. 6).  docs/gamma.md.
"""

from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np

import crknee.data
from crknee.constants import S_PER_MYR
from crknee.errors import InputError
from crknee.gamma.params import SourceParams
from crknee.gamma.source_model import PROTON, scaled_diffusion
from crknee.modulation import PHI_PAPER, force_field_factor
from crknee.sources import two_zone
from crknee.sources.injection import q0_from_luminosity, spectrum_shape
from crknee.sources.point import FLUX_PER_DENSITY, FLUX_UNIT, PointSource, ValidityWarning, rigidity_and_speed, validity
from crknee.transport import Diffusion
from crknee.units import value_in

#: Proton dataset of the knee comparison (paper Fig. 3: LHAASO, Cao et al. 2025).
LHAASO_PROTONS = "proton/LHAASO_2025_2505.14447_EPOSLHC"


def point_source(params: SourceParams, diffusion: Diffusion | None = None) -> PointSource:
    """The one-zone :class:`PointSource` of ``params`` (protons only; continuous, or a
    burst of energy L0 * age)."""
    D = scaled_diffusion(diffusion or Diffusion(), params.diffusion_suppression)
    if params.injection == "burst":
        energy = {"energy_erg": params.L0_erg_s * params.age_Myr * S_PER_MYR, "mode": "burst"}
    else:
        energy = {"luminosity_erg_s": params.L0_erg_s, "mode": "continuous"}
    return PointSource(
        params.name,
        params.l_deg,
        params.b_deg,
        params.d_kpc,
        params.age_Myr,
        params.beta,
        params.Rcut_GV,
        diffusion=D,
        **energy,
    )


def proton_kinematics(E_GeV, diffusion: Diffusion | None = None, phi_GV: float = PHI_PAPER.to_value("GV")):
    """(R [GV], v/c, dR/dE, force-field flux ratio, D [kpc^2/Myr]) of protons observed at
    total energy ``E_GeV`` at Earth, evaluated at their interstellar energy."""
    D = diffusion or Diffusion()
    m = PROTON.mass_GeV
    ekn_lis, ratio = force_field_factor(np.asarray(E_GeV, dtype=float) - m, phi_GV, 1, 1, m)
    R, v, dRdE = rigidity_and_speed(ekn_lis + m, PROTON)
    return R, v, dRdE, ratio, D.kpc2_Myr(R, v)


def two_zone_flux_from_density(params: SourceParams, kinematics, G) -> np.ndarray:
    """J [m^-2 s^-1 sr^-1 GeV^-1] = v q(R) dR/dE G / (4 pi) (force-field modulated) for the
    two-zone density ``G`` [kpc^-3 per particle/Myr or per particle] on ``kinematics``."""
    p = params
    R, v, dRdE, ratio, _ = kinematics
    q0 = float(q0_from_luminosity(p.L0_erg_s, p.beta, p.Rcut_GV)) * (p.age_Myr if p.injection == "burst" else 1.0)
    return FLUX_PER_DENSITY * v * q0 * spectrum_shape(R, p.beta, p.Rcut_GV) * G * dRdE * ratio


def two_zone_flux(
    params: SourceParams, E_GeV, diffusion: Diffusion | None = None, phi_GV: float = PHI_PAPER.to_value("GV")
) -> tuple[np.ndarray, np.ndarray]:
    """Float kernel of the two-zone protons at Earth: (flux [m^-2 s^-1 sr^-1 GeV^-1] per
    unit total energy ``E_GeV``, valid mask), force-field modulated.

    n_E = q(R) dR/dE G_2(d; a, t, D(R), chi), J = v n_E / (4 pi) as in
    :class:`crknee.sources.point.PointSource`, with G_2 = :func:`crknee.sources.two_zone.density_at`
    and q0 per Myr (continuous) or q0 * age (burst)."""
    p = params
    kin = proton_kinematics(E_GeV, diffusion, phi_GV)
    Dk = kin[4]
    G = two_zone.density_at(p.d_kpc, p.radius_kpc, p.age_Myr, Dk, p.diffusion_suppression, p.injection)
    return two_zone_flux_from_density(p, kin, G), validity(Dk, p.d_kpc, p.age_Myr)


def protons_at_earth(
    params: SourceParams, E: u.Quantity, diffusion: Diffusion | None = None, phi: u.Quantity = PHI_PAPER
) -> tuple[u.Quantity, np.ndarray]:
    """(flux [m^-2 s^-1 sr^-1 GeV^-1] per unit total energy ``E`` (Quantity, or floats in
    GeV), valid mask) at Earth; ``phi`` a Quantity or a float in GV.

    ``valid`` is False where the diffusive solution does not hold (c t < 10 d or mean
    free path > d, :func:`crknee.sources.point.validity`): e.g. SS 433's 20 kyr give
    c t = 6.1 kpc ~ d, so its flux there is the diffusive estimate, flagged.
    ``containment="two_zone"``: :func:`two_zone_flux`; else the one-zone point source."""
    E_GeV = value_in("E", E, "GeV")
    if params.containment == "two_zone":
        J, valid = two_zone_flux(params, np.atleast_1d(E_GeV), diffusion, value_in("phi", phi, "GV", "non-negative"))
        return J.reshape(np.shape(E_GeV)) * FLUX_UNIT, valid.reshape(np.shape(E_GeV))
    src = point_source(params, diffusion)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", ValidityWarning)  # reported through ``valid``
        J = src.flux("H1", E_GeV, phi=phi)
        valid = src.valid("H1", E_GeV)
    return J, valid


def data_flux_at(E: u.Quantity, dataset: str = LHAASO_PROTONS) -> u.Quantity:
    """Measured flux of ``dataset`` at total energy ``E`` by log-log interpolation between
    its points (InputError outside the measured range)."""
    t = crknee.data.to_variable(crknee.data.load(dataset), "Etot")
    x = u.Quantity(t["x"]).to_value(u.GeV)
    y = u.Quantity(t["y"])
    e = np.atleast_1d(value_in("E", E, "GeV"))
    if np.any(e < x.min()) or np.any(e > x.max()):
        raise InputError(f"E = {E!r} lies outside {dataset}'s range {x.min():.4g}-{x.max():.4g} GeV")
    order = np.argsort(x)
    return np.exp(np.interp(np.log(e), np.log(x[order]), np.log(y.value[order]))) * y.unit


def ratio_to_data(
    params: SourceParams, E: u.Quantity = 1 * u.PeV, dataset: str = LHAASO_PROTONS, diffusion: Diffusion | None = None
) -> float:
    """Source proton flux at Earth over the measured one at ``E`` (default 1 PeV, LHAASO)."""
    J, _ = protons_at_earth(params, np.atleast_1d(value_in("E", E, "GeV")), diffusion)
    return float((J / data_flux_at(E, dataset)).to_value(u.one)[0])
