"""crknee.fit.evidence: Bayes factors of models fitted to the same data against their exact
values (an Occam factor, a shifted likelihood), Jeffreys' wording, the [fit] variants of
[evidence] and [fit_modes], and the refusal of models fitted to different data; the corner
plot of a sparse posterior without warnings."""

import functools
import logging
import math
import warnings

import numpy as np
import pytest
from scipy.stats import norm

from crknee import config as cfgmod
from crknee.errors import ConfigError
from crknee.fit.evidence import (
    EvidenceModel,
    check_same_data,
    check_variants,
    evidence_table,
    jeffreys,
    merge_section,
    mode_section,
    model_sections,
    table_records,
)
from crknee.fit.nested import run_nested
from crknee.fit.parameters import ParameterSet
from crknee.fit.sampler import SamplerSettings

SETTINGS = SamplerSettings(
    method="dynesty", nlive=150, dlogz=0.1, batch=16, seed=7, progress=False, nested_sample="unif"
)
SIGMA = 0.5


@functools.lru_cache(maxsize=1)
def _paper():
    """The bundled config (validated once: each load checks every [fit] variant)."""
    return cfgmod.load()


def _summary(result, ps) -> dict:
    """The fields of a fit_summary.json that the evidence table reads."""
    return {
        "method": "dynesty",
        "evidence": result.evidence(),
        "posterior": {n: {} for n in ps.free_names},
        "log_prob_evaluations": result.n_calls,
        "converged": True,
        "wall_s": result.wall_s,
    }


def _box(half_width):
    return ParameterSet.from_config({"x_kpc": {"value": 0.0, "min": -half_width, "max": half_width}}, {"x_kpc": "kpc"})


def _log_z_exact(half_width, centre=0.0):
    """Z = int N-shaped L(x) / (2 w) dx over [-w, w], L = exp(-(x - c)^2 / 2 s^2)."""
    mass = norm.cdf((half_width - centre) / SIGMA) - norm.cdf((-half_width - centre) / SIGMA)
    return math.log(math.sqrt(2 * math.pi) * SIGMA * mass / (2 * half_width))


@pytest.fixture(scope="module")
def occam(tmp_path_factory):
    """Three models of one datum: the same likelihood in a box of half-width 2 (reference)
    and 8 (Occam factor: ln B = -ln 4 exactly), and a likelihood centred 1.5 sigma away
    (ln B = ln(mass of the shifted Gaussian in the box) - ... computed exactly)."""
    folder = tmp_path_factory.mktemp("occam")
    runs, exact = {}, {}
    for key, w, c in (("narrow", 2.0, 0.0), ("wide", 8.0, 0.0), ("shifted", 2.0, 0.75)):
        ps = _box(w)
        res = run_nested(lambda x, c=c: -0.5 * ((x[:, 0] - c) / SIGMA) ** 2, ps, SETTINGS, folder / f"{key}.ckpt")
        runs[key], exact[key] = _summary(res, ps), _log_z_exact(w, c)
    return runs, exact


def test_bayes_factors_match_their_exact_values(occam):
    runs, exact = occam
    models = [EvidenceModel(k, k, {}) for k in runs]
    table = evidence_table(runs, models, "narrow")
    rows = {r["model"]: r for r in table}
    assert rows["narrow"]["ln_B"] == 0.0 and rows["narrow"]["jeffreys"] == "reference"
    for key in ("wide", "shifted"):
        want = exact[key] - exact["narrow"]
        assert abs(rows[key]["ln_B"] - want) < 3.0 * rows[key]["ln_B_err"], (key, rows[key]["ln_B"], want)
        assert rows[key]["ln_B_err"] == pytest.approx(
            math.hypot(runs[key]["evidence"]["log_z_err"], runs["narrow"]["evidence"]["log_z_err"])
        )
    # the Occam factor 1/4, up to the 6e-5 of the likelihood outside the narrow box (4 sigma)
    assert exact["wide"] - exact["narrow"] == pytest.approx(-math.log(4.0), abs=1e-4)
    assert rows["wide"]["jeffreys"] == jeffreys(rows["wide"]["ln_B"])
    assert all(r["n_params"] == 1 and r["n_calls"] > SETTINGS.nlive and r["converged"] for r in table)
    records = table_records(table)
    assert [r["model"] for r in records] == ["narrow", "wide", "shifted"]
    assert isinstance(records[1]["ln_B"], float) and isinstance(records[1]["converged"], bool)
    assert "Trotta 2008" in table.meta["jeffreys_scale"]


@pytest.mark.parametrize(
    "ln_b, words",
    [
        (0.0, "inconclusive"),
        (0.99, "inconclusive"),
        (-0.99, "inconclusive"),
        (1.0, "weak for"),
        (-2.4, "weak against"),
        (2.5, "moderate for"),
        (-4.99, "moderate against"),
        (5.0, "strong for"),
        (-40.0, "strong against"),
    ],
)
def test_jeffreys_scale_of_trotta_2008(ln_b, words):
    assert jeffreys(ln_b) == words


def test_jeffreys_refuses_a_nan():
    with pytest.raises(ConfigError, match="finite"):
        jeffreys(float("nan"))


def test_merge_section_merges_tables_and_replaces_lists():
    base = {"a": 1, "t": {"x": 1, "y": {"z": 2}}, "l": [1, 2], "p": {"u": 1, "v": 2}}
    got = merge_section(base, {"t": {"y": {"w": 3}}, "l": [9], "p": {"u": 5}}, replace=("p",))
    assert got == {"a": 1, "t": {"x": 1, "y": {"z": 2, "w": 3}}, "l": [9], "p": {"u": 5}}
    assert base["t"]["y"] == {"z": 2}  # not modified


def test_paper_config_models_and_modes_are_valid_fit_variants():
    cfg = _paper()
    sections = model_sections(cfg["fit"], cfg["evidence"])
    assert sections["c"] == {**cfg["fit"], "sampler": {**cfg["fit"]["sampler"], "method": "dynesty"}}
    assert sections["b"]["knee_propagation"] == "free" and sections["d"]["dipole"]["field_aligned"] is True
    assert all(s["datasets"] == cfg["fit"]["datasets"] for s in sections.values())
    paper = mode_section(cfg["fit"], cfg["fit_modes"]["paper"])
    assert paper["knee_propagation"] == "free" and paper["composition"]["groups"] == ["H"]
    assert {d["likelihood"] for d in paper["datasets"] if d["name"].startswith("anisotropy/")} == {"gaussian"}
    assert "log10_E_erg" in paper["parameters"]


def test_a_model_fitted_to_other_data_is_refused():
    cfg = _paper().to_dict()
    cfg["evidence"]["models"]["d"]["fit"]["datasets"] = cfg["fit"]["datasets"][:1]
    with pytest.raises(ConfigError, match=r"evidence\.models\.d: declares other datasets"):
        check_variants(cfg)

    class _Piece:
        def __init__(self, text):
            self.text, self.fit = text, True

        def describe(self):
            return self.text

    class _Problem:
        def __init__(self, *texts):
            self.pieces = [_Piece(t) for t in texts]

    check_same_data({"b": _Problem("p", "q"), "c": _Problem("p", "q")})
    with pytest.raises(ConfigError, match=r"evidence\.models\.c: fits other data than model b \('q' vs 'r'\)"):
        check_same_data({"b": _Problem("p", "q"), "c": _Problem("p", "r")})


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"models": {}}, "at least one model"),
        ({"models": {"b": {"fit": {}, "colour": 1}}}, r"evidence\.models\.b: unknown key 'colour'"),
        ({"reference": "z", "models": {"b": {"fit": {}}}}, "reference: 'z' is not one of the models"),
        ({"models": {"b": {"fit": {"knee_propagation": "warp"}}}}, r"evidence\.models\.b: .*knee_propagation"),
    ],
)
def test_bad_evidence_sections_name_their_key(spec, match):
    with pytest.raises(ConfigError, match=match):
        model_sections(_paper()["fit"], spec)


def test_a_run_without_evidence_is_refused_in_the_table():
    with pytest.raises(ConfigError, match=r"evidence\.models\.x: its run has no evidence"):
        evidence_table({"x": {"method": "emcee"}}, [EvidenceModel("x", "x", {})], "x")


def test_sparse_corner_plot_draws_without_warnings(tmp_path, caplog):
    """issue 17, item 5: a 2-D panel with too few points for contours warns neither through
    the warnings module nor through corner's log."""
    from crknee.plots.fit import corner_figure

    ps = ParameterSet.from_config(
        {"l_deg": {"value": 0.0, "min": -180.0, "max": 180.0}, "d_kpc": {"value": 2.0, "min": 0.1, "max": 10.0}},
        {"l_deg": "deg", "d_kpc": "kpc"},
    )
    rng = np.random.default_rng(3)
    samples = np.column_stack([rng.normal(170.0, 30.0, 25), rng.normal(2.0, 0.3, 25)])
    samples[:, 0] = ps.wrap(samples)[:, 0]
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING):
        warnings.simplefilter("error")
        written = corner_figure(samples, ps, tmp_path / "corner.png")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records
    assert (tmp_path / "corner.png").read_bytes()[:4] == b"\x89PNG" and len(written) == 2
