"""``summary.json``: its schema (keys stable, issue 8) and a validator.

The schema is written in the JSON-Schema vocabulary (``type``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``minItems``, ``maxItems``) so that any
JSON-Schema tool can check the file too; :func:`validate_summary` implements the subset
used here, without a dependency.
"""

from __future__ import annotations

from crknee.errors import CrkneeError

_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_TRIPLE = {"type": "array", "items": _NUM, "minItems": 3, "maxItems": 3}

#: The sampler of a posterior and its diagnostics (emcee: n_steps, tau, n_tau_reached,
#: acceptance_fraction, ...; dynesty: log_z, log_z_err, n_effective, nlive, ...).
_SAMPLER = {"type": "object", "required": ["method"], "properties": {"method": {"type": "string"}}}
#: One row of the evidence table (crknee.fit.evidence.evidence_table).
_EVIDENCE_ROW = {
    "type": "object",
    "required": [
        "model",
        "label",
        "ln_Z",
        "ln_Z_err",
        "ln_B",
        "ln_B_err",
        "jeffreys",
        "n_params",
        "n_calls",
        "converged",
    ],
    "properties": {
        "model": {"type": "string"},
        "label": {"type": "string"},
        "ln_Z": _NUM,
        "ln_Z_err": _NUM,
        "ln_B": _NUM,
        "ln_B_err": _NUM,
        "jeffreys": {"type": "string"},
        "n_params": {"type": "integer"},
        "n_calls": {"type": "integer"},
        "converged": {"type": "boolean"},
    },
}
#: A [fit_modes] fit (the paper's mode): its posterior, sampler and flags.
_MODE = {
    "type": "object",
    "required": ["label", "l_deg", "d_kpc", "age_Myr", "Rcut_PV", "converged", "sampler", "at_prior_edge"],
    "additionalProperties": False,
    "properties": {
        "label": {"type": "string"},
        "l_deg": _TRIPLE,
        "d_kpc": _TRIPLE,
        "age_Myr": _TRIPLE,
        "Rcut_PV": _TRIPLE,
        "W_erg": _TRIPLE,
        "converged": {"type": "boolean"},
        "sampler": _SAMPLER,
        "at_prior_edge": {"type": "object", "additionalProperties": {"type": "string"}},
        "prior_dominated": {"type": "array", "items": {"type": "string"}},
    },
}

#: JSON Schema of summary.json.
SUMMARY_SCHEMA = {
    "type": "object",
    "required": ["crknee_version", "config", "bc", "gamma", "knee_source", "candidates", "timings_s"],
    "additionalProperties": False,
    "properties": {
        "crknee_version": {"type": "string"},
        "config": {
            "type": "object",
            "required": ["source", "sha256", "fast", "values"],
            "additionalProperties": False,
            "properties": {
                "source": {"type": "string"},
                "sha256": {"type": "string"},
                "fast": {"type": "boolean"},
                "values": {"type": "object"},
            },
        },
        "bc": {
            "type": "object",
            "required": ["chi2", "ndof"],
            "additionalProperties": False,
            "properties": {"chi2": _NUM, "ndof": {"type": "integer"}},
        },
        "gamma": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["beta", "L0_erg_s", "chi2", "ndof", "proton_ratio_1PeV"],
                "additionalProperties": False,
                "properties": {
                    "beta": _NUM,
                    "L0_erg_s": _NUM,
                    "chi2": _NUM_OR_NULL,
                    "ndof": _INT_OR_NULL,
                    "proton_ratio_1PeV": _NUM,
                    # issue 12: range over the plausible (n_H a^2, chi, age) box and
                    # -2 ln(L_lep / L_had) (null: no SED points, or no leptonic fit)
                    "proton_ratio_1PeV_range": {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2},
                    "hadronic_vs_leptonic": _NUM_OR_NULL,
                },
            },
        },
        "knee_source": {
            "type": "object",
            "required": ["l_deg", "d_kpc", "age_Myr", "Rcut_PV", "converged"],
            "additionalProperties": False,
            "properties": {
                "l_deg": _TRIPLE,
                "d_kpc": _TRIPLE,
                "age_Myr": _TRIPLE,
                "Rcut_PV": _TRIPLE,
                "converged": {"type": "boolean"},
                # issue 17: the sampler and its diagnostics, W [erg] (derived), the source's
                # composition, prior-edge flags, the evidence table, the paper's mode
                "sampler": _SAMPLER,
                "W_erg": _TRIPLE,
                "composition": {"type": "object", "additionalProperties": _TRIPLE},
                "at_prior_edge": {"type": "object", "additionalProperties": {"type": "string"}},
                "prior_dominated": {"type": "array", "items": {"type": "string"}},
                "evidence": {"type": "array", "items": _EVIDENCE_ROW},
                "paper_mode": _MODE,
            },
        },
        "candidates": {"type": "array", "items": {"type": "string"}},
        "anisotropy": {
            "type": "object",
            "required": [
                "field",
                "n_datasets",
                "dof_isotropic",
                "dof_field_aligned",
                "deviance_isotropic",
                "deviance_field_aligned",
            ],
            "additionalProperties": False,
            "properties": {
                "field": {"type": "string"},
                "n_datasets": {"type": "integer"},
                "dof_isotropic": {"type": "integer"},
                "dof_field_aligned": {"type": "integer"},
                "deviance_isotropic": _NUM,
                "deviance_field_aligned": _NUM,
            },
        },
        "timings_s": {"type": "object", "additionalProperties": _NUM},
    },
}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def _check(value, schema: dict, path: str) -> None:
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](value) for t in types):
            raise CrkneeError(f"summary.json {path}: expected {' or '.join(types)}, got {value!r}")
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                raise CrkneeError(f"summary.json {path}.{name}: missing")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for name, sub in value.items():
            if name in props:
                _check(sub, props[name], f"{path}.{name}")
            elif extra is False:
                raise CrkneeError(f"summary.json {path}.{name}: unexpected key")
            elif isinstance(extra, dict):
                _check(sub, extra, f"{path}.{name}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise CrkneeError(f"summary.json {path}: expected at least {schema['minItems']} items, got {len(value)}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise CrkneeError(f"summary.json {path}: expected at most {schema['maxItems']} items, got {len(value)}")
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], f"{path}[{i}]")


def validate_summary(summary: dict, schema: dict = SUMMARY_SCHEMA) -> dict:
    """Raise :class:`~crknee.errors.CrkneeError` naming the first offending key; return it."""
    _check(summary, schema, "$")
    return summary


def _constraint(src: dict) -> dict:
    """Issue 12 keys of one gamma source (absent when its step summary has no constraint)."""
    c = src.get("constraint")
    if c is None:
        return {}
    lr = c.get("likelihood_ratio")
    return {
        "proton_ratio_1PeV_range": list(c["range"]),
        "hadronic_vs_leptonic": None if lr is None else lr["minus2_ln_L_lep_over_L_had"],
    }


def build_summary(version: str, config, fast: bool, steps: dict, timings: dict) -> dict:
    """Assemble summary.json from the step summaries (see crknee.pipeline.steps)."""
    background, gamma, protons = steps["background"], steps["gamma"], steps["protons"]
    knee, candidates = steps["knee_mcmc"], steps["candidates"]
    return {
        "crknee_version": version,
        "config": {"source": config.source, "sha256": config.digest(), "fast": bool(fast), "values": config.to_dict()},
        "bc": {"chi2": background["bc"]["chi2"], "ndof": background["bc"]["ndof"]},
        "gamma": {
            name: {
                "beta": src["beta"],
                "L0_erg_s": src["L0_erg_s"],
                "chi2": src["chi2"],
                "ndof": src["ndof"],
                "proton_ratio_1PeV": protons["ratio_1PeV"][name],
                **_constraint(src),
            }
            for name, src in gamma["sources"].items()
        },
        "knee_source": _knee_source(knee),
        "candidates": list(candidates["within_1sigma"]),
        "anisotropy": _anisotropy(knee["anisotropy_quality"]),
        "timings_s": dict(timings),
    }


def _fit_keys(fit: dict) -> dict:
    """The keys of one knee-source fit (the default, or a [fit_modes] mode)."""
    return {
        **{k: fit["posterior"][k] for k in ("l_deg", "d_kpc", "age_Myr", "Rcut_PV")},
        "converged": bool(fit["converged"]),
        "sampler": fit["sampler"],
        **({"W_erg": fit["W_erg"]} if fit.get("W_erg") is not None else {}),
        "at_prior_edge": dict(fit["at_prior_edge"]),
        "prior_dominated": list(fit["prior_dominated"]),
    }


def _knee_source(knee: dict) -> dict:
    """summary.json ``knee_source``: the default posterior with its sampler, W, composition
    and flags; the evidence table (when [evidence] is configured); the paper's mode (when
    [fit_modes.paper] is)."""
    out = {**_fit_keys(knee), "composition": knee["composition"]}
    if knee.get("evidence"):
        out["evidence"] = knee["evidence"]["rows"]
    paper_mode = knee.get("modes", {}).get("paper")
    if paper_mode is not None:
        out["paper_mode"] = {"label": paper_mode["label"], **_fit_keys(paper_mode)}
    return out


def _anisotropy(quality: dict) -> dict:
    """Fit quality of the dipole over every bundled experiment (100 GeV - 10 EeV) at the
    MAP: summed deviances of isotropic and field-aligned diffusion over the rows where the
    model is defined, and their dof."""
    rows = quality["rows"]
    out = {"field": quality["field"], "n_datasets": len(rows)}
    for mode in ("isotropic", "field_aligned"):
        out[f"dof_{mode}"] = int(sum(r[f"dof_{mode}"] for r in rows))
        out[f"deviance_{mode}"] = float(sum(r[f"deviance_{mode}"] for r in rows if r[f"dof_{mode}"] > 0))
    return out
