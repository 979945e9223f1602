"""Bayesian evidence of competing knee-source models fitted to the same data (issue 17, item 4).

Each model is a variant of the ``[fit]`` section: the ``fit`` overrides of its
``[evidence.models.<key>]`` table merged onto ``[fit]`` (:func:`merge_section`), sampled
by nested sampling (:mod:`crknee.fit.nested`, dynesty) with the ``[fit.sampler]``
settings and the ``[evidence.sampler]`` overrides.  The evidence

    Z_M = int L(D | theta, M) pi(theta | M) dtheta

is computed with the likelihood's model-independent constants dropped
(:class:`crknee.fit.likelihood.LogPosterior`), so ln Z_M is defined up to a constant that
depends on the data pieces only: **Bayes factors are meaningful only between models
fitted to the same data pieces** (datasets, windows, observables, error treatment and
likelihood).  :func:`check_same_data` refuses a set of models whose fitted pieces differ.

The Bayes factor of model M against the reference R (default: the crknee default model)
is ln B = ln Z_M - ln Z_R, its error the two ln Z errors in quadrature (independent
runs).  Its wording follows Jeffreys' scale as restated for ln B by Trotta (2008,
Contemp. Phys. 49, 71, Table 1), :data:`JEFFREYS`: |ln B| < 1 inconclusive, 1-2.5 weak,
2.5-5 moderate, >= 5 strong evidence (odds about 3:1, 12:1, 150:1).  The Bayes factor
depends on the prior volume of each model's parameters (Occam factor): the priors are
the declared ones of each variant, which the table's ``n_params`` column counts.

The table (:func:`evidence_table`, ``tables/knee_evidence.ecsv`` in ``crknee reproduce``)
has one row per model: key, label, ln Z, its error, ln B vs the reference and its error,
Jeffreys' wording, n_params (free), n_calls (likelihood evaluations), iterations,
effective sample size, converged (the run reached ``dlogz``); the table is a function
of the inputs only (the wall times are in each run's ``fit_summary.json``).
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

import numpy as np

from crknee.errors import ConfigError

#: Jeffreys' scale for |ln B| (Trotta 2008, Contemp. Phys. 49, 71, Table 1): upper bounds
#: of each class and its wording.
JEFFREYS = ((1.0, "inconclusive"), (2.5, "weak"), (5.0, "moderate"), (math.inf, "strong"))
#: Keys of an ``[evidence.models.<key>]`` table.
MODEL_KEYS = {"label", "fit"}
#: Keys of ``[evidence]``.
EVIDENCE_KEYS = {"reference", "models", "sampler"}
#: Keys of ``[fit_modes.<name>]``: the ``[fit]`` overrides and which tables they replace whole.
MODE_KEYS = {"label", "fit", "replace"}


@dataclass(frozen=True)
class EvidenceModel:
    """One model of the evidence table: its key (``"a"``...), a label, and the overrides
    of ``[fit]`` that define it (an empty dict: the ``[fit]`` section itself)."""

    key: str
    label: str
    overrides: dict


def jeffreys(ln_B: float) -> str:
    """Jeffreys' wording of a Bayes factor ln B = ln Z_M - ln Z_R (Trotta 2008, Table 1):
    "inconclusive", or "<weak|moderate|strong> for M" / "... against M"."""
    if not math.isfinite(ln_B):
        raise ConfigError(f"ln B must be finite; got {ln_B!r}")
    for bound, word in JEFFREYS:
        if abs(ln_B) < bound:
            return word if word == "inconclusive" else f"{word} {'for' if ln_B > 0 else 'against'}"
    raise AssertionError("unreachable: the last bound is infinite")


def merge_section(base: dict, overrides: dict, replace: tuple = ()) -> dict:
    """``base`` with ``overrides`` merged in: tables merged key by key (recursively),
    lists and values replaced; top-level keys named in ``replace`` replaced whole (e.g.
    ``parameters`` when a mode uses another parametrisation)."""
    out = copy.deepcopy(base)
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in replace:
            out[k] = merge_section(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def check_section(spec: dict, where: str = "evidence") -> None:
    """Raise :class:`ConfigError` for a malformed ``[evidence]`` section (the models' ``[fit]``
    variants are checked by :func:`crknee.fit.schema.check_section` through
    :func:`model_sections`)."""
    _keys(where, spec, EVIDENCE_KEYS)
    models = spec.get("models", {})
    if not isinstance(models, dict) or not models:
        raise ConfigError(f"{where}.models: expected a table of at least one model, got {models!r}")
    for key, m in models.items():
        if not isinstance(m, dict):
            raise ConfigError(f"{where}.models.{key}: expected a table, got {m!r}")
        _keys(f"{where}.models.{key}", m, MODEL_KEYS)
        if not isinstance(m.get("label", ""), str):
            raise ConfigError(f"{where}.models.{key}.label: expected a string, got {m['label']!r}")
        if not isinstance(m.get("fit", {}), dict):
            raise ConfigError(f"{where}.models.{key}.fit: expected a table of [fit] overrides, got {m['fit']!r}")
    ref = spec.get("reference", next(iter(models)))
    if ref not in models:
        raise ConfigError(f"{where}.reference: {ref!r} is not one of the models {sorted(models)}")
    if not isinstance(spec.get("sampler", {}), dict):
        raise ConfigError(f"{where}.sampler: expected a table of [fit.sampler] overrides, got {spec['sampler']!r}")


def check_modes(spec: dict, where: str = "fit_modes") -> None:
    """Raise :class:`ConfigError` for a malformed ``[fit_modes]`` section: one table per mode
    with a ``label``, the ``fit`` overrides and the list ``replace`` of tables replaced whole."""
    for name, m in spec.items():
        if not isinstance(m, dict):
            raise ConfigError(f"{where}.{name}: expected a table, got {m!r}")
        _keys(f"{where}.{name}", m, MODE_KEYS)
        if not isinstance(m.get("fit", {}), dict):
            raise ConfigError(f"{where}.{name}.fit: expected a table of [fit] overrides, got {m['fit']!r}")
        rep = m.get("replace", [])
        if not isinstance(rep, list) or not all(isinstance(r, str) for r in rep):
            raise ConfigError(f"{where}.{name}.replace: expected a list of [fit] table names, got {rep!r}")


def _keys(where, given, allowed):
    bad = sorted(set(given) - set(allowed))
    if bad:
        raise ConfigError(f"{where}: unknown key {bad[0]!r} (allowed: {sorted(allowed)})")


def models_from_config(spec: dict) -> tuple[list[EvidenceModel], str]:
    """(models, reference key) of an ``[evidence]`` section."""
    check_section(spec)
    models = [EvidenceModel(k, m.get("label", k), m.get("fit", {})) for k, m in spec["models"].items()]
    return models, spec.get("reference", models[0].key)


def model_sections(section: dict, spec: dict) -> dict:
    """{model key: its ``[fit]`` section}: ``section`` with each model's overrides and the
    ``[evidence.sampler]`` overrides, sampled by dynesty (``method = "dynesty"``); each
    variant is validated by :func:`crknee.fit.schema.check_section`."""
    from crknee.fit.schema import check_section as check_fit

    models, _ = models_from_config(spec)
    out = {}
    for m in models:
        s = merge_section(section, m.overrides)
        s["sampler"] = {**s.get("sampler", {}), **spec.get("sampler", {}), "method": "dynesty"}
        try:
            check_fit(s)
        except ConfigError as exc:
            raise ConfigError(f"evidence.models.{m.key}: {exc}") from None
        out[m.key] = s
    return out


def mode_section(section: dict, mode: dict) -> dict:
    """The ``[fit]`` section of a ``[fit_modes.<name>]`` table (its overrides merged onto
    ``section``, the tables named in ``replace`` replaced whole), validated."""
    from crknee.fit.schema import check_section as check_fit

    s = merge_section(section, mode.get("fit", {}), tuple(mode.get("replace", ())))
    check_fit(s)
    return s


def fitted_data(problem) -> list[str]:
    """What a problem's likelihood is made of: the description of every fitted piece
    (dataset, observable, window, errors, likelihood), in order."""
    return [p.describe() for p in problem.pieces if p.fit]


def check_same_data(problems: dict) -> None:
    """Raise :class:`ConfigError` unless every problem ({key: FitProblem}) fits the same
    data pieces: ln Z is defined up to a data-dependent constant, so Bayes factors between
    models fitted to different data are meaningless."""
    items = list(problems.items())
    k0, ref = items[0][0], fitted_data(items[0][1])
    for k, p in items[1:]:
        got = fitted_data(p)
        if got != ref:
            diff = next(
                (f"{a!r} vs {b!r}" for a, b in zip(ref, got) if a != b), f"{len(ref)} vs {len(got)} fitted pieces"
            )
            raise ConfigError(
                f"evidence.models.{k}: fits other data than model {k0} ({diff}); Bayes factors "
                f"need the same data pieces"
            )


def evidence_table(summaries: dict, models: list[EvidenceModel], reference: str):
    """The evidence table (astropy QTable) from the ``fit_summary.json`` dicts of the
    models' nested-sampling runs ({key: summary}); ln B and its wording against
    ``reference``."""
    from astropy.table import QTable

    for m in models:
        s = summaries[m.key]
        if s.get("method") != "dynesty" or s.get("evidence") is None:
            raise ConfigError(f"evidence.models.{m.key}: its run has no evidence (method {s.get('method')!r})")
    ref = summaries[reference]["evidence"]
    rows = []
    for m in models:
        s = summaries[m.key]
        ev = s["evidence"]
        ln_b = ev["log_z"] - ref["log_z"]
        err = 0.0 if m.key == reference else math.hypot(ev["log_z_err"], ref["log_z_err"])
        rows.append(
            (
                m.key,
                m.label,
                ev["log_z"],
                ev["log_z_err"],
                ln_b,
                err,
                "reference" if m.key == reference else jeffreys(ln_b),
                len(s["posterior"]),
                int(s.get("log_prob_evaluations") or 0),
                int(ev["iterations"]),
                float(ev["n_effective"]),
                bool(s["converged"]),
            )
        )
    table = QTable(
        rows=rows,
        names=(
            "model",
            "label",
            "ln_Z",
            "ln_Z_err",
            "ln_B",
            "ln_B_err",
            "jeffreys",
            "n_params",
            "n_calls",
            "iterations",
            "n_effective",
            "converged",
        ),
    )
    table.meta.update(
        {
            "reference": reference,
            "definition": "ln Z: ln of the prior-averaged likelihood, priors normalised on their boxes, likelihood "
            "constants dropped (the same for every model: same data pieces); ln B = ln Z - ln Z(reference), "
            "error: both ln Z errors in quadrature",
            "jeffreys_scale": "Trotta 2008, Contemp. Phys. 49, 71, Table 1: |ln B| < 1 inconclusive, 1-2.5 weak, "
            "2.5-5 moderate, >= 5 strong",
            "sampler": "dynesty nested sampling (crknee.fit.nested)",
        }
    )
    return table


def table_records(table) -> list[dict]:
    """The table as JSON-ready rows (summary.json ``knee_source.evidence``)."""
    out = []
    for r in table:
        out.append(
            {
                c: (v.item() if isinstance(v, np.generic) else (float(v.value) if hasattr(v, "unit") else v))
                for c, v in zip(table.colnames, r)
            }
        )
    return json.loads(json.dumps(out))


def check_variants(values: dict) -> None:
    """The cross-check of a whole config (``crknee.config``): every evidence model and fit
    mode is a valid ``[fit]`` section, and the evidence models declare the same datasets
    (same names, windows, errors, likelihood, roles) so that their Bayes factors are
    meaningful."""
    fit = values.get("fit", {})
    if "evidence" in values:
        sections = model_sections(fit, values["evidence"])
        (k0, s0), *rest = sections.items()
        for k, s in rest:
            if s.get("datasets") != s0.get("datasets") or s.get("mock") != s0.get("mock"):
                raise ConfigError(
                    f"evidence.models.{k}: declares other datasets than model {k0}; Bayes factors need "
                    f"the same data pieces (override only the model, not fit.datasets)"
                )
    for name, mode in values.get("fit_modes", {}).items():
        try:
            mode_section(fit, mode)
        except ConfigError as exc:
            raise ConfigError(f"fit_modes.{name}: {exc}") from None
