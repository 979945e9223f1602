"""Bayesian evidence and posterior by nested sampling (dynesty), resumable and verified.

Nested sampling (Skilling 2004, AIP Conf. Proc. 735, 395; Skilling 2006, Bayesian
Analysis 1, 833) integrates the evidence Z = int L(theta) pi(theta) dtheta by shrinking
the prior volume around ``nlive`` live points; dynesty (Speagle 2020, MNRAS 493, 3132;
Koposov et al., Zenodo 10.5281/zenodo.3348367) supplies the sampler.  Here:

- the prior is the declared one (:meth:`crknee.fit.parameters.ParameterSet.prior_transform`:
  uniform, Gaussian truncated to [min, max]; fixed parameters are not sampled), normalised
  on its box, so Z is the prior-averaged likelihood; periodic parameters are passed as
  dynesty's ``periodic`` (the live-point bounds wrap round the circle);
- the likelihood is the vectorised log-likelihood of :class:`crknee.fit.likelihood.LogPosterior`
  (its model-independent constants dropped: ln Z is defined up to a constant common to
  every model fitted to the same data pieces, so Bayes factors between such models are
  exact); dynesty's point requests are evaluated in batches of ``batch`` points
  (:class:`crknee.fit.pools.BatchPool`, over the ``pool`` of :mod:`crknee.fit.pools`);
- the run stops when the live points can add less than ``dlogz`` to ln Z; ln Z and its
  error are dynesty's (the error from the information H: sqrt(H / nlive));
- the posterior is dynesty's weighted samples, resampled to equal weights
  (dynesty's systematic ``resample_equal``, seeded) for the summaries and figures of
  :mod:`crknee.fit.summary` and :mod:`crknee.plots.fit`.

Checkpoints: the sampler is written every ``checkpoint_every_s`` seconds (between two
iterations, never while the final live points are being added), at SIGTERM/SIGINT
(then :class:`crknee.fit.sampler.Interrupted`) and at the end, atomically
(:func:`crknee.io.atomic_target`) with a header holding the SHA-256 and length of the
payload.  A rerun resumes from it after checking the header, the checksum, the
structure of the sampler and that it holds the same problem (parameters, priors, nlive,
bound, method, seed and the caller's ``fingerprint`` of the data): a damaged file is
moved aside (``<name>.damaged``) with a one-line warning and the run starts afresh; a
file of another problem is a :class:`crknee.errors.ConfigError`.  A finished file is read,
not rerun.  Resuming continues the same random stream from the saved state: a run killed
and resumed gives exactly the result of an uninterrupted one (tested).
"""

from __future__ import annotations

import hashlib
import pickle
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crknee.errors import ConfigError
from crknee.fit.pools import BatchPool, open_pool, point_log_likelihood, wrap
from crknee.io import atomic_target

METHODS = ("emcee", "dynesty")
BOUNDS = ("none", "single", "multi", "balls", "cubes")
SAMPLES = ("auto", "unif", "rwalk", "slice", "rslice")
_MAGIC = b"crknee.fit.nested checkpoint 1"


class DamagedCheckpointWarning(UserWarning):
    """A nested-sampling checkpoint failed its checks and was moved aside; the run restarts."""


def check_nested_settings(s, where: str = "fit.sampler") -> None:
    """Raise :class:`ConfigError` for a bad sampling method or nested-sampling setting of
    :class:`crknee.fit.sampler.SamplerSettings` ``s``."""
    for name, allowed in (("method", METHODS), ("bound", BOUNDS), ("nested_sample", SAMPLES)):
        if getattr(s, name) not in allowed:
            raise ConfigError(f"{where}.{name} must be one of {allowed}; got {getattr(s, name)!r}")
    for name, lo in (("nlive", 10), ("batch", 1)):
        if getattr(s, name) < lo:
            raise ConfigError(f"{where}.{name} must be >= {lo}; got {getattr(s, name)!r}")
    for name in ("dlogz", "checkpoint_every_s"):
        if not getattr(s, name) > 0:
            raise ConfigError(f"{where}.{name} must be > 0; got {getattr(s, name)!r}")


@dataclass
class NestedResult:
    """One nested-sampling run.  ``log_z`` +- ``log_z_err``: ln of the evidence (prior
    normalised on its box, likelihood constants dropped); ``information_nats``: the
    Kullback-Leibler divergence H of posterior from prior; ``samples``: equally weighted
    posterior samples (n, n_free) with their log-posteriors ``log_prob`` (log prior +
    log likelihood, up to constants); ``weighted_samples`` with ``log_weights``
    (normalised: logsumexp = 0): dynesty's dead + final live points.  ``n_evaluations``:
    likelihood points evaluated by this call (0 when a finished run is read back);
    ``n_calls``: dynesty's count of likelihood calls over the whole run, resumes included."""

    path: Path
    log_z: float
    log_z_err: float
    information_nats: float
    iterations: int
    n_evaluations: int
    wall_s: float
    parameter_names: list
    samples: np.ndarray
    log_prob: np.ndarray
    weighted_samples: np.ndarray
    log_weights: np.ndarray
    resumed: bool
    n_calls: int = 0

    @property
    def n_effective(self) -> float:
        """Kish effective sample size of the weighted samples, 1 / sum(w^2)."""
        return float(1.0 / np.sum(np.exp(2.0 * self.log_weights)))

    def evidence(self) -> dict:
        """The JSON-ready evidence record (``fit_summary.json``'s ``evidence``)."""
        return {
            "log_z": self.log_z,
            "log_z_err": self.log_z_err,
            "information_nats": self.information_nats,
            "iterations": self.iterations,
            "n_effective": self.n_effective,
            "n_calls": self.n_calls,
            "definition": "ln of the prior-averaged likelihood, priors normalised on their boxes, likelihood "
            "constants dropped: compare only models fitted to the same data pieces",
        }


def _problem(parameters, settings, fingerprint: str) -> dict:
    return {
        "parameters": [(p.name, p.min, p.max, p.prior, p.mu, p.sigma, p.periodic) for p in parameters.free],
        "nlive": settings.nlive,
        "bound": settings.bound,
        "sample": settings.nested_sample,
        "seed": settings.seed,
        "fingerprint": fingerprint,
    }


def _same(a, b) -> bool:
    """Equality of two problem descriptions (NaN mu/sigma of non-Gaussian priors equal)."""
    return repr(a) == repr(b)


def save_checkpoint(sampler, path, problem: dict) -> None:
    """Write ``sampler`` and its ``problem`` atomically: a header line (magic, SHA-256 and
    length of the payload) then the pickled payload."""
    import dynesty

    payload = pickle.dumps(
        {"dynesty": dynesty.__version__, "problem": problem, "sampler": sampler}, protocol=pickle.HIGHEST_PROTOCOL
    )
    header = b"%s %s %d\n" % (_MAGIC, hashlib.sha256(payload).hexdigest().encode(), len(payload))
    with atomic_target(path) as tmp, open(tmp, "wb") as fh:
        fh.write(header + payload)


def _read_checkpoint(path, ndim: int):
    """(problem, sampler) of a checkpoint, or raise ValueError saying what is wrong."""
    import dynesty

    blob = Path(path).read_bytes()
    head, sep, payload = blob.partition(b"\n")
    parts = head.split(b" ")
    if not sep or b" ".join(parts[:-2]) != _MAGIC or len(parts) < 3:
        raise ValueError("not a crknee nested-sampling checkpoint (bad header)")
    if len(payload) != int(parts[-1]) or hashlib.sha256(payload).hexdigest().encode() != parts[-2]:
        raise ValueError(f"truncated or corrupted ({len(payload)} bytes, checksum mismatch)")
    try:
        doc = pickle.loads(payload)
    except Exception as exc:  # any unpickling failure means the file cannot be trusted
        raise ValueError(f"cannot be unpickled ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("dynesty") != dynesty.__version__:
        raise ValueError(
            f"written by dynesty {doc.get('dynesty') if isinstance(doc, dict) else '?'}, this is {dynesty.__version__}"
        )
    sampler = doc["sampler"]
    live_u, live_logl = np.asarray(sampler.live_u), np.asarray(sampler.live_logl)
    n_dead = len(sampler.saved_run["logl"])
    if (
        live_u.shape != (sampler.nlive, ndim)
        or live_logl.shape != (sampler.nlive,)
        or np.any(np.isnan(live_logl))
        or not np.all(np.isfinite(live_u))
        or any(len(sampler.saved_run[k]) != n_dead for k in ("logvol", "logwt"))
    ):
        raise ValueError("inconsistent sampler state")
    return doc["problem"], sampler


def _restore(path, problem, ndim):
    """The sampler of a verified checkpoint of the same problem, or None (no file, or a
    damaged one moved aside with a :class:`DamagedCheckpointWarning`)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        stored, sampler = _read_checkpoint(path, ndim)
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        aside = path.with_name(path.name + ".damaged")
        path.replace(aside)
        warnings.warn(
            DamagedCheckpointWarning(f"checkpoint {path} is damaged ({exc}); moved to {aside.name}, starting afresh"),
            stacklevel=3,
        )
        return None
    if not _same(stored, problem):
        raise ConfigError(
            f"checkpoint {path} holds another problem ({stored['parameters']}, nlive "
            f"{stored['nlive']}): choose another output folder or delete it"
        )
    return sampler


def _new_sampler(parameters, settings, pool):
    import dynesty

    return dynesty.NestedSampler(
        point_log_likelihood,
        parameters.prior_transform,
        parameters.ndim,
        nlive=settings.nlive,
        bound=settings.bound,
        sample=settings.nested_sample,
        periodic=[int(i) for i in parameters.periodic_index] or None,
        pool=pool,
        queue_size=settings.batch,
        rstate=np.random.default_rng(settings.seed),
    )


class _Progress:
    """dynesty's per-iteration callback: progress bar, timed checkpoints, deferred signals."""

    def __init__(self, sampler, path, problem, settings, flag, bar):
        self.sampler, self.path, self.problem, self.flag, self.bar = sampler, path, problem, flag, bar
        self.every, self.last = settings.checkpoint_every_s, time.monotonic()

    def __call__(self, results, niter, ncall, add_live_it=None, dlogz=None, **_):
        from crknee.fit.sampler import Interrupted

        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(logz=f"{results.logz:.2f}", ncall=ncall)
        if add_live_it is not None:  # the final live points: finish them before any save
            return
        if self.flag["signal"] is not None:
            save_checkpoint(self.sampler, self.path, self.problem)
            raise Interrupted(
                f"stopped by signal {self.flag['signal']} after iteration {niter} "
                f"(saved in {self.path}); rerun the same command to resume"
            )
        if time.monotonic() - self.last >= self.every:
            save_checkpoint(self.sampler, self.path, self.problem)
            self.last = time.monotonic()


def run_nested(
    log_likelihood, parameters, settings, path, fingerprint: str = "", maxiter: int | None = None
) -> NestedResult:
    """Nested sampling of ``log_likelihood`` (vectorised, (n, n_free) -> (n,)) under the
    declared priors of ``parameters``, checkpointed in ``path`` and resumed from it.
    ``fingerprint``: a string identifying the data (e.g. a hash of the ``[fit]`` section),
    stored and compared on resume.  ``maxiter`` stops the run early (the checkpoint then
    holds an unfinished run that a later call completes)."""
    from tqdm.auto import tqdm

    from crknee.fit.sampler import deferred_signals

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_nested_settings(settings)
    problem = _problem(parameters, settings, fingerprint)
    t0 = time.perf_counter()
    with (
        open_pool(settings.pool, settings.workers, settings.scheduler, (log_likelihood,)) as mapper,
        BatchPool(wrap(log_likelihood, mapper, getattr(mapper, "size", settings.workers)), settings.batch) as pool,
    ):
        sampler = _restore(path, problem, parameters.ndim)
        resumed = sampler is not None
        if resumed:
            sampler.pool, sampler.mapper = pool, pool.map
        else:
            sampler = _new_sampler(parameters, settings, pool)
        if not sampler.added_live:
            with (
                deferred_signals() as flag,
                tqdm(disable=not settings.progress, desc="nested", unit="it", initial=sampler.it - 1) as bar,
            ):
                sampler.run_nested(
                    dlogz=settings.dlogz,
                    maxiter=maxiter,
                    add_live=maxiter is None,
                    print_progress=True,
                    print_func=_Progress(sampler, path, problem, settings, flag, bar if settings.progress else None),
                    resume=resumed,
                )
            save_checkpoint(sampler, path, problem)
        evaluations = pool.n_evaluations
    return _result(sampler, parameters, settings, path, evaluations, time.perf_counter() - t0, resumed)


def load_nested(path, parameters, settings) -> NestedResult:
    """The result held by a checkpoint (finished or not) after the same checks as a resume;
    raises :class:`ConfigError` when it is missing or damaged."""
    try:
        _, sampler = _read_checkpoint(path, parameters.ndim)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no nested-sampling checkpoint") from None
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise ConfigError(f"{path}: damaged nested-sampling checkpoint ({exc})") from None
    return _result(sampler, parameters, settings, Path(path), 0, 0.0, True)


def _result(sampler, parameters, settings, path, evaluations, wall_s, resumed) -> NestedResult:
    from dynesty.utils import resample_equal

    res = sampler.results
    theta = parameters.wrap(res.samples)
    log_w = res.logwt - res.logz[-1]
    idx = resample_equal(
        np.arange(len(log_w)), np.exp(log_w) / np.sum(np.exp(log_w)), rstate=np.random.default_rng(settings.seed)
    )
    samples = theta[idx]
    log_prob = parameters.log_prior(samples) + res.logl[idx]
    return NestedResult(
        path,
        float(res.logz[-1]),
        float(res.logzerr[-1]),
        float(res.information[-1]),
        int(res.niter),
        int(evaluations),
        float(wall_s),
        parameters.free_names,
        samples,
        log_prob,
        theta,
        log_w,
        resumed,
        int(np.sum(res.ncall)),
    )
