"""Likelihood of a measured first harmonic (dipole amplitude and phase in right ascension).

A Rayleigh analysis (Linsley 1975, PRL 34, 1530) measures the harmonic vector
v = (a cos phi, a sin phi); for N events its two components are independent Gaussians
of common width sigma = sqrt(2/N) about the true vector (Ahlers & Mertsch 2017, Prog.
Part. Nucl. Phys. 94, 184, sec. 3.1).  Amplitude and phase are therefore *not*
independent Gaussians: the amplitude follows the Rice distribution (Rice 1944, Bell
Syst. Tech. J. 23, 282) and the phase given the amplitude a von Mises
distribution.  With nu the model amplitude, phi_m its phase, Delta = phi - phi_m and
kappa = a nu / sigma^2:

- :func:`log_like_vector` (amplitude and phase): the 2D Gaussian density of v per unit
  area of the harmonic plane,
  ln p = -(a^2 + nu^2 - 2 a nu cos Delta) / (2 sigma^2) - ln(2 pi sigma^2);
  the phase is circular by construction (only cos Delta enters);
- :func:`log_like_rice` (amplitude only): its integral over the phase,
  ln[Rice(a; nu, sigma) / a] = -(a - nu)^2 / (2 sigma^2) + ln i0e(kappa) - 2 ln sigma
  (scipy.special.i0e keeps I0 finite; the model-independent ln a is left out so the term
  is finite at a = 0);
- :func:`log_like_phase` (phase given amplitude): von Mises,
  kappa (cos Delta - 1) - ln(2 pi i0e(kappa)), so that
  log_like_vector = log_like_rice + log_like_phase exactly;
- :func:`log_like_upper_limit` (a row that gives only a limit a_ul at confidence CL):
  the limit is read with the Rayleigh construction (Linsley 1975): a_ul is the amplitude
  an isotropic sky exceeds with probability 1 - CL, exp(-a_ul^2 / (2 sigma^2)) = 1 - CL,
  so sigma = a_ul / sqrt(-2 ln(1 - CL)); the term is the probability that the measured
  amplitude falls below the limit, ln P(a <= a_ul | nu, sigma) = ln[1 - Q1(nu/sigma,
  a_ul/sigma)] (Rice CDF, Q1 Marcum's function): CL for nu = 0, decreasing in nu.

Every function broadcasts data (n_rows,) against models (n_walkers, n_rows), returns
-inf (never NaN) where the model is impossible (negative or non-finite amplitude) and
takes plain floats (amplitudes as fractions, phases in degrees).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import chndtr, i0e, i1e, log_ndtr

from crknee.errors import InputError

_LN_2PI = np.log(2.0 * np.pi)
_SQRT_2PI = np.sqrt(2.0 * np.pi)
#: below this Rice CDF, :func:`rice_log_cdf` switches from scipy's chndtr to its tail expansion
_CDF_SWITCH = 1e-60


def _finite(value, ok) -> np.ndarray:
    """``value`` where ``ok`` and finite, else -inf."""
    return np.where(ok & np.isfinite(value), value, -np.inf)


def _model_ok(a_model, phase_model_deg=None) -> np.ndarray:
    ok = np.isfinite(a_model) & (a_model >= 0)
    if phase_model_deg is not None:
        ok &= np.isfinite(phase_model_deg)
    return ok


def log_like_vector(a_obs, phase_obs_deg, sigma, a_model, phase_model_deg) -> np.ndarray:
    """ln of the 2D Gaussian density of the measured harmonic vector (per unit area).

    Marginal over phase = :func:`log_like_rice` (+ ln a_obs = the Rice pdf); the phase is
    compared through cos(phase_obs - phase_model), so any phase wrapping is allowed.
    """
    a, s, m = (np.asarray(x, dtype=float) for x in (a_obs, sigma, a_model))
    pm = np.asarray(phase_model_deg, dtype=float)
    cos_d = np.cos(np.radians(np.asarray(phase_obs_deg, dtype=float) - pm))
    with np.errstate(invalid="ignore"):
        sq = (a - m) ** 2 + 2.0 * a * m * (1.0 - cos_d)  # = |v_obs - v_model|^2, no cancellation
        val = -0.5 * sq / s**2 - np.log(2.0 * np.pi * s**2)
    return _finite(val, _model_ok(m, pm))


def log_like_rice(a_obs, sigma, a_model) -> np.ndarray:
    """ln[Rice(a_obs | a_model, sigma) / a_obs]: the amplitude-only likelihood (phase
    missing), i.e. :func:`log_like_vector` integrated over the phase."""
    a, s, m = (np.asarray(x, dtype=float) for x in (a_obs, sigma, a_model))
    with np.errstate(invalid="ignore", divide="ignore"):
        val = -0.5 * ((a - m) / s) ** 2 + np.log(i0e(a * m / s**2)) - 2.0 * np.log(s)
    return _finite(val, _model_ok(m))


def log_like_phase(phase_obs_deg, a_obs, sigma, a_model, phase_model_deg) -> np.ndarray:
    """ln of the von Mises pdf [per radian] of the measured phase given the measured
    amplitude: concentration kappa = a_obs a_model / sigma^2 (uniform for kappa = 0)."""
    a, s, m = (np.asarray(x, dtype=float) for x in (a_obs, sigma, a_model))
    pm = np.asarray(phase_model_deg, dtype=float)
    kappa = a * m / s**2
    with np.errstate(invalid="ignore", divide="ignore"):
        val = (
            kappa * (np.cos(np.radians(np.asarray(phase_obs_deg, dtype=float) - pm)) - 1.0)
            - _LN_2PI
            - np.log(i0e(kappa))
        )
    return _finite(val, _model_ok(m, pm))


def sigma_of_upper_limit(a_ul, cl) -> np.ndarray:
    """sigma of a Rayleigh upper limit: a_ul = sigma sqrt(-2 ln(1 - CL)) (Linsley 1975:
    P(r >= a_ul) = exp(-a_ul^2 / (2 sigma^2)) = 1 - CL for an isotropic sky)."""
    cl = np.asarray(cl, dtype=float)
    if np.any(~((cl > 0.5) & (cl < 1.0))):
        raise InputError(f"upper-limit confidence level must lie in (0.5, 1); got {cl!r}")
    return np.asarray(a_ul, dtype=float) / np.sqrt(-2.0 * np.log1p(-cl))


def rice_log_cdf(x, nu) -> np.ndarray:
    """ln P(a <= x) for a Rice amplitude of true value nu (both in units of sigma).

    ln[1 - Q1(nu, x)] from scipy's non-central chi2 CDF (chndtr of x^2, 2 dof, nu^2)
    while that is >= 1e-60; below (chndtr underflows near 1e-90) the lower-tail expansion
    of CDF = int_0^x h(a) phi(a - nu) da with h(a) = sqrt(2 pi) a i0e(a nu) (exact
    rewriting of the Rice pdf) about the end point, t = nu - x:
    CDF = Phi(-t) [h(x) - h'(x) / t + O(h'' / t^2)], h' = sqrt(2 pi) [i0e + z (i1e - i0e)],
    z = x nu.  At the switch it agrees with the exact CDF to ~3e-4 in ln (tested).
    """
    x, nu = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(nu, dtype=float))
    cdf = np.asarray(chndtr(x**2, 2.0, nu**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.array(np.log(cdf))
        tail = (cdf < _CDF_SWITCH) & (nu > x) & (x > 0)
        if tail.any():
            xt, nt = x[tail], nu[tail]
            t, z = nt - xt, xt * nt
            h = _SQRT_2PI * xt * i0e(z)
            dh = _SQRT_2PI * (i0e(z) + z * (i1e(z) - i0e(z)))
            out[tail] = log_ndtr(-t) + np.log(h - dh / t)
    return np.where(np.isnan(out), -np.inf, out)


def log_like_upper_limit(a_ul, cl, a_model) -> np.ndarray:
    """ln P(a_obs <= a_ul | a_model, sigma) for a limit-only row, sigma from
    :func:`sigma_of_upper_limit` (the limit read as a Rayleigh limit at ``cl``): ln CL at
    a_model = 0, decreasing monotonically, ~ ln Phi((a_ul - a_model)/sigma) far above."""
    ul = np.asarray(a_ul, dtype=float)
    m = np.asarray(a_model, dtype=float)
    s = sigma_of_upper_limit(ul, cl)
    ok = _model_ok(m)
    val = rice_log_cdf(np.broadcast_to(ul / s, np.broadcast_shapes(ul.shape, m.shape)), np.where(ok, m, 0.0) / s)
    return _finite(val, ok)


def sigma_of_row(
    err_lo, err_hi, a_obs, phase_err_deg, amp_err_lo_reaches_zero=False, phase_err_missing=False
) -> np.ndarray:
    """One sigma (per component of the harmonic vector) from a row's published errors.

    - Amplitude errors (preferred: they are sigma itself in a Rayleigh analysis):
      sigma = (err_lo + err_hi) / 2, the half width of the published 68 % interval;
      where the lower error reaches zero (``amp_err_lo_reaches_zero``: the bar was clipped
      at a = 0, so err_lo carries no width) sigma = err_hi.
    - Otherwise the phase error (``phase_err_deg``, mean of its two sides), which for
      a >> sigma is sigma / a [rad]: sigma = a_obs * radians(phase_err); unusable where
      ``phase_err_missing`` or it is not > 0.

    A row without a measured amplitude (``a_obs`` NaN: a limit-only row) gets NaN;
    :class:`InputError` names the first measured row (0-based) with neither error.
    """
    lo, hi, a, pe = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (err_lo, err_hi, a_obs, phase_err_deg)))
    clipped = np.broadcast_to(np.asarray(amp_err_lo_reaches_zero, dtype=bool), lo.shape)
    no_phase = np.broadcast_to(np.asarray(phase_err_missing, dtype=bool), lo.shape)
    with np.errstate(invalid="ignore"):
        amp = np.where(clipped, hi, 0.5 * (lo + hi))
        amp_ok = np.isfinite(amp) & (amp > 0) & np.isfinite(hi) & (hi > 0) & (clipped | (np.isfinite(lo) & (lo > 0)))
        ph = a * np.radians(pe)
        ph_ok = ~no_phase & np.isfinite(ph) & (ph > 0)
    sigma = np.where(amp_ok, amp, np.where(ph_ok, ph, np.nan))
    bad = np.isfinite(a) & ~(amp_ok | ph_ok)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(
            f"row {i}: no usable error (amplitude errors {lo.ravel()[i]!r}/{hi.ravel()[i]!r}, "
            f"phase error {pe.ravel()[i]!r} deg)"
        )
    return sigma


def vector_threshold(cl: float = 0.6827) -> float:
    """-2 Delta ln L bounding the ``cl`` likelihood-ratio region of the 2D harmonic
    vector: chi2 with 2 dof, -2 ln(1 - cl) (2.30 for 68.27 %)."""
    if not 0.0 < cl < 1.0:
        raise InputError(f"confidence level must lie in (0, 1); got {cl!r}")
    return float(-2.0 * np.log1p(-cl))


@lru_cache(maxsize=8)
def _rice_belt(cl: float, nu_max: float = 12.0, n_nu: int = 1201, a_max: float = 18.0, n_a: int = 3601):
    """Feldman & Cousins (1998, PRD 57, 3873) acceptance belt of the Rice amplitude (sigma = 1):
    (nu grid, a_lo(nu), a_hi(nu)), ranking a by Rice(a|nu) / Rice(a|nu_best(a))."""
    nu = np.linspace(0.0, nu_max, n_nu)
    a = np.linspace(0.0, a_max, n_a)
    da = a[1] - a[0]
    # ln Rice(a|nu) = ln a - (a - nu)^2 / 2 + ln i0e(a nu)
    log_p = -0.5 * (a[None, :] - nu[:, None]) ** 2 + np.log(i0e(a[None, :] * nu[:, None]))
    ratio = log_p - log_p.max(axis=0)  # ln a cancels in the ratio; best nu on the grid
    p = np.exp(log_p) * a[None, :] * da
    order = np.argsort(-ratio, axis=1, kind="stable")
    cum = np.cumsum(np.take_along_axis(p, order, axis=1), axis=1)
    n_take = np.argmax(cum >= cl, axis=1) + 1
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_a)[None, :].repeat(n_nu, axis=0), axis=1)
    accepted = rank < n_take[:, None]
    a_lo = np.where(accepted, a[None, :], np.inf).min(axis=1) - 0.5 * da
    a_hi = np.where(accepted, a[None, :], -np.inf).max(axis=1) + 0.5 * da
    a_lo = np.maximum(a_lo, 0.0)
    return nu, np.maximum.accumulate(a_lo), np.maximum.accumulate(a_hi)


def amplitude_interval(a_obs, sigma, cl: float = 0.6827) -> tuple[np.ndarray, np.ndarray]:
    """Neyman confidence interval [nu_lo, nu_hi] on the true amplitude from a measured
    amplitude alone (phase ignored), with the Feldman-Cousins likelihood-ratio ordering
    of the Rice distribution: never empty, an upper limit (nu_lo = 0) at low significance.
    Exact up to the grid (0.005 sigma in a, 0.01 sigma in nu); valid for a_obs <= 10 sigma.
    """
    if not 0.0 < cl < 1.0:
        raise InputError(f"confidence level must lie in (0, 1); got {cl!r}")
    x = np.asarray(a_obs, dtype=float) / np.asarray(sigma, dtype=float)
    if np.any(~np.isfinite(x) | (x < 0) | (x > 10.0)):
        raise InputError(f"amplitude_interval needs 0 <= a_obs/sigma <= 10; got {x[~((x >= 0) & (x <= 10))].flat[0]!r}")
    nu, a_lo, a_hi = _rice_belt(float(cl))
    # nu_lo: smallest nu whose acceptance reaches up to x; nu_hi: largest nu whose acceptance starts below x
    lo = nu[np.clip(np.searchsorted(a_hi, x, side="left"), 0, nu.size - 1)]
    hi = nu[np.clip(np.searchsorted(a_lo, x, side="right") - 1, 0, nu.size - 1)]
    s = np.asarray(sigma, dtype=float)
    return lo * s, hi * s
