"""The one physical validator (crknee.validation, issue 11 and 16): every inconsistency of
the bad-input catalogue is refused before any work, naming the key to change; the paper
config passes; the fixed components reach the fit's top energy with the background
explicitly zero above its solved range."""

import astropy.units as u
import numpy as np
import pytest

from crknee import config as cfgmod
from crknee import validation
from crknee.errors import ConfigError


@pytest.mark.parametrize(
    "user, message",
    [
        ({"propagation": {"r_sun_kpc": 25.0}}, "propagation.r_sun_kpc: the Sun (25 kpc) must lie inside the Galaxy"),
        ({"propagation": {"z_s_kpc": 5.0}}, "propagation.z_s_kpc: 5 kpc must be smaller than the halo half-height"),
        ({"propagation": {"ekn_min_GeV": 1.0e9}}, "propagation.ekn_min_GeV: 1e+09 must be smaller than ekn_max_GeV"),
        ({"propagation": {"heaviest": "Xx99"}}, "propagation.heaviest: unknown nuclide 'Xx99'"),
        ({"propagation": {"production": "GALPROP99"}}, "propagation.production: unknown table 'GALPROP99'"),
        (
            {"propagation": {"ekn_max_GeV": 5.0e4, "Rcut_GV": 1.0e3}},
            "propagation.ekn_max_GeV: 50000 GeV stops the background below the top of "
            "local_snr.fit_window_GeV (100000 GeV)",
        ),
        (
            {"propagation": {"ekn_max_GeV": 100.0, "Rcut_GV": 1.0}},
            "propagation.ekn_max_GeV: 100 GeV stops the background below the top of "
            "propagation.normalisation_window_GV (200)",
        ),
        ({"propagation": {"phi_MV": 1.0e30}}, "propagation.phi_MV: 1e+30 MV is outside the sane range [0, 2000] MV"),
        ({"propagation": {"D0_cm2_s": 1.0e300}}, "propagation.D0_cm2_s: 1e+300 cm2/s is outside the sane range"),
        ({"propagation": {"n_modes": 100_000_000}}, "propagation.n_modes: 100000000 is above the cap 400"),
        (
            {"propagation": {"points_per_decade": 100_000_000}},
            "propagation.points_per_decade: 100000000 is above the cap",
        ),
        ({"propagation": {"n_modes": 400, "points_per_decade": 200}}, "propagation.n_modes: 400 modes x 2001 energies"),
        (
            {"bc": {"chi2_dataset": "proton/AMS02_2015"}},
            "bc.chi2_dataset: 'proton/AMS02_2015' is a proton dataset; this key needs a B/C ratio",
        ),
        (
            {"local_snr": {"fit_datasets": ["bc/AMS02_2021_PhysRep"]}},
            "local_snr.fit_datasets: 'bc/AMS02_2021_PhysRep' is a bc",
        ),
        (
            {"candidates": {"catalogs": ["proton/AMS02_2015"]}},
            "candidates.catalogs: 'proton/AMS02_2015' is a proton dataset",
        ),
        ({"fit": {"sampler": {"seed": -1}}}, "fit.sampler.seed: must be an integer >= 0"),
        (
            {"fit": {"sampler": {"nsteps": 10_000_000}}},
            "fit.sampler.nsteps: 32 walkers x 10000000 steps is above the cap",
        ),
        ({"gamma": {"nsteps": 10_000_000}}, "gamma.nsteps: 24 walkers x 10000000 steps is above the cap"),
        (
            {"knee_mcmc": {"fixed_points_per_decade": 100_000}},
            "knee_mcmc.fixed_points_per_decade: 100000 is above the cap",
        ),
        ({"local_snr": {"name": "Vela X"}}, "local_snr.name: unknown source 'Vela X'"),
        ({"fast": {"propagation": {"n_modes": 10_000}}}, "fast.propagation.n_modes: 10000 is above the cap 400"),
        # issue 16: a fit window above the background's top energy, where it is not cut off
        (
            {"propagation": {"ekn_max_GeV": 1.0e6}},
            "propagation.ekn_max_GeV: 1e+06 GeV stops the background below the fit's top energy 2e+09 GeV "
            "(fit.datasets[4] (anisotropy/KASCADE-Grande_2019))",
        ),
    ],
)
def test_the_bad_input_catalogue_is_refused_naming_the_key(user, message):
    with pytest.raises(ConfigError) as exc:
        cfgmod.validate(user)
    assert str(exc.value).startswith(message), str(exc.value)
    assert "\n" not in str(exc.value)


def test_paper_config_and_its_fast_variant_pass():
    cfg = cfgmod.load()
    for fast in (False, True):
        values = cfg.for_run(fast).to_dict()
        validation.check(values)  # raises ConfigError on any refused value
        assert validation.fit_energy_top(values["fit"])[0] == 2.0e9


def test_fit_energy_top_and_the_cutoff_margin():
    paper = cfgmod.load().to_dict()
    top, who = validation.fit_energy_top(paper["fit"])
    assert top == 2.0e9 and "anisotropy/KASCADE-Grande_2019" in who
    # the paper's background stops at 1e8 GeV, 500 R_cut above its cut-off: accepted
    assert paper["propagation"]["ekn_max_GeV"] >= validation.CUTOFF_MARGIN * paper["propagation"]["Rcut_GV"]
    # a background that stops below the fit's top but only after 50 R_cut is accepted too
    ok = cfgmod.validate({"propagation": {"ekn_max_GeV": 1.0e7}})
    assert ok["propagation"]["ekn_max_GeV"] == 1.0e7
    # a lower top window needs no more than the window: ekn_max >= min(top, 50 R_cut)
    windows = [{"name": "proton/DAMPE_2019", "window_GeV": [1.0e3, 1.0e5]}]
    low = cfgmod.validate({"propagation": {"ekn_max_GeV": 2.0e5, "Rcut_GV": 1.0e6}, "fit": {"datasets": windows}})
    assert validation.fit_energy_top(low["fit"])[0] == 1.0e5
    # a dataset without a window: its highest energy sets the top
    open_window = [{"name": "proton/AMS02_2015"}]
    top, _ = validation.fit_energy_top({"datasets": open_window})
    assert 1.0e3 < top < 1.0e4  # AMS-02 protons reach 1.8 TV


def test_fixed_components_extend_with_zero_background_above_its_grid():
    """Below the solver's top the fixed components are the background + SNR exactly as
    before; above it the background contributes nothing (its injection is cut off:
    exp(-R/R_cut) = e^-500 at the top for the paper's R_cut) and the SNR alone remains."""
    from crknee.pipeline.steps import fixed_components
    from crknee.propagation.model import PropagationModel
    from crknee.propagation.solution import solve
    from crknee.sources.point import FLUX_UNIT, PointSource

    solution = solve(PropagationModel(n_modes=8, points_per_decade=4), norms=np.ones(3) * u.Unit("cm-3 GeV-1 Myr-1"))
    snr = PointSource("snr", 195.1, 4.3, 0.25, 0.3, 2.1, 2.0e4, energy_erg=1e49, diffusion=solution.diffusion)
    phi = 550 * u.MV
    top = solution.ekn[-1].to_value(u.GeV)
    plain = fixed_components(solution, snr, phi, 5)
    extended = fixed_components(solution, snr, phi, 5, E_top_GeV=2.0e9)
    n = plain.E_GeV.size
    assert np.array_equal(extended.E_GeV[:n], plain.E_GeV) and extended.E_GeV[-1] >= 2.0e9
    assert np.allclose(np.diff(np.log(extended.E_GeV)), np.log(plain.E_GeV[1] / plain.E_GeV[0]))
    for el in plain.flux:
        assert np.array_equal(extended.flux[el][:n], plain.flux[el])
        assert np.array_equal(extended.dipole[el][:n], plain.dipole[el])
    above = extended.E_GeV > top * (1 + 1e-9)
    snr_only = snr.flux("H1", extended.E_GeV[above] * u.GeV, phi).to_value(FLUX_UNIT)
    np.testing.assert_array_equal(extended.flux["H"][above], snr_only)
    assert np.all(extended.flux["He"][extended.E_GeV > 4 * top] == 0.0)
    assert all(np.all(np.isfinite(d)) for d in extended.dipole.values())
    # the background it replaces by zero is negligible near the top of its grid: below
    # 1e-20 of its own flux at the knee (1 PeV), where the knee source dominates
    J_top = solution.earth("H1", [0.5 * top] * u.GeV, "Etot", phi).to_value(FLUX_UNIT)[0]
    J_knee = solution.earth("H1", [1.0e6] * u.GeV, "Etot", phi).to_value(FLUX_UNIT)[0]
    assert J_top / J_knee < 1e-20
