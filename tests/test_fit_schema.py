"""The [fit] config section: validation errors name the key; pieces from bundled data."""

import copy
import tomllib

import numpy as np
import pytest

from crknee.errors import ConfigError
from crknee.fit.schema import EXAMPLE_TOML, pieces_from_dataset, problem_from_config
from test_fit_support import synthetic_fixed

BASE = tomllib.loads(EXAMPLE_TOML)["fit"]


def build(**edits):
    section = copy.deepcopy(BASE)
    for path, value in edits.items():
        *keys, last = path.split("__")
        node = section
        for k in keys:
            node = node[int(k)] if k.isdigit() else node[k]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return problem_from_config(section, synthetic_fixed())


def test_example_builds_with_the_kascade_grande_harmonics():
    problem = build()
    assert problem.parameters.free_names == ["l_deg", "b_deg", "d_kpc", "age_Myr", "Rcut_PV", "beta", "log10_E_erg"]
    proton = [p for p in problem.pieces if p.observable == "flux" and p.species == "H"]
    assert len(proton) == 1 and proton[0].n_points == 19 and proton[0].fit
    assert all(p.species == "He" and not p.fit for p in problem.pieces if p.observable == "flux" and p.species != "H")
    (kg,) = [p for p in problem.pieces if p.observable == "harmonic"]
    # KASCADE-Grande 2.7, 6.1, 33 PeV: first harmonics r1 of an array at 49.1 deg N, amplitude + phase each
    assert kg.n_points == 3 and kg.fit and kg.convention.kind == "r1" and list(kg.kind) == [0, 0, 0]
    assert kg.y == pytest.approx([0.0026, 0.0029, 0.012]) and kg.phase == pytest.approx([-135, -133, -106])
    assert not problem.inactive and problem.model.field is None
    assert problem.settings.nwalkers == 32 and problem.mock_extra[0].observable == "amplitude"


def test_paper_mode_compares_d_perp_with_split_normals():
    section = copy.deepcopy(BASE)
    section["datasets"][1].update(likelihood="gaussian", convention="d_perp")
    problem = problem_from_config(section, synthetic_fixed())
    amp, phase = [p for p in problem.pieces if p.name == "anisotropy/KASCADE-Grande_2019"]
    assert (amp.observable, phase.observable) == ("amplitude", "phase") and amp.convention.kind == "d_perp"
    assert amp.y == pytest.approx([0.0026, 0.0029, 0.012]) and amp.err_lo == pytest.approx([0.001, 0.0016, 0.009])
    assert phase.y == pytest.approx([-135, -133, -106]) and not amp.upper_limit.any()


def test_field_aligned_dipole_from_the_config():
    section = copy.deepcopy(BASE)
    section["dipole"] = {"field_aligned": True, "D_perp_over_D_par": 0.1}
    field = problem_from_config(section, synthetic_fixed()).model.field
    from crknee.anisotropy.field import IBEX_FIELD

    assert field.ratio == 0.1 and (field.l_deg, field.b_deg) == (IBEX_FIELD.l_deg, IBEX_FIELD.b_deg)
    section["dipole"] = {"field_aligned": True, "D_perp_over_D_par": 2.0}
    with pytest.raises(ConfigError, match="fit.dipole"):
        problem_from_config(section, synthetic_fixed())
    section["dipole"] = {"field_alligned": True}
    with pytest.raises(ConfigError, match="fit.dipole: unknown key 'field_alligned'"):
        problem_from_config(section, synthetic_fixed())


def test_glob_names_and_duplicates():
    section = copy.deepcopy(BASE)
    section["datasets"][1] = {"name": "anisotropy/CRDB_Auger_SD*", "window_GeV": [1e6, 2e9]}
    names = sorted(
        {p.name for p in problem_from_config(section, synthetic_fixed()).pieces if p.observable == "harmonic"}
    )
    assert names == ["anisotropy/CRDB_Auger_SD1500", "anisotropy/CRDB_Auger_SD750"]
    section["datasets"].append({"name": "anisotropy/Auger_SD750_2020", "window_GeV": [1e6, 2e9]})
    with pytest.raises(ConfigError, match="same measurement"):
        problem_from_config(section, synthetic_fixed())
    section["datasets"][1]["name"] = "anisotropy/NoSuch_*"
    with pytest.raises(ConfigError, match="no dataset matches"):
        problem_from_config(section, synthetic_fixed())


def test_anisotropy_threshold_rows_enter_only_with_an_open_window():
    spec = {"name": "anisotropy/Auger_2017_Science_3Ddipole", "window_GeV": [1e6, float("inf")]}
    (harmonic,) = pieces_from_dataset(spec, 0)
    assert harmonic.convention.kind == "d_3d" and harmonic.phase[0] == 100.0
    amp, phase = pieces_from_dataset({**spec, "likelihood": "gaussian"}, 0)
    assert amp.E_lo_GeV[0] == 8e9 and np.isinf(amp.E_hi_GeV[0]) and np.isnan(amp.E_GeV[0])
    assert phase.y[0] == 100.0 and phase.err_lo[0] == 10.0
    spec["window_GeV"] = [1e6, 1e11]
    assert pieces_from_dataset(spec, 0) == []


@pytest.mark.parametrize(
    "edit, match",
    [
        ({"parameters__d_kpc__min": 20.0}, r"fit.parameters.d_kpc: min \(20.0\) must be < max"),
        ({"parameters__d_kpc__min": 10.0}, r"fit.parameters.d_kpc: min"),
        ({"parameters__distance": {"value": 1.0, "min": 0.0, "max": 2.0}}, "unknown parameter 'distance'"),
        ({"parameters__beta": None}, "parameter 'beta' is not declared"),
        ({"parameters__beta__max": 5.0}, r"fit.parameters.beta: \[min, max\]"),
        ({"parameters__d_kpc__min": 0.0}, "d_kpc.min must be > 0"),
        ({"datasets__0__name": "proton/NoSuchExperiment"}, r"unknown dataset 'proton/NoSuchExperiment'"),
        ({"datasets__0__window": [1, 2]}, r"fit.datasets\[0\].*unknown key 'window'"),
        ({"datasets__0__window_GeV": [1e8, 1e5]}, "window_GeV"),
        ({"datasets__0__role": "maybe"}, "role"),
        ({"datasets__0__observables": ["phase"]}, "gives only"),
        ({"sampler__pool": "slurm"}, "fit.sampler.pool"),
        ({"sampler__nwalkers": 31}, "nwalkers must be even"),
        ({"sampler__nsteps": "many"}, "fit.sampler.nsteps must be a int"),
        ({"sampler__thin": 3}, "fit.sampler: unknown key 'thin'"),
        ({"sampler__moves": "gibbs"}, "fit.sampler.moves"),
        ({"mock__extra__0__err": [1.0]}, r"fit.mock.extra\[0\]"),
        ({"walkers": 3}, "fit: unknown key 'walkers'"),
        ({"source_composition": {"Xx1": 1.0}}, "fit.source_composition"),
    ],
)
def test_bad_config_names_the_key(edit, match):
    with pytest.raises(ConfigError, match=match):
        build(**edit)


def test_dataset_outside_the_fixed_components_is_refused():
    section = copy.deepcopy(BASE)
    section["datasets"][1]["window_GeV"] = [1e6, float("inf")]
    section["datasets"][1]["name"] = "anisotropy/Auger_2017_Science_3Ddipole"
    problem = problem_from_config(section, synthetic_fixed())
    from crknee.fit.likelihood import LogPosterior

    with pytest.raises(ConfigError, match="fixed components cover"):
        LogPosterior(problem.parameters, problem.model, problem.pieces)
