"""The TOML configuration: the paper config, units, one-line errors naming the key."""

import subprocess
import sys
import tomllib

import pytest

from crknee import config as cfgmod
from crknee.errors import ConfigError


def _write(tmp_path, text):
    p = tmp_path / "user.toml"
    p.write_text(text)
    return p


def test_paper_config_holds_tables_1_and_2():
    cfg = cfgmod.load("paper")
    prop = cfg["propagation"]
    # Table 1
    assert (prop["D0_cm2_s"], prop["delta"], prop["nu1"], prop["nu2"]) == (3.2e28, 0.33, 2.48, 2.38)
    assert (prop["Rbr_GV"], prop["vA_km_s"], prop["Rcut_GV"]) == (335.0, 25.0, 200.0e3)
    assert (prop["H_kpc"], prop["R_gal_kpc"], prop["phi_MV"]) == (4.5, 20.0, 550.0)
    # Table 2
    table2 = {
        "GRS 1915+105": (2.5, 1.5e39),
        "MAXI J1820+070": (2.5, 1e38),
        "SS 433": (2.5, 2e39),
        "V4641 Sgr": (2.2, 5e38),
    }
    sources = cfg["gamma"]["sources"]
    for name, (beta, L0) in table2.items():
        assert (sources[name]["beta"], sources[name]["L0_erg_s"]) == (beta, L0)


def test_every_number_of_the_paper_config_is_commented():
    for n, line in enumerate(cfgmod.show("paper").splitlines(), 1):
        code = line.split("#")[0]
        if "=" in code and any(ch.isdigit() for ch in code.split("=", 1)[1]):
            assert "#" in line, f"paper.toml line {n} has a number without its source: {line!r}"


def test_every_schema_key_is_in_the_paper_config():
    raw = tomllib.loads(cfgmod.show("paper"))

    def walk(schema, table, path):
        for key, spec in schema.items():
            if isinstance(spec, cfgmod.Named):
                continue
            if isinstance(spec, dict):
                walk(spec, table.get(key, {}), f"{path}{key}.")
            else:
                assert key in table, f"{path}{key} is in the schema but not in paper.toml"

    walk(cfgmod.SCHEMA, raw, "")


def test_user_file_is_merged_and_units_are_converted(tmp_path):
    p = _write(tmp_path, '[propagation]\nD0_cm2_s = "3.2e24 m2 / s"\ndelta = 0.4\n')
    cfg = cfgmod.load(p)
    assert cfg["propagation"]["D0_cm2_s"] == pytest.approx(3.2e28)
    assert cfg["propagation"]["delta"] == 0.4
    assert cfg["propagation"]["nu1"] == 2.48  # untouched keys keep the paper's values
    assert cfg.digest("propagation") != cfgmod.load().digest("propagation")
    assert cfg.digest("run") == cfgmod.load().digest("run")


@pytest.mark.parametrize(
    "text, key, what",
    [
        ("[propagation]\nD00_cm2_s = 1e28\n", "propagation.D00_cm2_s", "unknown key"),
        ("[propagaton]\nD0_cm2_s = 1e28\n", "propagaton", "unknown key"),
        ('[propagation]\nD0_cm2_s = "3e28 km"\n', "propagation.D0_cm2_s", "wrong unit"),
        ("[propagation]\ndelta = 1.3\n", "propagation.delta", "out of range"),
        ("[propagation]\nD0_cm2_s = -1e28\n", "propagation.D0_cm2_s", "out of range"),
        ('[propagation]\nnu1 = "fast"\n', "propagation.nu1", "expected a dimensionless number"),
        ("[propagation]\nn_modes = 2.5\n", "propagation.n_modes", "expected an integer"),
        ('[propagation]\nreacceleration = "everywhere"\n', "propagation.reacceleration", "is not one of"),
        ('[bc]\nchi2_dataset = "bc/NOPE"\n', "bc.chi2_dataset", "unknown dataset"),
        ("[fast.propagation]\ndelta = -0.1\n", "fast.propagation.delta", "out of range"),
        ("[propagation\n", "user.toml", "not valid TOML"),
        ('[gamma.sources."SS 433"]\nd_kpc = "5 GV"\n', "gamma.sources.SS 433.d_kpc", "wrong unit"),
        ('[gamma.sources."Cyg X-1"]\nbeta = 2.2\n', "gamma.sources.Cyg X-1.l_deg", "missing"),
        ("[fit.sampler]\nnwalker = 32\n", "fit.sampler", "unknown key"),
        ("[fit.parameters.d_kpc]\nmin = 20.0\n", "fit.parameters.d_kpc", "must be < max"),
        ("[fast.fit.sampler]\nnwalkers = 0\n", "fast.fit.sampler.nwalkers", "must be >= 2"),
        # checks of crknee.fit's problem (not only its parts) run at load, not hours later in knee_mcmc
        ("[fit.parameters.beta]\nmax = 5.0\n", "fit.parameters.beta", "tabulated injection"),
        ("[fit.mock]\nseed = -1\n", "fit.mock.seed", "integer >= 0"),
        ("[fit]\nprior_dominated_ratio = 2.0\n", "fit.prior_dominated_ratio", "(0, 1]"),
    ],
)
def test_malformed_config_names_the_key(tmp_path, text, key, what):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        cfgmod.load(p)
    msg = str(err.value)
    assert key in msg and what in msg
    assert "\n" not in msg


def test_fast_overrides_apply_only_with_fast():
    cfg = cfgmod.load()
    fast = cfg.for_run(True)
    full = cfg.for_run(False)
    assert "fast" not in full and "fast" not in fast

    def leaves(table, path=()):
        for key, value in table.items():
            if isinstance(value, dict):
                yield from leaves(value, path + (key,))
            else:
                yield path + (key,), value

    def get(table, path):
        for key in path:
            table = table[key]
        return table

    overrides = list(leaves(cfg["fast"]))
    assert overrides
    for path, value in overrides:
        assert get(fast, path) == value and get(full, path) == get(cfg, path)
    assert get(fast, ("fit", "sampler", "nwalkers")) == get(full, ("fit", "sampler", "nwalkers"))
    assert fast.digest() != full.digest()


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-c", "from crknee.cli import main; main()", *args], capture_output=True, text=True
    )


def test_cli_show_and_validate(tmp_path):
    shown = _cli("config", "show", "paper")
    assert shown.returncode == 0 and "D0_cm2_s = 3.2e28" in shown.stdout
    good = _write(tmp_path, "[propagation]\ndelta = 0.4\n")
    ok = _cli("config", "validate", str(good))
    assert ok.returncode == 0 and "valid" in ok.stdout
    bad = _write(tmp_path, "[propagation]\ndelta = 2.0\n")
    res = _cli("config", "validate", str(bad))
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "propagation.delta" in res.stderr
    assert "Traceback" not in res.stderr


def test_propagation_section_maps_every_model_field():
    """A new PropagationModel field must get a config key (or the paper config would be silent on it)."""
    from dataclasses import fields

    from crknee.propagation.model import CONFIG_EXTRA_KEYS, CONFIG_FIELDS, PropagationModel, model_from_config

    mapped = {field for field, _ in CONFIG_FIELDS.values()}
    # "species" (an explicit nuclide list) stays None: the network is set by "heaviest";
    # the per-element source overrides (element -> value mappings) are set by the
    # propagation fit (crknee.propagation.PreparedSolver), not by a config key
    assert {f.name for f in fields(PropagationModel)} - mapped == {"species", "source_abundance", "source_index"}
    assert set(CONFIG_FIELDS) | set(CONFIG_EXTRA_KEYS) == set(cfgmod.SCHEMA["propagation"])
    model = model_from_config(cfgmod.load()["propagation"])
    assert model == PropagationModel()  # the paper config is the solver's Table 1 default


def test_gamma_burn_must_be_below_nsteps(tmp_path):
    with pytest.raises(ConfigError, match="fast.gamma.burn: must be smaller than gamma.nsteps"):
        cfgmod.load(_write(tmp_path, "[fast.gamma]\nburn = 400\n"))
