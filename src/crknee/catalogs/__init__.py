"""crknee.catalogs: posterior of the knee source x X-ray binary catalogues (paper Sec. 3).

Public API (details in docs/catalogs.md):

* :func:`galactic_plane_xy`, :data:`R_SUN` - the Galactic-plane frame of Fig. 10;
* :func:`load_binaries`, :func:`merge`, :data:`DEFAULT_CATALOGS`, :data:`MICROQUASARS`;
* :class:`HPDRegion`, :data:`HPD_CONVENTIONS` - 2D KDE and 1/2 sigma HPD levels;
* :func:`find_candidates`, :func:`read_samples`, :func:`synthetic_posterior` (of a quoted result);
* :func:`microquasar_positions` - the five LHAASO microquasars for the map.
"""

from crknee._lazy import attach, exports_of

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        **exports_of(
            "crknee.catalogs.binaries", "DEFAULT_CATALOGS", "MICROQUASARS", "load_binaries", "merge", "standardise"
        ),
        **exports_of(
            "crknee.catalogs.candidates",
            "MAX_B",
            "find_candidates",
            "inside",
            "read_samples",
            "synthetic_posterior",
            "two_piece_normal",
        ),
        **exports_of("crknee.catalogs.frame", "R_SUN", "galactic_plane_xy"),
        **exports_of("crknee.catalogs.hpd", "HPD_CONVENTIONS", "HPDRegion"),
        **exports_of("crknee.catalogs.microquasars", "microquasar_positions"),
    },
)
