"""Gaussian likelihood with a full covariance matrix, and the analytic marginalisation over
parameters the model is linear in.

* :class:`CorrelatedGaussian`: chi2 = r^T C^-1 r computed as the squared norm of L^-1 r, C = L L^T
  (Cholesky, :func:`scipy.linalg.cholesky`); the triangular inverse L^-1 is formed once
  (:func:`scipy.linalg.solve_triangular` on the identity) so that whitening a residual in
  the sampler's loop is one small matrix product.  For diagonal C it is
  sum (r_i / sigma_i)^2 exactly (tested).
* :func:`marginal_linear`: data d = M q + noise with q a vector of linear amplitudes (the
  source normalisations Q_H, Q_He, Q_{Z>2} of eq. 4) and a flat prior on q; integrating q
  out exactly gives

      -2 ln L_marg = chi2(q_hat) + ln det(M^T C^-1 M) + const,
      q_hat = (M^T C^-1 M)^-1 M^T C^-1 d

  (e.g. Sivia & Skilling 2006, "Data Analysis", Sec. 3.3; the same algebra as the linear
  normalisation fit of crknee.propagation.fitting).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cholesky, solve_triangular

from crknee.errors import InputError


class CorrelatedGaussian:
    """The Gaussian likelihood of one data vector with covariance ``C`` (n, n)."""

    def __init__(self, C):
        C = np.asarray(C, dtype=float)
        if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.allclose(C, C.T, rtol=1e-12, atol=0.0):
            raise InputError(f"covariance must be a symmetric square matrix; got shape {C.shape}")
        try:
            self.L = cholesky(C, lower=True)
        except np.linalg.LinAlgError:
            raise InputError("covariance matrix is not positive definite") from None
        self.n = C.shape[0]
        self.L_inv = solve_triangular(self.L, np.eye(self.n), lower=True)

    def whiten(self, r) -> np.ndarray:
        """L^-1 r for a residual vector (n,) or matrix (n, k)."""
        return self.L_inv @ np.asarray(r, dtype=float)

    def chi2(self, r) -> float:
        """r^T C^-1 r."""
        w = self.whiten(r)
        return float(w @ w)


def marginal_linear(d_white, M_white) -> tuple[float, float, np.ndarray]:
    """(chi2 at q_hat, ln det F, q_hat) for whitened data (n,) and design matrix (n, k),
    F = M^T C^-1 M (module docstring).  Columns of M whose norm is below 1e-100 of the
    largest (zero up to the solver's 1e-300 floor of absent species) are dropped: their
    amplitude is unconstrained and enters no prediction, q_hat = 0 there."""
    d, M = np.asarray(d_white, dtype=float), np.asarray(M_white, dtype=float)
    norm = np.sqrt(np.sum(M * M, axis=0))
    used = norm > 1e-100 * np.max(norm)
    q = np.zeros(M.shape[1])
    Mu = M[:, used]
    F = Mu.T @ Mu
    sign, logdet = np.linalg.slogdet(F)
    if sign <= 0:
        raise InputError("the linear amplitudes are degenerate (M^T C^-1 M singular)")
    q[used] = np.linalg.solve(F, Mu.T @ d)
    r = d - Mu @ q[used]
    return float(r @ r), float(logdet), q
