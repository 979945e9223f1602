"""Published propagation fits to compare ``crknee fit propagation`` with (issue 15).

Every value below was read in a retrievable text (the abstract of the paper, on its arXiv /
ar5iv / journal page); the ``location`` of each entry says where, with a short quote.  Values
that could not be read from a text (tables of the papers, Boschini et al. 2020's GALPROP
parameters) are not here: an entry is never recalled from memory.

Comparison rules (:func:`compare`):

* A published value is compared with the posterior median and 68 % interval of the same crknee
  parameter (names of :data:`crknee.fit.propagation.parameters.PARAMETERS`), or with its fixed
  value.
* ``kind = "sigma"``: the difference in units of the combined 1 sigma,
  (fit - published) / sqrt(s_fit**2 + s_pub**2), each s taken on the side facing the other
  value (asymmetric errors); s_fit = 0 for a fixed parameter.  ``level_stated`` False: the text
  quotes "+-" without naming its confidence level; it is taken as 68 %.
* ``kind = "range"``: a range quoted without a probability: the fit median is inside, above or
  below it (no pull).  ``kind = "approx"``: a "~" value, difference only.
  ``kind = "lower_limit"``: satisfied or not.
* D0 (``D0_1e28_cm2_s``, crknee's D0 at R0 = 1 GV, eq. 2) depends on the halo half-height H:
  secondary-to-primary ratios constrain ~ D0/H (thin disc, Maurin et al. 2001, ApJ 555, 585).
  A published D0 is compared only when its H was read: at equal H directly, otherwise scaled
  as D0 * H_fit / H_pub (:func:`D0_at_halo`).  A D0 quoted at R0 != 1 GV is converted with
  D0 (1 GV / R0)**delta (:func:`D0_at_1GV`) only when the published model is a single power
  law between R0 and 1 GV (``power_law_to_1GV``); otherwise it is not compared.

Caveats (docs/propagation_fit.md): the published fits use other codes, cross sections, data
and transport forms; a pull of a few sigma is a statement about frameworks, not only data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import astropy.units as u

from crknee.errors import InputError, check_finite_positive
from crknee.fit.propagation.parameters import PARAMETERS

KINDS = ("sigma", "range", "approx", "lower_limit")


@dataclass(frozen=True)
class Paper:
    """A publication: ``authors`` as printed, ``journal`` reference ("" when not read),
    ``arxiv`` identifier and ``read_at`` (the page the values were read on)."""

    authors: str
    year: int
    journal: str
    arxiv: str
    title: str
    read_at: str

    def cite(self) -> str:
        """Short citation: first author et al. year (journal; arXiv)."""
        names = self.authors if "," not in self.authors else self.authors.split(",")[0] + " et al."
        ref = "; ".join(x for x in (self.journal, f"arXiv:{self.arxiv}") if x)
        return f"{names} {self.year} ({ref})"


@dataclass(frozen=True)
class PublishedValue:
    """One published value of a crknee parameter.

    ``value`` (with ``minus``/``plus`` for kind "sigma" and "range") is in ``unit`` (an astropy
    unit string; converted to the crknee parameter's unit by :meth:`in_crknee_unit`).  ``model``
    names the exact framework; ``H_kpc`` the halo half-height it assumes (None: not stated in
    the text read); ``R0_GV`` the rigidity of a quoted D (D0 only); ``delta_for_R0`` and
    ``power_law_to_1GV`` allow the exact R0 -> 1 GV conversion.  ``location``: where in the
    paper, with a short quote."""

    paper: Paper
    parameter: str
    model: str
    value: float
    minus: float | None
    plus: float | None
    kind: str
    location: str
    unit: str = ""
    level_stated: bool = True
    H_kpc: float | None = None
    R0_GV: float | None = None
    delta_for_R0: float | None = None
    power_law_to_1GV: bool = False

    def __post_init__(self):
        if self.parameter not in PARAMETERS:
            raise InputError(f"published value: unknown crknee parameter {self.parameter!r}")
        if self.kind not in KINDS:
            raise InputError(f"published value: kind must be one of {KINDS}; got {self.kind!r}")
        if self.kind in ("sigma", "range") and not (self.minus and self.plus and self.minus > 0 and self.plus > 0):
            raise InputError(
                f"published {self.parameter} ({self.paper.arxiv}): kind {self.kind!r} needs minus > 0 and plus > 0"
            )

    def in_crknee_unit(self) -> tuple[float, float | None, float | None]:
        """(value, minus, plus) converted from ``unit`` to the crknee parameter's unit."""
        f = u.Unit(self.unit).to(u.Unit(PARAMETERS[self.parameter][0]))
        return (
            self.value * f,
            None if self.minus is None else self.minus * f,
            None if self.plus is None else self.plus * f,
        )

    def text(self) -> str:
        """The published value as quoted (in ``unit``)."""
        unit = f" {self.unit}" if self.unit else ""
        if self.kind == "sigma":
            err = f"+- {self.minus:g}" if self.minus == self.plus else f"-{self.minus:g} +{self.plus:g}"
            return f"{self.value:g} {err}{unit}" + ("" if self.level_stated else " (level not stated)")
        if self.kind == "range":
            return f"[{self.value - self.minus:g}, {self.value + self.plus:g}]{unit}"
        if self.kind == "approx":
            return f"~{self.value:g}{unit}"
        return f">~ {self.value:g}{unit}"


def D0_at_1GV(D0, R0_GV: float, delta: float):
    """D at 1 GV from D0 quoted at ``R0_GV`` for D ~ R**delta: D0 (1 GV / R0)**delta.  Exact
    only for a single power law between R0 and 1 GV (eq. 2 at fixed beta**eta)."""
    check_finite_positive("R0_GV", R0_GV)
    return D0 * (1.0 / R0_GV) ** delta


def D0_at_halo(D0, H_from_kpc: float, H_to_kpc: float):
    """D0 moved from a halo half-height ``H_from_kpc`` to ``H_to_kpc`` at fixed D0/H, the
    combination secondary-to-primary ratios constrain (thin disc; Maurin et al. 2001)."""
    check_finite_positive("H_from_kpc", H_from_kpc)
    check_finite_positive("H_to_kpc", H_to_kpc)
    return D0 * (H_to_kpc / H_from_kpc)


WEINRICH2020 = Paper(
    "Weinrich, Génolini, Boudaud, Derome & Maurin",
    2020,
    "A&A 639, A131",
    "2002.11406",
    "Combined analysis of AMS-02 (Li,Be,B)/C, N/O, 3He, and 4He data",
    "https://ar5iv.labs.arxiv.org/html/2002.11406 (abstract); journal from "
    "https://www.aanda.org/articles/aa/full_html/2020/07/aa37875-20/aa37875-20.html",
)
GENOLINI2019 = Paper(
    "Génolini, Boudaud, Batista, Caroff, Derome, Lavalle, Marcowith, Maurin, Poireau, Poulin, "
    "Rosier, Salati, Serpico & Vecchi",
    2019,
    "PRD 99, 123028",
    "1904.08917",
    "Cosmic-ray transport from AMS-02 B/C data: benchmark models and interpretation",
    "https://arcxiv.org/abs/1904.08917 and https://pos.sissa.it/358/073/ (abstracts)",
)
KORSMEIER2021 = Paper(
    "Korsmeier & Cuoco",
    2021,
    "PRD 103, 103016",
    "2103.09824",
    "Implications of Lithium to Oxygen AMS-02 spectra on our understanding of cosmic-ray diffusion",
    "https://arcxiv.org/abs/2103.09824 (abstract; the ar5iv page drops its numbers)",
)
WEINRICH2020_HALO = Paper(
    "Weinrich, Boudaud, Derome, Génolini, Lavalle, Maurin, Salati, Serpico & Weymann-Despres",
    2020,
    "A&A 639 (article number not read)",
    "2004.00441",
    "Galactic halo size in the light of recent AMS-02 data",
    "https://arcxiv.org/abs/2004.00441 and https://ar5iv.labs.arxiv.org/html/2004.00441 (abstract)",
)
MAURIN2022 = Paper(
    "Maurin, Ferronato Bueno & Derome",
    2022,
    "",
    "2203.07265",
    "A simple determination of the halo size L from 10Be/9Be data",
    "https://arcxiv.org/abs/2203.07265 and https://ar5iv.labs.arxiv.org/html/2203.07265 (abstract)",
)

_USINE = "USINE v3.5"
#: Every published value crknee compares with (see the module docstring for the rules).
PUBLISHED = (
    PublishedValue(
        WEINRICH2020,
        "delta",
        f"{_USINE} 1D thin disc / thick halo; combined AMS-02 Li/C, Be/C, B/C, low-rigidity break or upturn of D",
        0.50,
        0.03,
        0.03,
        "sigma",
        "abstract (Results): 'strengthens the case for a diffusion slope of δ=0.50±0.03'",
        level_stated=False,
    ),
    PublishedValue(
        GENOLINI2019,
        "delta",
        f"{_USINE}; AMS-02 B/C only; spans the SLIM, QUAINT and BIG benchmark models, R >~ 10 GV",
        0.48,
        0.05,
        0.05,
        "sigma",
        "abstract: 'at 1σ, the diffusion slope δ is [0.43-0.53]' (all models, high-rigidity regime)",
    ),
    PublishedValue(
        GENOLINI2019,
        "D0_1e28_cm2_s",
        f"{_USINE}; AMS-02 B/C only; K10 = D at 10 GV, spans SLIM, QUAINT and BIG",
        0.31,
        0.05,
        0.05,
        "sigma",
        "abstract: 'K10, the diffusion coefficient at 10 GV, is [0.26-0.36] kpc2 Myr-1' (at 1σ); "
        "halo size not stated in the abstract; 'a hint for a similar (reversed) feature at low "
        "rigidity around the B/C peak (~4 GV)': not a single power law down to 1 GV",
        unit="kpc2 / Myr",
        R0_GV=10.0,
    ),
    PublishedValue(
        GENOLINI2019,
        "Delta_delta",
        f"{_USINE}; AMS-02 B/C only; high-rigidity break of D (BIG, SLIM, QUAINT)",
        0.2,
        None,
        None,
        "approx",
        "abstract: 'we confirm the robustness of the high-energy break, with a typical value Δh ~ 0.2'",
    ),
    PublishedValue(
        KORSMEIER2021,
        "delta",
        "AMS-02 Li-O; the frameworks without convection (diffusion break at a few GV and/or "
        "reacceleration and/or injection break), cross-section nuisances",
        0.475,
        0.025,
        0.025,
        "range",
        "abstract: 'the slope of diffusion at intermediate rigidities is robustly constrained in "
        "the range δ ~ 0.45-0.5 in models without convection'",
    ),
    PublishedValue(
        KORSMEIER2021,
        "delta",
        "AMS-02 Li-O; frameworks with convection included in the fit, cross-section nuisances",
        0.45,
        0.05,
        0.05,
        "range",
        "abstract: '... or δ ~ 0.4-0.5 if convection is included in the fit'",
    ),
    PublishedValue(
        KORSMEIER2021,
        "H_kpc",
        "AMS-02 Li-O frameworks with the AMS-02 Be data",
        3.0,
        None,
        None,
        "lower_limit",
        "abstract: 'the AMS-02 Beryllium data provides a lower limit on the vertical size of the "
        "Galactic propagation halo of zh >~ 3 kpc'",
        unit="kpc",
    ),
    PublishedValue(
        WEINRICH2020_HALO,
        "H_kpc",
        f"{_USINE}; AMS-02 Be/B, spanning benchmark transport configurations",
        5.0,
        2.0,
        3.0,
        "sigma",
        "abstract: 'The AMS-02 Be/B data alone constrain L=5+3-2 kpc at a 68% confidence level'",
        unit="kpc",
    ),
    PublishedValue(
        MAURIN2022,
        "H_kpc",
        f"{_USINE}; AMS-02 Be/B with updated production cross sections",
        3.8,
        1.6,
        2.8,
        "sigma",
        "abstract: 'Be/B analysis with USINE, L=3.8+2.8-1.6 kpc (data and cross-section uncertainties)'",
        unit="kpc",
        level_stated=False,
    ),
)


def _fit_value(name: str, posterior: dict, fixed: dict):
    """(median, minus, plus, label) of ``name`` in this fit, or None when absent."""
    if name in posterior:
        r = posterior[name]
        return r["median"], r["minus"], r["plus"], f"{r['median']:.4g} -{r['minus']:.2g} +{r['plus']:.2g}"
    if name in fixed:
        return fixed[name], 0.0, 0.0, f"{fixed[name]:g} (fixed)"
    return None


def _sigma_pull(fit, pub_value, pub_minus, pub_plus) -> float:
    med, f_minus, f_plus, _ = fit
    d = med - pub_value
    return d / math.hypot(f_minus if d > 0 else f_plus, pub_plus if d > 0 else pub_minus)


def _D0_published(entry: PublishedValue, H_fit: float):
    """(value, minus, plus, rule) of a published D0 at 1 GV and the fit's H, or (None, reason)."""
    value, minus, plus = entry.in_crknee_unit()
    if entry.H_kpc is None:
        return None, "not compared: halo height not stated in the text read (D0 ~ H)"
    rules = []
    if entry.R0_GV is not None and entry.R0_GV != 1.0:
        if not entry.power_law_to_1GV or entry.delta_for_R0 is None:
            return None, f"not compared: quoted at {entry.R0_GV:g} GV, not a single power law down to 1 GV"
        f = D0_at_1GV(1.0, entry.R0_GV, entry.delta_for_R0)
        value, minus, plus = value * f, minus * f, plus * f
        rules.append(f"R0 {entry.R0_GV:g} -> 1 GV with delta = {entry.delta_for_R0:g}")
    if not math.isclose(entry.H_kpc, H_fit):
        f = D0_at_halo(1.0, entry.H_kpc, H_fit)
        value, minus, plus = value * f, minus * f, plus * f
        rules.append(f"scaled as D0/H from H = {entry.H_kpc:g} to {H_fit:g} kpc")
    else:
        rules.append(f"same H = {H_fit:g} kpc")
    return (value, minus, plus, "; ".join(rules)), None


def compare(posterior: dict, fixed: dict, entries=PUBLISHED) -> list[dict]:
    """Every published entry against this fit (rules in the module docstring).

    ``posterior``: {parameter: {"median", "minus", "plus"}} of the free parameters (the
    ``posterior`` of fit_summary.json); ``fixed``: {parameter: value} of the fixed ones.
    Returns plain-JSON rows: paper, model, parameter, published (text), published_value,
    fit (text), fit_median, pull_sigma (None unless kind "sigma"), verdict, location."""
    H = _fit_value("H_kpc", posterior, fixed)
    rows = []
    for e in entries:
        fit = _fit_value(e.parameter, posterior, fixed)
        row = {
            "paper": e.paper.cite(),
            "model": e.model,
            "parameter": e.parameter,
            "published": e.text(),
            "published_value": None,
            "fit": None if fit is None else fit[3],
            "fit_median": None if fit is None else float(fit[0]),
            "pull_sigma": None,
            "verdict": "",
            "location": e.location,
        }
        rows.append(row)
        if fit is None:
            row["verdict"] = "not a parameter of this fit"
            continue
        if e.parameter == "D0_1e28_cm2_s":
            if H is None:
                row["verdict"] = "not compared: this fit has no H_kpc"
                continue
            conv, reason = _D0_published(e, float(H[0]))
            if conv is None:
                row["verdict"] = reason
                continue
            value, minus, plus, rule = conv
            row["published_value"] = value
            pull = _sigma_pull(fit, value, minus, plus)
            row["pull_sigma"] = pull
            row["verdict"] = f"{pull:+.1f} sigma ({rule})"
            continue
        value, minus, plus = e.in_crknee_unit()
        row["published_value"] = value
        med = fit[0]
        if e.kind == "sigma":
            pull = _sigma_pull(fit, value, minus, plus)
            row["pull_sigma"] = pull
            row["verdict"] = f"{pull:+.1f} sigma" + ("" if e.level_stated else " (+- taken as 68 %)")
        elif e.kind == "range":
            lo, hi = value - minus, value + plus
            where = "inside" if lo <= med <= hi else ("above" if med > hi else "below")
            overlap = med - fit[1] <= hi and med + fit[2] >= lo
            row["verdict"] = f"median {where} the range; 68 % interval {'overlaps' if overlap else 'misses'} it"
        elif e.kind == "approx":
            row["verdict"] = f"difference {med - value:+.3g} (no uncertainty quoted)"
        else:
            row["verdict"] = "satisfies the limit" if med >= value else "violates the limit"
    return rows
