"""Joint MCMC fit of the knee source (paper Sec. 3, Figs. 6-9): likelihood from declared
pieces, emcee with a resumable HDF5 chain, serial / process / dask / MPI evaluation.

Modules: :mod:`~crknee.fit.parameters` (priors), :mod:`~crknee.fit.likelihood` (pieces),
:mod:`~crknee.fit.model` (knee source on :class:`FixedComponents`),
:mod:`~crknee.fit.sampler`, :mod:`~crknee.fit.pools`, :mod:`~crknee.fit.mock`,
:mod:`~crknee.fit.summary`, :mod:`~crknee.fit.schema` (the ``[fit]`` config, with
:data:`EXAMPLE_TOML`), :mod:`~crknee.fit.driver` (one fit to files).
"""

from crknee.fit.driver import fit, load_section
from crknee.fit.model import FixedComponents, KneeSourceModel
from crknee.fit.schema import EXAMPLE_TOML, FitProblem, problem_from_config

__all__ = [
    "EXAMPLE_TOML",
    "FitProblem",
    "FixedComponents",
    "KneeSourceModel",
    "fit",
    "load_section",
    "problem_from_config",
]
