"""One unit convention at every public boundary (issue 14, item 1).

Each public constructor or function below takes, for every dimensional argument, an
astropy Quantity of any compatible unit or a float in the documented unit (the name's
suffix).  Parametrised over all of them: a Quantity in another unit and the equivalent
float build the same object and give the same physics; a Quantity of the wrong dimension
raises a :class:`CrkneeError` naming the argument.

Covered here (:data:`COVERED`) and left to the teams that own the class, to be added to
:data:`CASES` after their branches merge (:data:`AFTER_MERGE`).
"""

from __future__ import annotations

import dataclasses
import re

import astropy.units as u
import numpy as np
import pytest

from crknee.anisotropy import FieldAlignment, mean_cos_dec, tabulate
from crknee.anisotropy.conventions import Convention
from crknee.catalogs import HPDRegion, galactic_plane_xy
from crknee.errors import CrkneeError
from crknee.gamma import SourceParams, gamma_sed, protons_at_earth
from crknee.modulation import modulate_table
from crknee.population.spec import load_spec
from crknee.propagation import PropagationModel
from crknee.sources.catalogue import NAMED_SOURCES
from crknee.sources.local_snr import AnisotropyConstraint
from crknee.sources.model import KneeModel
from crknee.sources.point import FLUX_UNIT, PointSource
from crknee.transport import Diffusion

#: Public constructors and functions whose dimensional arguments are checked here.
COVERED = (
    "crknee.sources.point.PointSource (fields; lis/flux/dipole/valid energies and phi)",
    "crknee.sources.catalogue.CatalogueEntry",
    "crknee.sources.local_snr.AnisotropyConstraint (fit_local_snr shares value_in)",
    "crknee.gamma.params.SourceParams",
    "crknee.gamma: protons_at_earth / ratio_to_data / data_flux_at (E, phi), gamma_sed (energies, dN_dE_p, n_H, "
    "distance), HadronicSource.protons / .sed (energies)",
    "crknee.anisotropy.field.FieldAlignment",
    "crknee.anisotropy.conventions.Convention, mean_cos_dec / exposure_moments / relative_exposure / simulate_sky "
    "(check_site)",
    "crknee.anisotropy.predict.tabulate / predict_dipole (energies)",
    "crknee.catalogs.galactic_plane_xy, HPDRegion, find_candidates (max_b)",
    "crknee.population.spec.PopulationSpec, SourceClass",
    "crknee.modulation.force_field, modulate_table (ekn, phi)",
    "crknee.transport.Diffusion (D0 [cm2/s], R0 and R_b [GV])",
    "crknee.sources.model.KneeModel (E_flux_GeV, E_aniso_GeV, halo_kpc) and its call arguments",
    "crknee.propagation.model.PropagationModel (Quantities only: its fields carry no unit suffix; wrong "
    "dimensions refused, test_propagation_model_refuses_wrong_dimensions)",
)
#: Constructors owned by other teams' branches (issue 14 item 1 still to apply there).
AFTER_MERGE = ("crknee.gamma.source_model.HadronicSource (takes a Diffusion, covered by Diffusion)",)

POINT = dict(
    name="knee", l_deg=40.0, b_deg=1.0, d_kpc=2.64, age_Myr=0.1, beta=2.2, Rcut_GV=5.0e6, energy_erg=1e50, halo_kpc=4.0
)
CONTINUOUS = dict(POINT, energy_erg=None, luminosity_erg_s=1e38, mode="continuous", active_Myr=0.05)
E_TEST = np.geomspace(1e3, 1e7, 5)


def point_physics(s):
    return np.concatenate(
        [s.lis("all", E_TEST * u.GeV).to_value(FLUX_UNIT), s.dipole("all", E_TEST * u.GeV).value.ravel()]
    )


def params_physics(p):
    return [p.radius_kpc, p.n_H_cm3, p.Rcut_GV]


_ENTRY = NAMED_SOURCES["Geminga SNR"]
_CONSTRAINT = dict(
    E_GeV=E_TEST,
    amplitude=np.full(5, 1e-3),
    amplitude_err=np.full(5, 1e-4),
    phase_deg=np.array([10.0, np.nan, 30.0, 40.0, 50.0]),
    phase_err_deg=np.full(5, 5.0),
    other_flux=np.full(5, 1e-6),
    other_dipole=np.zeros((5, 3)),
)
_SPEC = load_spec()
_RNG = np.random.default_rng(1)
_L_SAMPLES = _RNG.normal(40.0, 3.0, 300)
_D_SAMPLES = _RNG.normal(2.6, 0.3, 300)
_EKN = np.geomspace(1.0, 1e3, 20)
_LIS = _EKN**-2.7


_SS433 = SourceParams.from_dict({"name": "SS 433", "n_H_cm3": 1.0})
_EP = np.geomspace(2.0, 1e6, 60)
_NP = _EP**-2.0


_EG = np.geomspace(1e3, 1e5, 4)


def _sed(E_gamma=_EG, E_p=_EP, dN_dE_p=_NP, n_H=1.0, distance=5.5):
    return gamma_sed(E_gamma, E_p, dN_dE_p, n_H, distance).to_value(u.erg / u.cm**2 / u.s)


def _replace(obj):
    return lambda **kw: dataclasses.replace(obj, **kw)


def _modulate(ekn=_EKN, phi=0.55):
    return modulate_table(ekn, _LIS * FLUX_UNIT, "H1", phi).to_value(FLUX_UNIT)


#: (label, builder(**{arg: value}), arg, Quantity, the same value as a float in the
#: documented unit, what to compare).
CASES = [
    (
        "PointSource",
        lambda **kw: PointSource(**{**POINT, **kw}),
        "l_deg",
        (40.0 * u.deg).to(u.rad),
        40.0,
        point_physics,
    ),
    ("PointSource", lambda **kw: PointSource(**{**POINT, **kw}), "b_deg", 60.0 * u.arcmin, 1.0, point_physics),
    ("PointSource", lambda **kw: PointSource(**{**POINT, **kw}), "d_kpc", 2640.0 * u.pc, 2.64, point_physics),
    ("PointSource", lambda **kw: PointSource(**{**POINT, **kw}), "age_Myr", 100.0 * u.kyr, 0.1, point_physics),
    ("PointSource", lambda **kw: PointSource(**{**POINT, **kw}), "beta", 2.2 * u.one, 2.2, point_physics),
    ("PointSource", lambda **kw: PointSource(**{**POINT, **kw}), "Rcut_GV", 5.0 * u.PV, 5.0e6, point_physics),
    ("PointSource", lambda **kw: PointSource(**{**POINT, **kw}), "energy_erg", 1e43 * u.J, 1e50, point_physics),
    ("PointSource", lambda **kw: PointSource(**{**POINT, **kw}), "halo_kpc", 4000.0 * u.pc, 4.0, point_physics),
    (
        "PointSource",
        lambda **kw: PointSource(**{**CONTINUOUS, **kw}),
        "luminosity_erg_s",
        1e31 * u.W,
        1e38,
        point_physics,
    ),
    ("PointSource", lambda **kw: PointSource(**{**CONTINUOUS, **kw}), "active_Myr", 50.0 * u.kyr, 0.05, point_physics),
    (
        "PointSource.lis",
        lambda E: PointSource(**POINT).lis("all", E).to_value(FLUX_UNIT),
        "E",
        E_TEST * 1e-3 * u.TeV,
        E_TEST,
        None,
    ),
    (
        "PointSource.flux",
        lambda phi: PointSource(**POINT).flux("all", E_TEST, phi=phi).to_value(FLUX_UNIT),
        "phi",
        550.0 * u.MV,
        0.55,
        None,
    ),
    ("CatalogueEntry", _replace(_ENTRY), "d_kpc", 250.0 * u.pc, 0.25, None),
    ("CatalogueEntry", _replace(_ENTRY), "age_Myr", 342.0 * u.kyr, 0.342, None),
    (
        "AnisotropyConstraint",
        lambda **kw: AnisotropyConstraint(**{**_CONSTRAINT, **kw}),
        "E_GeV",
        E_TEST * 1e-3 * u.TeV,
        E_TEST,
        None,
    ),
    (
        "AnisotropyConstraint",
        lambda **kw: AnisotropyConstraint(**{**_CONSTRAINT, **kw}),
        "phase_deg",
        np.radians(_CONSTRAINT["phase_deg"]) * u.rad,
        _CONSTRAINT["phase_deg"],
        None,
    ),
    ("SourceParams", _replace(SourceParams.from_dict({"name": "SS 433"})), "d_kpc", 5500.0 * u.pc, 5.5, params_physics),
    (
        "SourceParams",
        _replace(SourceParams.from_dict({"name": "SS 433"})),
        "n_H_cm3",
        1e6 * u.m**-3,
        1.0,
        params_physics,
    ),
    ("SourceParams", _replace(SourceParams.from_dict({"name": "SS 433"})), "L0_erg_s", 2e32 * u.W, 2e39, None),
    (
        "SourceParams",
        _replace(SourceParams.from_dict({"name": "SS 433"})),
        "extension_deg",
        18.0 * u.arcmin,
        0.3,
        params_physics,
    ),
    ("FieldAlignment", FieldAlignment, "l_deg", 0.5 * np.pi * u.rad, 90.0, lambda f: f.matrix),
    ("FieldAlignment", FieldAlignment, "ratio", 30.0 * u.percent, 0.3, lambda f: f.matrix),
    (
        "Convention",
        lambda latitude_deg: Convention("r1", latitude_deg, 40.0).factor,
        "latitude_deg",
        (29.36 * u.deg).to(u.rad),
        29.36,
        None,
    ),
    (
        "mean_cos_dec",
        lambda zenith_max_deg: mean_cos_dec(29.36, zenith_max_deg),
        "zenith_max_deg",
        2400.0 * u.arcmin,
        40.0,
        None,
    ),
    (
        "tabulate",
        lambda E: tabulate(E, [PointSource(**POINT)]).flux,
        "E",
        E_TEST * u.GeV.to(u.TeV) * u.TeV,
        E_TEST,
        None,
    ),
    (
        "galactic_plane_xy",
        lambda d: galactic_plane_xy(40.0 * u.deg, d)[0].to_value(u.kpc),
        "d",
        2.64 * u.kpc,
        2.64,
        None,
    ),
    (
        "galactic_plane_xy",
        lambda l: galactic_plane_xy(l, 2.64 * u.kpc)[1].to_value(u.kpc),
        "l",
        40.0 * u.deg,
        40.0,
        None,
    ),
    (
        "HPDRegion",
        lambda d: HPDRegion(_L_SAMPLES * u.deg, d).thresholds_kpc2,
        "d",
        _D_SAMPLES * 1e3 * u.pc,
        _D_SAMPLES,
        None,
    ),
    ("SourceClass", _replace(_SPEC.classes[0]), "z_s_kpc", 100.0 * u.pc, 0.1, None),
    ("SourceClass", _replace(_SPEC.classes[0]), "rate_per_Myr", 3.0 / u.kyr, 3000.0, None),
    ("PopulationSpec", _replace(_SPEC), "H_kpc", 4000.0 * u.pc, 4.0, lambda s: s.window_Myr(1.0)),
    ("PopulationSpec", _replace(_SPEC), "E_GeV", _SPEC.E_GeV * u.GeV, _SPEC.E_GeV, None),
    (
        "protons_at_earth",
        lambda E: protons_at_earth(_SS433, E)[0].to_value(FLUX_UNIT),
        "E",
        E_TEST * 1e-3 * u.TeV,
        E_TEST,
        None,
    ),
    (
        "protons_at_earth",
        lambda phi: protons_at_earth(_SS433, E_TEST, phi=phi)[0].to_value(FLUX_UNIT),
        "phi",
        550.0 * u.MV,
        0.55,
        None,
    ),
    ("gamma_sed", _sed, "E_gamma", np.geomspace(1.0, 1e2, 4) * u.TeV, np.geomspace(1e3, 1e5, 4), None),
    ("gamma_sed", _sed, "dN_dE_p", _NP / u.GeV, _NP, None),
    ("gamma_sed", _sed, "n_H", 1e6 * u.m**-3, 1.0, None),
    ("gamma_sed", _sed, "distance", 5500.0 * u.pc, 5.5, None),
    ("modulate_table", _modulate, "phi", 550.0 * u.MV, 0.55, None),
    ("modulate_table", _modulate, "ekn", _EKN * u.GeV, _EKN, None),
]
_KNEE_E = np.geomspace(1e5, 1e8, 6)
_KNEE_ARGS = dict(l_deg=40.0, b_deg=1.0, d_kpc=2.64, t_Myr=4.8, Rcut_GV=5e6, beta=2.2, E_erg=1e50)


def _knee(**kw):
    return KneeModel(**{"E_flux_GeV": _KNEE_E, "E_aniso_GeV": _KNEE_E, "halo_kpc": 4.5, **kw})


def _knee_physics(model):
    res = model(**_KNEE_ARGS)
    return np.concatenate([res.flux["H1"].ravel(), res.dipole.ravel()])


def _knee_call(**kw):
    res = _knee()(**{**_KNEE_ARGS, **kw})
    return np.concatenate([res.flux["H1"].ravel(), res.dipole.ravel()])


CASES += [
    ("Diffusion", Diffusion, "D0", 3.2e24 * u.m**2 / u.s, 3.2e28, lambda d: d.cm2_s(np.geomspace(1, 1e6, 5))),
    ("Diffusion", Diffusion, "R0", 1e-3 * u.TV, 1.0, lambda d: d.cm2_s(np.geomspace(1, 1e6, 5))),
    (
        "Diffusion",
        lambda **kw: Diffusion(Delta_delta=0.2, **kw),
        "R_b",
        0.3 * u.TV,
        300.0,
        lambda d: d.cm2_s(np.geomspace(1, 1e6, 5)),
    ),
    ("KneeModel", _knee, "halo_kpc", 4500.0 * u.pc, 4.5, _knee_physics),
    ("KneeModel", _knee, "E_flux_GeV", _KNEE_E * 1e-3 * u.TeV, _KNEE_E, _knee_physics),
    ("KneeModel.__call__", _knee_call, "d_kpc", 2640.0 * u.pc, 2.64, None),
    ("KneeModel.__call__", _knee_call, "t_Myr", 4800.0 * u.kyr, 4.8, None),
    ("KneeModel.__call__", _knee_call, "Rcut_GV", 5.0 * u.PV, 5e6, None),
    ("KneeModel.__call__", _knee_call, "E_erg", 1e43 * u.J, 1e50, None),
    ("KneeModel.__call__", _knee_call, "l_deg", (40.0 * u.deg).to(u.rad), 40.0, None),
]
IDS = [f"{label}-{arg}" for label, _, arg, *_ in CASES]


def _value(out):
    if isinstance(out, KneeModel):
        return {"halo_kpc": out.halo_kpc, "E_flux": out.E_flux, "E_aniso": out.E_aniso}
    if dataclasses.is_dataclass(out):
        return {f.name: getattr(out, f.name) for f in dataclasses.fields(out)}
    return out


def _close(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _close(a[key], b[key])
    elif isinstance(a, (tuple, list)) and not isinstance(a, str) and a and not np.isscalar(a[0]):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(_value(x), _value(y))
    elif isinstance(a, (float, int, np.ndarray, tuple, list, u.Quantity)) and not isinstance(a, bool):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=0)
    else:
        assert a == b


@pytest.mark.parametrize("label,make,arg,quantity,value,physics", CASES, ids=IDS)
def test_quantity_and_float_give_the_same_result(label, make, arg, quantity, value, physics):
    from_quantity, from_float = make(**{arg: quantity}), make(**{arg: value})
    _close(_value(from_quantity), _value(from_float))
    if physics is not None:
        _close(physics(from_quantity), physics(from_float))
    if dataclasses.is_dataclass(from_quantity):
        assert not isinstance(getattr(from_quantity, arg), u.Quantity)  # stored in the documented unit


@pytest.mark.parametrize("label,make,arg,quantity,value,physics", CASES, ids=IDS)
def test_wrong_dimension_names_the_argument(label, make, arg, quantity, value, physics):
    wrong = np.ones(np.shape(quantity)) * u.kg if np.ndim(quantity) else 3.0 * u.kg
    with pytest.raises(CrkneeError, match=re.escape(arg)):
        make(**{arg: wrong})


def test_point_source_in_parsec_is_the_source_in_kpc():
    """The issue's example: ``PointSource(d_kpc=2.64 * u.kpc, ...)`` works and is the float one."""
    assert PointSource(**{**POINT, "d_kpc": 2.64 * u.kpc}) == PointSource(**POINT)


@pytest.mark.parametrize(
    "field,wrong", [("D0", 3.2e28 * u.cm), ("H", 4.5 * u.s), ("v_A", 25.0 * u.kpc), ("R_cut", 2e5 * u.GeV / u.s)]
)
def test_propagation_model_refuses_wrong_dimensions(field, wrong):
    with pytest.raises(CrkneeError, match=re.escape(field)):
        PropagationModel(**{field: wrong})
