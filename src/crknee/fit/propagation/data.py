"""The data of the propagation fit: which datasets, in which rigidity window, and checks.

A dataset enters as an :class:`Observable`: a flux ratio (families ``bc``, ``ratio``) or an
element spectrum (``nuclei``, ``proton``, ``helium``), versus rigidity, with its
statistical and systematic errors kept apart (for :mod:`.covariance`).  Refused with a
one-line :class:`~crknee.errors.ConfigError` naming the dataset:

* a dataset of another quantity family (e.g. ``anisotropy/...``, ``lnA/...``);
* a dataset not versus rigidity;
* a species absent from the solver's network (e.g. Fe/O with the Li ... O network);
* a ratio of elements from different primary groups (H, He, Z > 2): their normalisations
  are the linear amplitudes marginalised from the spectra (:mod:`crknee.fit.propagation.likelihood`), which a ratio
  across groups would make non-linear.

Errors: asymmetric errors are symmetrised (mean of lo and hi); upper limits are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.errors import ConfigError, CrkneeError

#: Quantity families the propagation fit can model.
FAMILIES = ("bc", "ratio", "nuclei", "proton", "helium")
_ELEMENT_OF_FAMILY = {"proton": "H", "helium": "He"}


def group_of(element: str) -> str:
    """Primary group (crknee.propagation.solver.GROUPS) of an element."""
    return "H" if element == "H" else "He" if element == "He" else "Z>2"


@dataclass(frozen=True)
class Observable:
    """One dataset in its window: ``kind`` "ratio" (``species`` = (num, den)) or "flux"
    (``species`` = (element,)); ``R_GV``, ``y``, ``stat``, ``sys`` plain arrays (y in ``unit``)."""

    name: str
    kind: str
    species: tuple
    R_GV: np.ndarray
    y: np.ndarray
    stat: np.ndarray
    sys: np.ndarray
    unit: str
    reference: str

    @property
    def label(self) -> str:
        return "/".join(self.species) if self.kind == "ratio" else f"{self.species[0]} flux"


def _species(name: str, family: str, meta: dict) -> tuple:
    if family == "bc":
        return ("B", "C")
    if family == "ratio":
        return (meta.get("numerator"), meta.get("denominator"))
    if family in _ELEMENT_OF_FAMILY:
        return (_ELEMENT_OF_FAMILY[family],)
    return (meta.get("species"),)


def observable(spec, where: str, elements, load=None) -> Observable:
    """Validate one dataset table ``{name, window_GV}`` and build its :class:`Observable`.

    ``elements``: the elements of the solver's network."""
    if load is None:
        from crknee.data import load
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ConfigError(f"{where}: expected a table with a dataset 'name'; got {spec!r}")
    unknown = sorted(set(spec) - {"name", "window_GV"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: name, window_GV)")
    name = spec["name"]
    family = name.split("/", 1)[0]
    if family not in FAMILIES:
        raise ConfigError(
            f"{where}.name: dataset {name!r} is in quantity family {family!r}; the propagation fit "
            f"models {list(FAMILIES)}"
        )
    window = spec.get("window_GV", [0.0, np.inf])
    try:
        lo, hi = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.window_GV must be [min, max] in GV; got {window!r}") from None
    if not 0 <= lo < hi:
        raise ConfigError(f"{where}.window_GV must have 0 <= min < max; got {window!r}")
    try:
        table = load(name)
    except CrkneeError as exc:
        raise ConfigError(f"{where}.name: {exc}") from None
    if table.meta.get("x_variable") != "R":
        raise ConfigError(f"{where}.name: {name} is not versus rigidity (x_variable {table.meta.get('x_variable')!r})")
    species = _species(name, family, table.meta)
    missing = [s for s in species if s not in elements]
    if missing:
        raise ConfigError(
            f"{where}.name: {name} needs {missing[0]!r}, which is not in the fit's network "
            f"({', '.join(elements)}); raise propagation_fit.heaviest"
        )
    if len(species) == 2 and group_of(species[0]) != group_of(species[1]):
        raise ConfigError(
            f"{where}.name: {name} is a ratio across primary groups ({species[0]} in "
            f"{group_of(species[0])}, {species[1]} in {group_of(species[1])}); fit their spectra instead"
        )
    R = table["x"].to_value("GV")
    keep = ~np.asarray(table["upper_limit"], dtype=bool) & (R >= lo) & (R <= hi)
    if not keep.any():
        raise ConfigError(f"{where}.window_GV: no point of {name} inside [{lo:g}, {hi:g}] GV")

    def sym(a, b):
        return 0.5 * (np.asarray(table[a][keep].value, dtype=float) + np.asarray(table[b][keep].value, dtype=float))

    return Observable(
        name=name,
        kind="ratio" if len(species) == 2 else "flux",
        species=tuple(species),
        R_GV=np.asarray(R[keep], dtype=float),
        y=np.asarray(table["y"][keep].value, dtype=float),
        stat=sym("y_stat_lo", "y_stat_hi"),
        sys=sym("y_sys_lo", "y_sys_hi"),
        unit=str(table["y"].unit),
        reference=str(table.meta.get("reference", "")),
    )


def observables(specs, where: str, elements, load=None) -> list[Observable]:
    """:func:`observable` of every entry of a ``[[propagation_fit.datasets]]`` list."""
    if not isinstance(specs, list) or not specs:
        raise ConfigError(f"{where} must be a non-empty list of datasets")
    out = [observable(s, f"{where}[{i}]", elements, load) for i, s in enumerate(specs)]
    names = [o.name for o in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{where}: dataset {dup[0]!r} listed twice")
    return out
