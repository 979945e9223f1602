"""The [fit] config section: validation errors name the key; pieces from bundled data."""
import copy
import tomllib

import numpy as np
import pytest
from test_fit_support import synthetic_fixed

from crknee.errors import ConfigError
from crknee.fit.schema import EXAMPLE_TOML, pieces_from_dataset, problem_from_config

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


def test_example_builds_and_reports_inactive_anisotropy():
    problem = build()
    assert problem.parameters.free_names == ["l_deg", "b_deg", "d_kpc", "age_Myr", "Rcut_PV", "beta", "log10_E_erg"]
    proton = [p for p in problem.pieces if p.observable == "flux" and p.species == "H"]
    assert len(proton) == 1 and proton[0].n_points == 19 and proton[0].fit
    assert all(p.species == "He" and not p.fit for p in problem.pieces if p.species != "H")
    # the bundled Auger values are above 4 EeV: outside the paper's 1 PeV - 2 EeV window
    assert problem.inactive and "Auger_ICRC2017" in problem.inactive[0]
    assert problem.settings.nwalkers == 32 and problem.mock_extra[0].observable == "amplitude"


def test_anisotropy_threshold_rows_enter_only_with_an_open_window():
    spec = {"name": "anisotropy/Auger_2017_Science_3Ddipole", "window_GeV": [1e6, float("inf")]}
    amp, phase = pieces_from_dataset(spec, 0)
    assert amp.E_lo_GeV[0] == 8e9 and np.isinf(amp.E_hi_GeV[0]) and np.isnan(amp.E_GeV[0])
    assert phase.y[0] == 100.0 and phase.err_lo[0] == 10.0
    spec["window_GeV"] = [1e6, 1e11]
    assert pieces_from_dataset(spec, 0) == []


@pytest.mark.parametrize("edit, match", [
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
])
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
