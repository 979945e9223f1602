"""The background model's parameters are declared once (crknee.parameters, issue 14 item 2):
the config schema, the bundled paper.toml, the dataclass defaults, the model's config
mapping, the paper's Table 1 and the docs table must agree with the spec."""

from __future__ import annotations

import tomllib
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

from crknee import config, paper, parameters
from crknee.errors import CrkneeError
from crknee.propagation.model import CONFIG_EXTRA_KEYS, CONFIG_FIELDS, PropagationModel, model_from_config
from crknee.transport import Diffusion

SPEC = parameters.by_key("propagation")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
#: Spec range vs what the model accepts, known to differ (the model's check lives in the
#: propagation branch's transport.py): remove an entry when the model enforces the spec.
KNOWN_DRIFT = {}  # none: transport.Diffusion reads its ranges from the spec


def test_config_schema_is_the_spec():
    schema = config.SCHEMA["propagation"]
    assert list(schema) == list(SPEC)
    for key, p in SPEC.items():
        assert schema[key] == config.key_from_parameter(p), key


def test_paper_toml_holds_the_spec_defaults():
    with config.paper_path().open("rb") as fh:
        section = tomllib.load(fh)["propagation"]
    assert set(section) == set(SPEC)
    for key, p in SPEC.items():
        value = tuple(section[key]) if isinstance(section[key], list) else section[key]
        assert value == p.default, key


def test_model_fields_units_and_defaults_are_the_spec():
    model, diffusion = PropagationModel(), Diffusion()
    model_keys = {k for k, p in SPEC.items() if p.field is not None}
    assert model_keys == set(CONFIG_FIELDS) and set(SPEC) - model_keys == set(CONFIG_EXTRA_KEYS)
    for key in model_keys:
        p = SPEC[key]
        field, unit = CONFIG_FIELDS[key]
        assert field == p.field, key
        assert (unit is None) == (p.unit is None) and (unit is None or unit == u.Unit(p.unit)), key
        value = getattr(model, field)
        value = value.to_value(p.unit) if isinstance(value, u.Quantity) else value
        assert value == pytest.approx(p.default, rel=1e-15) if p.kind == "float" else value == p.default, key
    for field in ("D0", "delta", "R0", "eta"):
        key = next(k for k, p in SPEC.items() if p.field == field)
        assert getattr(diffusion, field) == pytest.approx(SPEC[key].default, rel=1e-15), field


def test_table1_values_are_the_spec_defaults():
    for key, value in paper.TABLE1.items():
        assert SPEC[key].default == value, key
        assert SPEC[key].reference.startswith("Table 1"), key


def _outside(p):
    """Values just outside the spec's range."""
    out = []
    if p.lo is not None:
        out.append(p.lo if p.lo_open else (p.lo - 1 if p.kind == "int" else p.lo - 0.5 * max(abs(p.lo), 1.0)))
    if p.hi is not None:
        out.append(p.hi if p.hi_open else p.hi + 0.5 * max(abs(p.hi), 1.0))
    return out


def test_the_model_refuses_values_outside_the_spec_range():
    drift = set()
    for key, p in SPEC.items():
        if p.field is None or p.kind not in ("float", "int"):
            continue
        for value in _outside(p):
            try:
                model_from_config({key: value})
            except CrkneeError as exc:
                assert key in str(exc)  # noqa: PT017 (a raise is optional here: no raise is recorded as drift)
            else:
                drift.add(key)
    assert drift == set(KNOWN_DRIFT)


def test_docs_table_is_generated_from_the_spec(capsys):
    parameters.main(["--markdown"])
    table = capsys.readouterr().out
    assert table == parameters.markdown_table()
    assert table in DOCS.read_text(encoding="utf-8"), "regenerate: python -m crknee.parameters --markdown"
    assert table.count("\n") == len(SPEC) + 2
    with pytest.raises(SystemExit):
        parameters.main(["--html"])


def test_range_text():
    assert SPEC["delta"].range_text() == "(0, 1)" and SPEC["vA_km_s"].range_text() == "[0, inf)"
    assert SPEC["reacceleration"].range_text() == "halo, disk" and SPEC["heaviest"].range_text() == ""
    assert np.isclose(SPEC["Rcut_GV"].default, 2e5)
