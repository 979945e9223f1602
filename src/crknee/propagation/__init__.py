"""Background cosmic-ray propagation (paper eq. 1-4): solver, nuclear network, gas, losses.

``solve(PropagationModel())`` returns a :class:`Solution` at the Sun (spectra, ratios,
all-particle flux, gradients); :func:`fit_propagation` fits D0, delta, v_A to the AMS-02
B/C ratio; :func:`fit_normalisations` the injection constants to AMS-02 p and He;
:class:`PreparedSolver` with :func:`fit_resolution_model` solves many parameter sets of
one network at the fit resolution (:data:`FIT_RESOLUTION`, issue 15).
Method and conventions: docs/propagation.md.
"""
from crknee.propagation.fitting import fit_normalisations, fit_propagation
from crknee.propagation.model import PropagationModel
from crknee.propagation.prepared import FIT_RESOLUTION, PreparedSolver, fit_resolution_model
from crknee.propagation.solution import Q_UNIT, Solution, solve

__all__ = ["FIT_RESOLUTION", "PreparedSolver", "PropagationModel", "fit_resolution_model", "Q_UNIT", "Solution", "fit_normalisations", "fit_propagation", "solve"]
