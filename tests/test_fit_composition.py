"""crknee.fit: the multi-species knee source, <ln A>, the energy-scale nuisance, the flux
normalisation, the W prior and the no-source model, against exact limits."""

import copy
import tomllib

import numpy as np
import pytest

from crknee.errors import ConfigError, DataError
from crknee.fit import composition as comp
from crknee.fit.likelihood import LogPosterior, Piece
from crknee.fit.model import E_NORM_GEV, FixedComponents, KneeSourceModel, WPrior
from crknee.fit.parameters import ParameterSet
from crknee.fit.schema import EXAMPLE_TOML, problem_from_config
from crknee.sources.injection import Composition, galprop_composition
from test_fit_support import TRUTH, synthetic_fixed

GROUPS = list(comp.GROUPS)
REF = [comp.reference_log10_abundance(g) for g in GROUPS if g != "H"]
SOURCE = np.array(list(TRUTH.values()))  # l, b, d, t, Rcut, beta, log10 W
E = np.logspace(5.0, 7.5, 6)


def _piece(name, observable, E_GeV, species=None):
    z = np.zeros(E_GeV.size, bool)
    return Piece(
        name, observable, E_GeV, np.ones(E_GeV.size), np.ones(E_GeV.size), np.ones(E_GeV.size), z, species=species
    )


def test_lnA_of_a_single_species_is_its_ln_A():
    f = synthetic_fixed()
    helium = FixedComponents(f.E_GeV, {"He": f.flux["He"]}, {})
    model = KneeSourceModel(helium, Composition.from_mapping({"He4": 1.0}))
    assert model.evaluate(SOURCE[None], E)["lnA"][0] == pytest.approx(np.full(E.size, np.log(4.0)), rel=1e-13)
    (lnA,) = model.bind([_piece("lnA", "lnA", E)])(SOURCE[None])
    assert lnA[0] == pytest.approx(np.full(E.size, np.log(4.0)), rel=1e-13)


def test_lnA_is_the_flux_weighted_mean_of_the_mass_numbers():
    f = synthetic_fixed()  # H + 0.6 H's flux in He
    model = KneeSourceModel(f)
    v = SOURCE.copy()
    v[6] = 20.0  # a negligible source (1e20 erg) below the fixture's 0.3 PeV cutoff
    expect = 0.6 * np.log(4.0) / 1.6
    assert model.evaluate(v[None], E[:3])["lnA"][0] == pytest.approx(np.full(3, expect), rel=1e-12)
    assert [comp.mass_number(el) for el in ("H", "He", "C", "O", "Fe")] == [1, 4, 12, 16, 56]


def test_groups_at_galprop_abundances_equal_the_galprop_source():
    """Five groups combined with weights 10**log10_f reproduce the one-composition source
    (the same ten isotopes), fluxes and dipole."""
    f = synthetic_fixed()
    grouped = KneeSourceModel(f, groups=GROUPS, halo=True)
    single = KneeSourceModel(f, galprop_composition(), halo=True)
    eg = grouped.evaluate(np.r_[SOURCE, REF][None], E)
    es = single.evaluate(SOURCE[None], E)
    for key in ("source:all", "source:H", "source:He", "source:Fe", "lnA", "amplitude"):
        assert eg[key] == pytest.approx(es[key], rel=1e-10), key
    ref = galprop_composition()
    at = grouped.composition_at(np.r_[SOURCE, REF])
    assert [at.fraction(n) for n in ref.species] == pytest.approx([ref.fraction(n) for n in ref.species], rel=1e-12)


def test_fluxes_are_linear_in_each_group_abundance():
    f = synthetic_fixed()
    model = KneeSourceModel(f, groups=GROUPS, halo=True, normalisation="log10_J1PeV")
    v = np.r_[SOURCE[:6], -8.0, REF]
    v2 = v.copy()
    v2[7 + GROUPS.index("Fe") - 1] += np.log10(3.0)
    e1, e2 = model.evaluate(v[None], E), model.evaluate(v2[None], E)
    assert e2["source:Fe"] == pytest.approx(3.0 * e1["source:Fe"], rel=1e-12)
    assert e2["source:H"] == pytest.approx(e1["source:H"], rel=1e-12)  # J1PeV fixes the protons
    assert e2["source:He"] == pytest.approx(e1["source:He"], rel=1e-12)


def test_flux_normalisation_at_1_pev_and_the_derived_energy():
    f = synthetic_fixed()
    by_W = KneeSourceModel(f, groups=GROUPS, halo=True)
    by_J = KneeSourceModel(f, groups=GROUPS, halo=True, normalisation="log10_J1PeV")
    vW = np.r_[SOURCE, REF][None]
    d = by_W.derived(vW)
    assert d["W_erg"] == pytest.approx([10.0 ** SOURCE[6]], rel=1e-12)
    vJ = vW.copy()
    vJ[0, 6] = np.log10(d["J1PeV"][0])
    assert by_J.evaluate(vJ, [E_NORM_GEV])["source:H"][0, 0] == pytest.approx(d["J1PeV"][0], rel=1e-12)
    assert by_J.derived(vJ)["W_erg"] == pytest.approx(d["W_erg"], rel=1e-12)
    assert by_J.evaluate(vJ, E)["source:all"] == pytest.approx(by_W.evaluate(vW, E)["source:all"], rel=1e-12)


def _scaled_model(fixed):
    return KneeSourceModel(fixed, energy_scales={"X": (-0.3, 0.3, ("scaled", "scaled lnA"))})


def test_energy_scale_zero_is_the_identity():
    model = _scaled_model(synthetic_fixed())
    Ep = np.logspace(5.2, 7.3, 15)
    pieces = [
        _piece("scaled", "flux", Ep, "H"),
        _piece("plain", "flux", Ep, "H"),
        _piece("scaled lnA", "lnA", Ep),
        _piece("plain lnA", "lnA", Ep),
    ]
    a, b, c, d = model.bind(pieces)(np.r_[SOURCE, 0.0][None])
    # the source is interpolated per set on a 64-per-decade grid: 1e-3 of a curved spectrum
    assert a == pytest.approx(b, rel=1e-3)
    assert c == pytest.approx(d, abs=1e-4)


@pytest.mark.parametrize("s", [-0.2, 0.07, 0.25])
def test_energy_scale_multiplies_a_power_law_by_one_plus_s_to_gamma_minus_one(s):
    gamma = 2.7
    grid = np.logspace(2, 9, 200)
    fixed = FixedComponents(grid, {"H": 1e4 * grid**-gamma}, {})
    model = _scaled_model(fixed)
    Ep = np.logspace(5.0, 7.0, 9)
    v = np.r_[SOURCE[:6], 10.0, s][None]  # a source of 1e10 erg: nothing
    shifted, plain = model.bind([_piece("scaled", "flux", Ep, "H"), _piece("plain", "flux", Ep, "H")])(v)
    assert shifted[0] / plain[0] == pytest.approx(np.full(Ep.size, (1 + s) ** (gamma - 1)), rel=1e-10)


def test_no_source_model_rescales_the_background_cutoff():
    f = synthetic_fixed()
    Rc0 = 2e5
    bg = {"H": 0.5 * f.flux["H"], "He": f.flux["He"]}
    fixed = FixedComponents(
        f.E_GeV,
        f.flux,
        f.dipole,
        f.diffusion,
        f.halo_kpc,
        background=bg,
        background_dipole=np.zeros((f.E_GeV.size, 3)),
        background_Rcut_GV=Rc0,
    )
    model = KneeSourceModel(fixed, source=False)
    assert list(model.parameters) == ["Rcut_bg_PV"]
    same = model.evaluate([[Rc0 / 1e6]], E)
    assert same["total:H"][0] == pytest.approx(fixed.flux_at("H", E), rel=1e-12)
    Rc = 1.0e6  # 1 PV
    ev = model.evaluate([[Rc / 1e6]], E)
    R_H = comp.rigidity_GV("H", E)
    expect_H = 0.5 * fixed.flux_at("H", E) * (1 + np.exp(R_H / Rc0 - R_H / Rc))
    assert ev["total:H"][0] == pytest.approx(expect_H, rel=1e-10)
    R_He = comp.rigidity_GV("He", E)
    assert ev["total:He"][0] == pytest.approx(fixed.flux_at("He", E) * np.exp(R_He / Rc0 - R_He / Rc), rel=1e-10)
    assert model.derived([[1.0]]) == {}


def test_w_prior_log_uniform_and_log_normal():
    flat = WPrior("log-uniform", 48.0, 52.0)
    assert list(flat.log_density([1e47, 1e50, 1e53])) == [-np.inf, 0.0, -np.inf]
    assert WPrior("log-normal", mu=50.0, sigma=0.5).log_density([1e51])[0] == pytest.approx(-2.0)
    lo, hi = np.log10(comp.W_RANGE_ERG)
    assert (lo, hi) == pytest.approx((np.log10(0.1 * 1e37 * 3.156e11), np.log10(0.1 * 1e40 * 3.156e13)), abs=0.01)


def test_w_prior_enters_the_log_posterior():
    f = synthetic_fixed()
    model = KneeSourceModel(f, W_prior=WPrior("log-uniform", 48.0, 50.0))
    spec = {n: {"value": v, "min": v - 5, "max": v + 5, "prior": "fixed"} for n, v in TRUTH.items()}
    spec["log10_E_erg"] = {"value": 49.0, "min": 46.0, "max": 54.0}
    ps = ParameterSet.from_config(spec, model.parameters)
    lp = LogPosterior(ps, model, [_piece("p", "flux", E, "H")])
    out = lp(np.array([[49.5], [50.5]]))
    assert np.isfinite(out[0]) and out[1] == -np.inf


BASE = tomllib.loads(EXAMPLE_TOML)["fit"]


def _section(**top):
    s = copy.deepcopy(BASE)
    s.update(top)
    return s


def test_schema_builds_groups_scales_and_J1PeV():
    s = _section(
        composition={"groups": GROUPS, "abundances": "prior"},
        hadronic_model="EPOS-LHC",
        energy_scale={"LHAASO": {"sigma": 0.08, "datasets": ["*/LHAASO_*"]}},
        normalisation="log10_J1PeV",
    )
    s["parameters"]["log10_J1PeV"] = s["parameters"].pop("log10_E_erg") | {"value": -12.0, "min": -16.0, "max": -9.0}
    s["datasets"].append({"name": "lnA/LHAASO_*_lnA", "window_GeV": [3e5, 3e7]})
    problem = problem_from_config(s, synthetic_fixed())
    names = problem.parameters.names
    assert names[6:] == ["log10_J1PeV", "log10_fHe", "log10_fCNO", "log10_fNeSi", "log10_fFe", "escale_LHAASO"]
    he = problem.parameters.parameters[names.index("log10_fHe")]
    assert he.prior == "gaussian" and he.mu == pytest.approx(comp.reference_log10_abundance("He"), abs=1e-4)
    s_lh = problem.parameters.parameters[-1]
    assert (s_lh.mu, s_lh.sigma, s_lh.min, s_lh.max) == (0.0, 0.08, -0.32, 0.32)
    lnA = [p for p in problem.pieces if p.observable == "lnA"]
    assert [p.name for p in lnA] == ["lnA/LHAASO_EPOSLHC_lnA"]
    assert problem.model.scale_parameter(lnA[0]) == "escale_LHAASO"
    assert problem.model.scale_parameter(problem.pieces[0]) == "escale_LHAASO"


@pytest.mark.parametrize(
    "edit, key",
    [
        (dict(hadronic_model="QGSJET-II-04"), "fit.hadronic_model"),
        (dict(hadronic_model="EPOS"), "fit.hadronic_model"),
        (dict(composition={"groups": ["He"]}), "fit.composition.groups"),
        (dict(composition={"abundances": "loose"}), "fit.composition.abundances"),
        (dict(composition={}, source_composition={"H1": 1.0}), "source_composition"),
        (
            dict(energy_scale={"KG": {"sigma": 0.1, "datasets": ["anisotropy/KASCADE-Grande_2019"]}}),
            "fit.energy_scale.KG.datasets",
        ),
        (dict(energy_scale={"L": {"sigma": 0.5, "datasets": ["*"]}}), "fit.energy_scale.L.sigma"),
        (dict(W_prior={"kind": "log-normal", "log10_min": 48.0}), "fit.W_prior.log10_min"),
        (dict(W_prior={"kind": "flat"}), "fit.W_prior.kind"),
    ],
)
def test_schema_errors_name_the_key(edit, key):
    s = _section(**edit)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        problem_from_config(s, synthetic_fixed())


def test_schema_needs_exactly_one_normalisation():
    s = _section()
    s["parameters"]["log10_J1PeV"] = {"value": -12.0, "min": -16.0, "max": -9.0}
    assert problem_from_config(s, synthetic_fixed()).parameters.names[6] == "log10_E_erg"  # fit.normalisation
    s["normalisation"] = "log10_J1PeV"
    assert problem_from_config(s, synthetic_fixed()).parameters.names[6] == "log10_J1PeV"
    s.pop("normalisation")
    with pytest.raises(ConfigError, match="fit.normalisation: declare exactly one"):
        problem_from_config(s, synthetic_fixed())


def test_no_source_variant_ignores_the_source_parameters_and_needs_the_background():
    s = _section(knee_propagation="none")
    with pytest.raises(ConfigError, match="background part of the fixed components"):
        problem_from_config(s, synthetic_fixed())
    f = synthetic_fixed()
    fixed = FixedComponents(
        f.E_GeV,
        f.flux,
        f.dipole,
        f.diffusion,
        f.halo_kpc,
        background=dict(f.flux),
        background_dipole=np.zeros((f.E_GeV.size, 3)),
        background_Rcut_GV=2e5,
    )
    problem = problem_from_config(s, fixed)
    assert problem.parameters.names == ["Rcut_bg_PV"]


def test_fit_figures_draw_bands_data_and_pulls():
    from crknee.fit.model import posterior_bands
    from crknee.plots.composition import lnA_fit_figure, points_for, spectrum_fit_figure

    model = _scaled_model(synthetic_fixed())
    spec = {n: {"value": v, "min": v - 1, "max": v + 1} for n, v in TRUTH.items()}
    spec["escale_X"] = {"value": 0.1, "min": -0.3, "max": 0.3}
    ps = ParameterSet.from_config(spec, model.parameters)
    samples = ps.truth() + np.random.default_rng(0).normal(0, 0.01, (50, ps.ndim))
    bands = posterior_bands(model, ps, samples, E, ["total:He", "fixed:He", "source:He", "lnA"], n_draws=20)
    assert bands["lnA"].shape == (5, E.size) and np.all(np.diff(bands["total:He"], axis=0) >= 0)
    pieces = [_piece("scaled", "flux", E[:3], "He"), _piece("scaled lnA", "lnA", E[:3])]
    pts = points_for(model, pieces, ps.full(ps.truth())[0], "He")
    assert pts[0].E == pytest.approx(E[:3] / 1.1) and pts[0].y == pytest.approx(np.full(3, 1.1))
    fig = spectrum_fit_figure(E, bands, pts, "He", "helium")
    top, bottom = fig.axes
    assert len(top.collections) >= 2 and len(bottom.lines) >= 2
    weighted = pts[0].E ** 2.6 * pts[0].y  # the frame is the data's, 1.5 decades below to 0.5 above
    assert top.get_ylim() == pytest.approx((weighted.min() * 10**-1.5, weighted.max() * 10**0.5))
    fig = lnA_fit_figure(E, bands, points_for(model, pieces, ps.full(ps.truth())[0], "lnA"), "lnA")
    assert fig.axes[0].get_ylabel() == r"$\langle \ln A \rangle$"


def test_fixed_components_keep_their_background_through_hdf5(tmp_path):
    f = synthetic_fixed()
    fixed = FixedComponents(
        f.E_GeV,
        f.flux,
        f.dipole,
        f.diffusion,
        f.halo_kpc,
        background={"H": 0.5 * f.flux["H"]},
        background_dipole=np.full((f.E_GeV.size, 3), 1e-4),
        background_Rcut_GV=2e5,
    )
    fixed.save(tmp_path / "fixed.h5")
    back = FixedComponents.load(tmp_path / "fixed.h5")
    assert back.background["H"] == pytest.approx(fixed.background["H"], rel=0)
    assert back.background_Rcut_GV == 2e5 and back.background_dipole == pytest.approx(fixed.background_dipole)
    assert FixedComponents.load(tmp_path / "fixed.h5").flux.keys() == f.flux.keys()
    with pytest.raises(DataError, match="background"):
        FixedComponents(
            f.E_GeV,
            f.flux,
            f.dipole,
            background={"H": 2.0 * f.flux["H"]},
            background_dipole=np.zeros((f.E_GeV.size, 3)),
            background_Rcut_GV=2e5,
        )


def test_nuclei_and_lnA_tables_become_pieces():
    from crknee.fit.schema import pieces_from_dataset

    (fe,) = pieces_from_dataset({"name": "nuclei/KASCADE_Kuznetsov2024_Fe", "window_GeV": [1e6, 1e8]}, 0)
    assert fe.observable == "flux" and fe.species == "Fe" and fe.n_points > 0
    (lnA,) = pieces_from_dataset({"name": "lnA/KASCADE_Kuznetsov2024_lnA", "window_GeV": [1e6, 1e8]}, 0)
    assert lnA.observable == "lnA" and lnA.species is None and np.all((lnA.y > 0) & (lnA.y < np.log(56)))
    with pytest.raises(ConfigError, match=r"fit\.datasets\[0\].*lnA"):
        pieces_from_dataset({"name": "lnA/KASCADE_Kuznetsov2024_lnA", "species": "He"}, 0)


def test_no_source_dipole_at_the_solved_cutoff_is_the_fixed_components_dipole():
    from crknee.anisotropy.predict import predict_dipole

    f = synthetic_fixed()
    d_bg = np.tile([0.0, 3e-4, 0.0], (f.E_GeV.size, 1))  # background along +y, SNR: the rest
    bg = {"H": 0.7 * f.flux["H"], "He": 0.7 * f.flux["He"]}
    # fixed all-particle J d = J_bg d_bg + J_snr d_snr, 70 % background, d_snr = the fixture's -5e-4 x
    d_fix = 0.7 * d_bg + 0.3 * f.dipole["H"]
    fixed = FixedComponents(
        f.E_GeV,
        f.flux,
        {"H": d_fix, "He": d_fix},
        f.diffusion,
        f.halo_kpc,
        background=bg,
        background_dipole=d_bg,
        background_Rcut_GV=2e5,
    )
    model = KneeSourceModel(fixed, source=False)
    Ea = np.array([1e3, 1e4, 1e5])
    ev = model.evaluate([[0.2]], Ea)
    expect = predict_dipole(Ea, [model.fixed_table(Ea)]).vector[0]
    assert ev["dipole"][0] == pytest.approx(expect, rel=1e-9)
    # a higher background cutoff: more background, the dipole turns towards +y
    hi = model.evaluate([[2.0]], Ea)["dipole"][0]
    assert np.all(hi[:, 1] / np.abs(hi[:, 0]) >= ev["dipole"][0][:, 1] / np.abs(ev["dipole"][0][:, 0]) - 1e-12)


def test_continuous_injection_is_the_sources_continuous_model_and_tends_to_the_burst():
    """injection = "continuous": the fit's source is KneeModel's continuous source active for
    active_fraction x age (exactly), and a source active for a vanishing fraction of its age
    is the burst of that age (the difference falls linearly with the fraction)."""
    from crknee.sources.model import KneeModel

    f = synthetic_fixed()
    burst = KneeSourceModel(f, halo=True)
    cont = KneeSourceModel(f, halo=True, injection="continuous")
    assert list(cont.parameters)[6] == "active_fraction"
    l, b, d, t, rc, beta, logW = SOURCE
    row = np.r_[SOURCE[:6], 0.3, logW][None]
    direct = KneeModel(E, E, ("H",), diffusion=f.diffusion, halo_kpc=f.halo_kpc, injection="continuous")(
        l, b, d, t, rc * 1e6, beta, 10.0**logW, duration_Myr=0.3 * t
    )
    assert cont.evaluate(row, E)["source:H"][0] == pytest.approx(direct.flux["H"][0], rel=1e-12)
    J_burst = burst.evaluate(SOURCE[None], E)["source:H"][0]
    gaps = [
        np.max(np.abs(cont.evaluate(np.r_[SOURCE[:6], x, logW][None], E)["source:H"][0] / J_burst - 1))
        for x in (1e-3, 1e-4)
    ]
    assert gaps[1] < 2e-3 and gaps[0] / gaps[1] == pytest.approx(10.0, rel=0.2)


def test_schema_continuous_injection_adds_the_active_fraction():
    s = _section(injection="continuous")
    names = problem_from_config(s, synthetic_fixed()).parameters.names
    assert names[6:8] == ["active_fraction", "log10_E_erg"]
    s["parameters"]["active_fraction"] = {"value": 0.5, "min": 0.0, "max": 1.0}
    with pytest.raises(ConfigError, match=r"fit\.parameters\.active_fraction: \[min, max\] = \[0\.0, 1\.0\]"):
        problem_from_config(s, synthetic_fixed())
    with pytest.raises(ConfigError, match=r"fit\.injection must be one of"):
        problem_from_config(_section(injection="pulsed"), synthetic_fixed())
    assert "active_fraction" not in problem_from_config(_section(), synthetic_fixed()).parameters.names


def test_fixed_components_keep_the_diffusion_break_through_hdf5(tmp_path):
    """The knee source propagates with the background's diffusion: a saved and reloaded
    FixedComponents keeps every Diffusion field, the high-rigidity break included."""
    from dataclasses import replace

    from crknee.transport import Diffusion

    f = synthetic_fixed()
    broken = Diffusion(D0=1.5e28, delta=0.53, R_b=212.0, Delta_delta=0.216, s_b=0.05)
    replace(f, diffusion=broken).save(tmp_path / "fixed.h5")
    back = FixedComponents.load(tmp_path / "fixed.h5").diffusion
    assert back == broken
    R = np.geomspace(10.0, 1e7, 30)
    assert back.cm2_s(R) == pytest.approx(broken.cm2_s(R), rel=1e-15)
