"""A proposal that knows the posterior's shape: the Laplace approximation at the MAP and an
independence Metropolis-Hastings move drawn from it.

The posterior of the propagation fit is strongly correlated (B/C ~ xs_B / D0, delta-V_c,
the injection break against the diffusion break) and piled against prior bounds (v_A at 0,
R_br at 50 GV).  A proposal fitted to its mean and covariance lets a walker
jump across it in one step, which random-walk-like ensemble moves (DE, stretch) cannot:

* :func:`laplace_covariance`: Sigma = (-d^2 ln p / d theta^2)^-1 at the MAP by central
  finite differences (in units of each prior span, step ``h``; the stencil is shifted
  inside the prior box when the MAP is within ``h`` of a bound); eigenvalues <= 0 (a MAP
  on a bound, a flat direction) are replaced by a prior-span-sized variance so the
  proposal still covers that direction.
* :class:`IndependenceMove`: emcee :class:`~emcee.moves.MHMove` proposing every walker
  independently from a multivariate Student-t (``df`` degrees of freedom, heavier tails
  than the Gaussian so the proposal dominates the posterior's tails) centred on the MAP
  with scale matrix ``scale^2 Sigma``.  The Metropolis-Hastings ratio carries
  q(x) / q(x') (Hastings 1970, Biometrika 57, 97; Tierney 1994, Ann. Stat. 22, 1701,
  Sec. 2.3.3: the independence chain), so the stationary distribution is exact whatever
  Sigma is; Sigma only sets the acceptance.  Mixed with the DE moves
  (:func:`crknee.fit.sampler._de_moves`) the chain also explores where the Student-t is
  poor.  The 50-tau stop rule is unchanged.
* :func:`adapt`: discarded pilot rounds that re-fit the proposal to the chain, because the
  Laplace covariance at a MAP on several bounds is a poor guess (measured on the default
  problem: docs/propagation_fit.md).
"""

from __future__ import annotations

import emcee
import numpy as np

from crknee.errors import ConfigError


def laplace_covariance(log_post, parameters, theta, h: float = 2e-3) -> np.ndarray:
    """Covariance (n_free, n_free) of the Laplace approximation at ``theta`` (module
    docstring); ``log_post`` vectorised (n, n_free) -> (n,)."""
    lo = np.array([p.min for p in parameters.free])
    hi = np.array([p.max for p in parameters.free])
    span = hi - lo
    z0 = np.clip((np.asarray(theta, dtype=float) - lo) / span, 2 * h, 1 - 2 * h)
    n = z0.size
    eye = np.eye(n) * h
    pts = [z0]
    for i in range(n):
        pts += [z0 + eye[i], z0 - eye[i]]
        for j in range(i):
            pts += [z0 + eye[i] + eye[j], z0 + eye[i] - eye[j], z0 - eye[i] + eye[j], z0 - eye[i] - eye[j]]
    f = log_post(lo + np.array(pts) * span)
    f0, k = f[0], 1
    Hz = np.zeros((n, n))
    for i in range(n):
        Hz[i, i] = (f[k] - 2 * f0 + f[k + 1]) / h**2
        k += 2
        for j in range(i):
            Hz[i, j] = Hz[j, i] = (f[k] - f[k + 1] - f[k + 2] + f[k + 3]) / (4 * h**2)
            k += 4
    if not np.all(np.isfinite(Hz)):
        Hz = np.where(np.isfinite(Hz), Hz, 0.0)
    w, V = np.linalg.eigh(-Hz)
    var = np.where(w > 1.0, 1.0 / np.where(w > 1.0, w, 1.0), 1.0 / 12.0)  # flat: a uniform prior's variance
    cov_z = (V * var) @ V.T
    return cov_z * np.outer(span, span)


class IndependenceMove(emcee.moves.MHMove):
    """Independence Metropolis-Hastings from a multivariate Student-t (module docstring)."""

    def __init__(self, mean, cov, scale: float = 1.2, df: float = 5.0):
        self.mean = np.asarray(mean, dtype=float)
        self.cov = np.asarray(cov, dtype=float)
        w, V = np.linalg.eigh(0.5 * (self.cov + self.cov.T))
        w = np.maximum(w, 1e-12 * max(np.max(w), 1e-300))  # a direction the walkers never left
        self.L = np.linalg.cholesky((V * w) @ V.T * scale**2)
        self.L_inv = np.linalg.inv(self.L)
        self.df, self.scale = float(df), float(scale)
        super().__init__(self._propose)

    def log_q(self, x) -> np.ndarray:
        """ln of the proposal density up to a constant."""
        d = self.mean.size
        m = np.sum(((np.atleast_2d(x) - self.mean) @ self.L_inv.T) ** 2, axis=1)
        return -0.5 * (self.df + d) * np.log1p(m / self.df)

    def draw(self, random, n: int) -> np.ndarray:
        """``n`` draws from the proposal (``random``: a numpy RandomState or Generator)."""
        d = self.mean.size
        z = random.standard_normal((n, d)) if hasattr(random, "standard_normal") else random.randn(n, d)
        w = random.chisquare(self.df, n) / self.df
        return self.mean + (z @ self.L.T) / np.sqrt(w)[:, None]

    def draw_inside(self, parameters):
        """``draw(rng, n)`` for :func:`crknee.fit.sampler.run`: proposal draws inside the
        prior box (redrawn until they are), the walkers' start."""
        lo = np.array([p.min for p in parameters.free])
        hi = np.array([p.max for p in parameters.free])

        def draw(rng, n):
            out = np.empty((0, lo.size))
            for _ in range(100):
                x = self.draw(rng, 4 * n)
                out = np.concatenate([out, x[np.all((x > lo) & (x < hi), axis=1)]])
                if len(out) >= n:
                    return out[:n]
            raise ConfigError(f"the Laplace proposal puts < 1 % of its draws inside the prior box (MAP {self.mean})")

        return draw

    def _propose(self, x0, random):
        x = self.draw(random, x0.shape[0])
        return x, self.log_q(x0) - self.log_q(x)


def mixture(move, weight: float, parameters) -> list:
    """emcee moves: ``move`` with probability ``weight``, the DE mixture of
    :func:`crknee.fit.sampler._de_moves` otherwise."""
    from crknee.fit.sampler import _de_moves

    return [(move, weight)] + [(m, w * (1.0 - weight)) for m, w in _de_moves(parameters)]


def adapt(
    log_prob, parameters, move: IndependenceMove, nwalkers: int, rounds: int, steps: int, weight: float, seed: int
):
    """Pilot runs (discarded) that fit the proposal to the posterior: walkers start as
    draws of ``move`` inside the prior box; each of ``rounds`` runs ``steps`` emcee steps
    with :func:`mixture`, after which the proposal is re-centred on the mean and covariance
    of the round's second half (all walkers).  Returns (the adapted move, the walkers' last
    positions (nwalkers, n_free), the number of evaluations, ln p per round: median of the
    round's second half).  The production chain then runs with the adapted move held fixed
    (an adaptive proposal inside the kept chain would break detailed balance)."""
    rng = np.random.default_rng(seed)
    coords = move.draw_inside(parameters)(rng, nwalkers)
    n_eval, lp_median = 0, []
    for r in range(rounds):
        sampler = emcee.EnsembleSampler(
            nwalkers, coords.shape[1], log_prob, vectorize=True, moves=mixture(move, weight, parameters)
        )
        sampler.random_state = np.random.RandomState(np.random.MT19937(seed + 1 + r)).get_state()
        state = sampler.run_mcmc(coords, steps, progress=False, skip_initial_state_check=True)
        coords = state.coords
        n_eval += nwalkers * (steps + (r == 0))
        kept = sampler.get_chain(discard=steps // 2, flat=True)
        lp_median.append(float(np.median(sampler.get_log_prob(discard=steps // 2))))
        move = IndependenceMove(kept.mean(axis=0), np.cov(kept.T), move.scale, move.df)
    return move, coords, n_eval, lp_median
