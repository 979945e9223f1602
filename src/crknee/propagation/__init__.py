"""Background cosmic-ray propagation (paper eq. 1-4): solver, nuclear network, gas, losses.

``solve(PropagationModel())`` returns a :class:`Solution` at the Sun (spectra, ratios,
all-particle flux, gradients); :func:`fit_propagation` fits D0, delta, v_A to the AMS-02
B/C ratio; :func:`fit_normalisations` the injection constants to AMS-02 p and He;
:class:`PreparedSolver` with :func:`fit_resolution_model` solves many parameter sets of
one network at the fit resolution (:data:`FIT_RESOLUTION`, issue 15).
Method and conventions: docs/propagation.md.
"""

from crknee._lazy import attach, exports_of

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        **exports_of("crknee.propagation.fitting", "fit_normalisations", "fit_propagation"),
        **exports_of("crknee.propagation.model", "PropagationModel"),
        **exports_of("crknee.propagation.prepared", "FIT_RESOLUTION", "PreparedSolver", "fit_resolution_model"),
        **exports_of("crknee.propagation.solution", "Q_UNIT", "Solution", "solve"),
    },
)
