"""One declarative spec of the background model's parameters (issue 14, item 2).

Each parameter of the ``[propagation]`` configuration section is declared once here:
its config key (the unit in the suffix), the :class:`crknee.propagation.PropagationModel`
field it sets, the unit, the paper's default, the allowed range and where the value comes
from.  Derived from it:

- the config schema of ``[propagation]`` (:data:`crknee.config.SCHEMA`, via
  :func:`crknee.config.key_from_parameter`);
- the documentation table (``python -m crknee.parameters --markdown``; docs/parameters.md
  is that output, checked by tests/test_parameters_spec.py);
- tests/test_parameters_spec.py checks that the spec, the config schema, the bundled
  ``paper.toml``, the dataclass defaults (:class:`crknee.transport.Diffusion`,
  :class:`~crknee.propagation.PropagationModel`), the model's ``CONFIG_FIELDS`` and the
  paper's Table 1 (:mod:`crknee.paper`) agree, and that the model refuses a value outside
  the spec's range.

This module declares and imports nothing of crknee (base layer): the model classes, the
config and the docs read it.  Still declared elsewhere, to be derived from here after the
propagation branch merges: the dataclass defaults themselves and ``CONFIG_FIELDS``.
Keys of the diffusion break (``R_b``, ``Delta_delta``, ``s``) that the propagation branch
adds are not declared yet: their config names were not published to this branch.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

#: Value kinds: a number, an integer, a text, a list of dataset names, an increasing pair.
KINDS = ("float", "int", "str", "datasets", "range")


@dataclass(frozen=True)
class Parameter:
    """One configuration parameter.

    ``key``: config key (``[propagation]``), its unit in the suffix; ``field``: the
    PropagationModel field it sets (None: read by the caller, not a model field);
    ``unit``: astropy unit string of the key (None: dimensionless or text); ``default``:
    the bundled (paper) value; ``lo``/``hi``: range (None: unbounded), ``lo_open``/
    ``hi_open``: strict; ``choices``: allowed texts; ``reference``: where the value comes
    from; ``kind``: one of :data:`KINDS`.
    """

    key: str
    field: str | None
    unit: str | None
    default: object
    reference: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    kind: str = "float"
    choices: tuple | None = None

    def contains(self, value: float) -> bool:
        """True when ``value`` lies in the declared range (open or closed ends)."""
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return not (self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi))

    def range_text(self) -> str:
        """The range in interval notation ("(0, 1)", "[0, inf)", "halo, disk", "")."""
        if self.choices:
            return ", ".join(self.choices)
        if self.lo is None and self.hi is None:
            return ""
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        left = "(" if self.lo_open or self.lo is None else "["
        right = ")" if self.hi_open or self.hi is None else "]"
        return f"{left}{lo}, {hi}{right}"


def _pos(key, field, unit, default, reference, **kw):
    return Parameter(key, field, unit, default, reference, lo=0.0, lo_open=True, **kw)


#: The ``[propagation]`` section: the background model of paper eq. 1-4, Table 1.
BACKGROUND = (
    _pos("D0_cm2_s", "D0", "cm2 / s", 3.2e28, "Table 1 (eq. 2)"),
    Parameter("delta", "delta", None, 0.33, "Table 1 (eq. 2)", lo=0.0, hi=1.0, lo_open=True, hi_open=True),
    _pos(
        "R0_GV",
        "R0",
        "GV",
        1.0,
        "eq. 2 reference rigidity; not in the paper: 1 GV gives AMS-02 B/C (docs/conventions.md)",
    ),
    Parameter(
        "eta",
        "eta",
        None,
        1.0,
        "eq. 2 beta^eta; not in the paper: 1 as in GALPROP (docs/conventions.md)",
        lo=-2.0,
        hi=2.0,
    ),
    _pos(
        "Rb_GV",
        "R_b",
        "GV",
        300.0,
        "high-rigidity diffusion break (Génolini et al. 2017, PRL 119, 241101); "
        "not in the paper, inert while Delta_delta = 0",
    ),
    Parameter(
        "Delta_delta",
        "Delta_delta",
        None,
        0.0,
        "slope change of D above R_b (> 0: hardening); 0 = no break, as Table 1 (crknee.transport)",
        lo=0.0,
        hi=1.0,
        hi_open=True,
    ),
    _pos(
        "s_b",
        "s_b",
        None,
        0.05,
        "smoothness of the diffusion break (Génolini et al. 2017); inert while Delta_delta = 0",
    ),
    Parameter("vA_km_s", "v_A", "km / s", 25.0, "Table 1 (Alfven speed, reacceleration)", lo=0.0),
    Parameter("Vc_km_s", "V_c", "km / s", 0.0, "eq. 1 convection; the paper lists none (Table 1)", lo=0.0),
    _pos("H_kpc", "H", "kpc", 4.5, "Sec. 3 (halo half height)"),
    _pos("R_gal_kpc", "R_gal", "kpc", 20.0, "Sec. 3 (Galactic radius)"),
    _pos("r_sun_kpc", "r_sun", "kpc", 8.5, "eq. 3"),
    _pos("z_s_kpc", "z_s", "kpc", 0.2, "eq. 3"),
    _pos("h_kpc", "h", "kpc", 0.1, "gas disk half thickness; not in the paper: Maurin et al. 2001, ApJ 555, 585"),
    Parameter("he_to_h", "he_to_h", None, 0.1, "ISM He/H by number; not in the paper: Maurin et al. 2001", lo=0.0),
    Parameter("nu1", "nu1", None, 2.48, "Table 1 (eq. 4)", lo=1.0, hi=5.0, lo_open=True, hi_open=True),
    Parameter("nu2", "nu2", None, 2.38, "Table 1 (eq. 4)", lo=1.0, hi=5.0, lo_open=True, hi_open=True),
    _pos("Rbr_GV", "R_br", "GV", 335.0, "Table 1 (eq. 4)"),
    _pos("Rcut_GV", "R_cut", "GV", 200.0e3, "Table 1 (eq. 4; Sec. 3 text says 300 TV, Table 1 is taken)"),
    Parameter(
        "reacceleration",
        "reacceleration",
        None,
        "halo",
        "where D_pp acts; not in the paper: 'halo' as in GALPROP (docs/propagation.md)",
        kind="str",
        choices=("halo", "disk"),
    ),
    Parameter(
        "n_modes", "n_modes", None, 40, "numerical: Bessel modes of the solver (1 % convergence)", lo=1, kind="int"
    ),
    Parameter(
        "points_per_decade", "points_per_decade", None, 20, "numerical: energy grid of the solver", lo=4, kind="int"
    ),
    _pos(
        "ekn_min_GeV",
        "ekn_min",
        "GeV",
        0.01,
        "numerical: below where reacceleration feeds the GeV range (docs/propagation.md)",
    ),
    _pos("ekn_max_GeV", "ekn_max", "GeV", 1.0e8, "numerical: 100 PeV/n, the knee needs the cutoff shape"),
    Parameter("heaviest", "heaviest", None, "Fe56", "network from Fe down to H (GALPROP-like)", kind="str"),
    Parameter(
        "production", "production", None, "GALPROP17_OPT12", "production cross sections: USINE v3.5 table", kind="str"
    ),
    Parameter(
        "inelastic", "inelastic", None, "Tripathi99+Coste12", "inelastic cross sections: USINE v3.5 table", kind="str"
    ),
    Parameter("phi_MV", None, "MV", 550.0, "force-field potential, Fig. 1 caption", lo=0.0),
    Parameter(
        "normalisation_datasets",
        None,
        None,
        ("proton/AMS02_2021_PhysRep", "helium/AMS02_2021_PhysRep"),
        "primary normalisations fitted to AMS-02 p and He (Aguilar et al. 2021, Phys. Rep. 894, 1)",
        kind="datasets",
    ),
    Parameter(
        "normalisation_window_GV",
        None,
        "GV",
        (20.0, 200.0),
        "below the ~200 GV hardening of the local SNR (crknee.propagation.fitting)",
        lo=0.0,
        lo_open=True,
        kind="range",
    ),
)

#: Every declared section: config section name -> its parameters.
SECTIONS = {"propagation": BACKGROUND}


def by_key(section: str = "propagation") -> dict[str, Parameter]:
    """The parameters of ``section`` by config key."""
    return {p.key: p for p in SECTIONS[section]}


def markdown_table(section: str = "propagation") -> str:
    """The documentation table of ``section`` (docs/parameters.md)."""
    rows = ["| key | model field | unit | default | range | reference |", "|---|---|---|---|---|---|"]
    for p in SECTIONS[section]:
        default = (
            ", ".join(map(str, p.default))
            if isinstance(p.default, tuple)
            else f"{p.default:g}"
            if isinstance(p.default, float)
            else str(p.default)
        )
        rows.append(
            f"| `{p.key}` | {f'`{p.field}`' if p.field else '(caller)'} | {p.unit or ''} | {default} "
            f"| {p.range_text()} | {p.reference} |"
        )
    return "\n".join(rows) + "\n"


def main(argv=None) -> None:
    """``python -m crknee.parameters --markdown [SECTION]``: print the table of SECTION."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "--markdown" or len(args) > 2 or (len(args) == 2 and args[1] not in SECTIONS):
        sys.exit(f"usage: python -m crknee.parameters --markdown [{'|'.join(SECTIONS)}]")
    sys.stdout.write(markdown_table(args[1] if len(args) == 2 else "propagation"))


if __name__ == "__main__":
    main()
