"""AMS-02 systematic errors as correlated errors (the covariance model of the fit).

Derome et al. 2019 (A&A 627, A158, "Fitting B/C cosmic-ray data in the AMS-02 era: a
cookbook") split the AMS-02 systematics into components (acceptance, rigidity scale,
unfolding, nuclear interactions in the detector), give each a correlation matrix in
rigidity, and sum them; Heisig, Korsmeier & Winkler 2020 (PRR 2, 043017) follow the same
scheme with per-component correlation lengths in log R.  Per component k,

    C_ij = delta_ij stat_i^2 + sum_k sys_k,i sys_k,j rho(|log10 R_i - log10 R_j| / l_k),

with the Gaussian kernel rho(x) = exp(-x^2/2) of those papers, or the exponential
(Ornstein-Uhlenbeck) kernel rho(x) = exp(-x) (``kernel = "exponential"``, crknee's default).
Why the default differs: a Gaussian kernel matrix on ~70 bins 0.04 dex apart with
l = 0.3 dex has eigenvalues falling faster than exponentially, so only very smooth
deviations are "covered" by the systematics and any residual wiggle at the statistical
level (AMS-02 p and He: 0.1-0.3 %; the fit-resolution model: < 1 %) is counted in units of
the statistical error; the exponential kernel correlates neighbours as strongly but
leaves that freedom (measured: docs/propagation_fit.md).

**Approximation.**  crknee's bundled AMS-02 tables (KISS / CRDB conversion of Aguilar et
al. 2021, Phys. Rep. 894, 1) give only the *total* systematic error per bin, not its
breakdown; :func:`covariance` therefore uses one component carrying the whole systematic
error with one correlation length ``length_dex`` (decades of rigidity; config
``sys_correlation_length_dex``).  Different datasets (e.g. B/C and B/O, which share the B
counts) are treated as independent: the cross-dataset correlations are neglected.
``length_dex = 0`` gives the diagonal stat (+) sys covariance used by the paper-era fits.
"""

from __future__ import annotations

import numpy as np

from crknee.errors import InputError

KERNELS = ("exponential", "gaussian")


def covariance(R_GV, stat, sys, length_dex: float, kernel: str = "exponential") -> np.ndarray:
    """Covariance matrix (n, n) of one dataset, in the square of the data's unit.

    ``R_GV`` bin rigidities [GV]; ``stat``, ``sys`` symmetric 1-sigma errors (n,);
    ``length_dex`` correlation length of the systematics in log10 R (>= 0; 0: diagonal);
    ``kernel``: one of :data:`KERNELS`.
    """
    R = np.asarray(R_GV, dtype=float)
    stat, sys = np.asarray(stat, dtype=float), np.asarray(sys, dtype=float)
    if R.ndim != 1 or stat.shape != R.shape or sys.shape != R.shape:
        raise InputError(f"R_GV, stat and sys must be 1-D of one length; got {R.shape}, {stat.shape}, {sys.shape}")
    if np.any(~(R > 0)) or np.any(~np.isfinite(stat) | (stat < 0)) or np.any(~np.isfinite(sys) | (sys < 0)):
        raise InputError("rigidities must be > 0 and errors finite and >= 0")
    if not np.isfinite(length_dex) or length_dex < 0:
        raise InputError(f"correlation length must be >= 0 decades; got {length_dex!r}")
    if kernel not in KERNELS:
        raise InputError(f"unknown correlation kernel {kernel!r}; choose from {KERNELS}")
    if length_dex == 0:
        return np.diag(stat**2 + sys**2)
    x = np.abs(np.log10(R)[:, None] - np.log10(R)[None, :]) / length_dex
    rho = np.exp(-0.5 * x**2) if kernel == "gaussian" else np.exp(-x)
    return np.diag(stat**2) + np.outer(sys, sys) * rho
