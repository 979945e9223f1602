"""Dipole anisotropy of cosmic rays (paper Sec. 2.3) and what each experiment measures.

- :mod:`crknee.anisotropy.dipole`: dipole vectors from gradients (Fick's law), their sum
  over components and the equatorial projection (amplitude d_perp, RA phase);
- :mod:`crknee.anisotropy.conventions`: what an experiment published (d_perp, first
  harmonic r1 = d_perp <cos dec> over its exposure, ...) from a model dipole;
- :mod:`crknee.anisotropy.sky`: simulated event skies and their Rayleigh analysis;
- :mod:`crknee.anisotropy.field`: the dipole projected on the local magnetic field;
- :mod:`crknee.anisotropy.predict`: the one function from components to every prediction.
"""

from crknee._lazy import attach, exports_of

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        **exports_of(
            "crknee.anisotropy.conventions",
            "CONVENTIONS",
            "Convention",
            "exposure_moments",
            "mean_cos_dec",
            "relative_exposure",
        ),
        **exports_of(
            "crknee.anisotropy.dipole",
            "Equatorial",
            "background_dipole",
            "background_gradient_vector",
            "combine",
            "dipole_from_gradient",
            "equatorial",
            "equatorial_quantity",
            "galactic_to_icrs_matrix",
            "solution_dipole",
            "unit_vector",
        ),
        **exports_of("crknee.anisotropy.field", "IBEX_FIELD", "FieldAlignment"),
        **exports_of(
            "crknee.anisotropy.predict",
            "KNEE_PARAMETERS",
            "DipolePrediction",
            "Tabulated",
            "dataset_energies_GeV",
            "predict_dipole",
            "row_energies_GeV",
            "tabulate",
        ),
        **exports_of("crknee.anisotropy.sky", "Rayleigh", "rayleigh", "simulate_sky"),
    },
)
