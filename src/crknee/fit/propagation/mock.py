"""Mock data for injection-recovery: the solver's prediction at known parameters plus
Gaussian noise drawn from the data covariance (AMS-02 errors, correlated systematics).

:func:`mock_problem` returns a copy of a :class:`~.model.FitProblem` whose observables hold
the mock values at the real data's rigidities and errors (the errors, hence the
covariance, are unchanged; spectra are normalised by the q_hat of the real data at
``truth`` so that the mock amplitudes are the data's).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np


def mock_problem(problem, truth_all, rng: np.random.Generator, noise: bool = True):
    """``problem`` with mock observables made at all-parameter values ``truth_all``."""
    m = problem.model
    ev = m.evaluate(truth_all)
    ys = []
    for k in range(len(m.observables)):
        y = ev["predictions"][k]
        ys.append(y + m.gauss[k].L @ rng.standard_normal(y.size) if noise else y)
    return replace(problem, model=m.with_values(ys))
