"""crknee.catalogs: posterior of the knee source x X-ray binary catalogues (paper Sec. 3).

Public API (details in docs/catalogs.md):

* :func:`galactic_plane_xy`, :data:`R_SUN` - the Galactic-plane frame of Fig. 10;
* :func:`load_binaries`, :func:`merge`, :data:`DEFAULT_CATALOGS`, :data:`MICROQUASARS`;
* :class:`HPDRegion`, :data:`HPD_CONVENTIONS` - 2D KDE and 1/2 sigma HPD levels;
* :func:`find_candidates`, :func:`read_samples`, :func:`paper_posterior`;
* :func:`microquasar_positions` - the five LHAASO microquasars for the map.
"""
from crknee.catalogs.binaries import DEFAULT_CATALOGS, MICROQUASARS, load_binaries, merge, standardise
from crknee.catalogs.candidates import (
    MAX_B,
    PAPER_RESULT,
    find_candidates,
    inside,
    paper_posterior,
    read_samples,
    two_piece_normal,
)
from crknee.catalogs.frame import R_SUN, galactic_plane_xy
from crknee.catalogs.hpd import HPD_CONVENTIONS, HPDRegion
from crknee.catalogs.microquasars import microquasar_positions

__all__ = [
    "DEFAULT_CATALOGS", "HPD_CONVENTIONS", "HPDRegion", "MAX_B", "MICROQUASARS", "PAPER_RESULT",
    "R_SUN", "find_candidates", "galactic_plane_xy", "inside", "load_binaries", "merge",
    "microquasar_positions", "paper_posterior", "read_samples", "standardise", "two_piece_normal",
]
