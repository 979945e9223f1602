"""Radioactive decays of cosmic-ray nuclei and the short-lived "ghost" nuclei.

Three bundled tables (nuclear/SOURCES.md):

* ``usine_v3.5/crchart_Z28_2020.txt`` (USINE CR chart, Maurin 2020, CPC 247, 106942):
  decay mode **in the cosmic-ray context** and half-life [kyr] of the fully stripped
  nucleus.  This is the table the network uses.  Pure electron-capture nuclei (7Be,
  37Ar, 41Ca, 44Ti, 49V, 51Cr, 53Mn, 55Fe, 57Co) are STABLE there (fully stripped
  approximation); beta+/EC mixtures carry the bare-nucleus beta+ half-life (26Al 910 kyr,
  Martinez-Pinedo & Vogel 1998 PRL 81, 281); 54Mn its beta- half-life (630 kyr, Wuosmaa
  et al. 1998 PRL 80, 2085); 10Be 1510 kyr, 14C 5.7 kyr, 36Cl 307 kyr.
* ``decay/halflives_radioactivedecay_ICRP107.csv``: laboratory (neutral atom) half-lives
  of ICRP Publication 107 (2008) via radioactivedecay 0.6.1; used as a cross-check.
* ``xs4gcr/Evoli2026_ghost_list.txt``: ghosts (lifetime << propagation times) with
  branching ratios, as used by Evoli et al. 2018 (JCAP 07, 006) to build cumulative
  production cross sections.

Mean lifetime tau = T_1/2 / ln 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from crknee.data import raw_path
from crknee.errors import DataError
from crknee.kinematics import ELEMENT_SYMBOLS, Z_OF, nuclide

CRCHART = "nuclear/usine_v3.5/crchart_Z28_2020.txt"
ICRP107 = "nuclear/decay/halflives_radioactivedecay_ICRP107.csv"
GHOSTS = "nuclear/xs4gcr/Evoli2026_ghost_list.txt"

_LN2 = np.log(2.0)
#: Seconds per unit of the ghost list's lifetime column (Julian year, 365.25 d).
_SECONDS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "y": 3.15576e7}


@dataclass(frozen=True)
class Decay:
    """One radioactive cosmic-ray nucleus: ``name``, ``mode`` ("BETA-" or "BETA+"),
    rest-frame half-life ``half_life_Myr`` [Myr] and ``daughter`` (crknee name)."""

    name: str
    mode: str
    half_life_Myr: float
    daughter: str

    @property
    def tau_Myr(self) -> float:
        """Rest-frame mean lifetime T_1/2 / ln 2 [Myr]."""
        return self.half_life_Myr / _LN2


@dataclass(frozen=True)
class Ghost:
    """A short-lived nucleus ``parent`` decaying to ``child`` with ``branching`` (0..1;
    2 for 8Be -> 2 alpha, multiplicity folded in) and lifetime ``tau_s`` [s]."""

    parent: str
    child: str
    branching: float
    tau_s: float


def _name(Z: int, A: int) -> str:
    return f"{ELEMENT_SYMBOLS[Z - 1]}{A}"


@cache
def read_crchart(relpath: str = CRCHART) -> dict[str, Decay]:
    """Radioactive nuclei of the USINE CR chart: {name: Decay}; STABLE/FED rows omitted."""
    out: dict[str, Decay] = {}
    for ln in raw_path(relpath).read_text().splitlines():
        f = ln.split("#", 1)[0].split()
        if not f:
            continue
        Z, A, mode, t_kyr = int(f[0]), int(f[1]), f[3], float(f[4])
        if mode not in ("BETA-", "BETA+"):
            continue
        if not t_kyr > 0:
            raise DataError(f"{relpath}: {f[2]} has mode {mode} but half-life {t_kyr!r} kyr")
        dZ = 1 if mode == "BETA-" else -1
        out[_name(Z, A)] = Decay(_name(Z, A), mode, t_kyr * 1e-3, _name(Z + dZ, A))
    return out


@cache
def read_icrp107(relpath: str = ICRP107) -> dict[str, tuple[float, str, dict[str, float]]]:
    """Laboratory half-lives: {name: (half_life_yr, decay_modes, {progeny: branching})}.

    Metastable progeny (``Co-60m``) are merged into their nuclide."""
    out = {}
    for ln in raw_path(relpath).read_text().splitlines():
        if not ln.strip() or ln.startswith(("#", "name,")):
            continue
        f = ln.split(",")
        prog = {}
        for item in f[5].split(";"):
            child, br = item.split(":")
            el, a = child.split("-")
            if el not in Z_OF:  # progeny beyond Ni (e.g. Ni-63 -> Cu-63)
                continue
            iso = _name(Z_OF[el], int(a.rstrip("mn")))  # isomers (Co-60m) -> the nuclide
            prog[iso] = prog.get(iso, 0.0) + float(br)
        out[_name(int(f[1]), int(f[2]))] = (float(f[3]), f[4], prog)
    return out


@cache
def read_ghosts(relpath: str = GHOSTS) -> tuple[Ghost, ...]:
    """Ghost nuclei (``El A El A BR[%] tau unit`` rows) with children H..Ni."""
    out = []
    for ln in raw_path(relpath).read_text().splitlines():
        f = ln.split("#", 1)[0].split()
        if not f:
            continue
        if len(f) != 7 or f[6] not in _SECONDS:
            raise DataError(f"{relpath}: malformed ghost row {ln!r}")
        if f[0] not in Z_OF or f[2] not in Z_OF:
            continue
        parent = _name(Z_OF[f[0]], int(f[1]))
        child = _name(Z_OF[f[2]], int(f[3]))
        out.append(Ghost(parent, child, float(f[4]) / 100.0, float(f[5]) * _SECONDS[f[6]]))
    return tuple(out)


def ghost_feeding(child: str, relpath: str = GHOSTS) -> dict[str, float]:
    """Cumulative fraction of each ghost that ends as ``child``, following ghost chains.

    E.g. ``ghost_feeding("B11")["C11"] == 1`` (11C -> 11B, 100 %).
    """
    child = nuclide(child).name
    ghosts = read_ghosts(relpath)
    by_parent: dict[str, list[Ghost]] = {}
    for g in ghosts:
        by_parent.setdefault(g.parent, []).append(g)

    @cache
    def fraction(parent: str) -> float:
        return sum(
            g.branching * (1.0 if g.child == child else fraction(g.child) if g.child in by_parent else 0.0)
            for g in by_parent.get(parent, ())
        )

    return {p: fr for p in by_parent if (fr := fraction(p)) > 0}
