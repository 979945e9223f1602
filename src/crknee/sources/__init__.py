"""Point sources of cosmic rays (paper eq. 5-6): injection, Green's functions, sources.

Main objects: :class:`PointSource` (one source: flux, dipole), :class:`KneeModel`
(vectorised multi-species knee source), :func:`total_flux` / :func:`total_dipole`
(sources plus background), :func:`named_source` (the catalogue), :func:`fit_local_snr`.
Imported lazily on first access (:mod:`crknee._lazy`).
"""

from crknee._lazy import attach, exports_of

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        **exports_of("crknee.sources.catalogue", "CatalogueEntry", "NAMED_SOURCES", "LOCAL_SNR", "named_source"),
        **exports_of("crknee.sources.injection", "Composition", "PROTONS", "galprop_composition", "injection_spectrum"),
        **exports_of("crknee.sources.local_snr", "AnisotropyConstraint", "LocalSnrFit", "fit_local_snr"),
        **exports_of("crknee.sources.model", "KneeModel", "KneeResult", "knee_model"),
        **exports_of("crknee.sources.point", "FLUX_UNIT", "PointSource", "ValidityWarning"),
        **exports_of("crknee.sources.total", "TotalDipole", "total_dipole", "total_flux"),
    },
)
