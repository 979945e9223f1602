"""emcee sampling with a crash-safe HDF5 chain, seeded, resumable, with an autocorrelation stop.

- The log-posterior is vectorised (``emcee.EnsembleSampler(vectorize=True)``).
- Every step is written to an HDF5 file (:class:`ResumableHDFBackend`) before the next
  one starts.  Rerunning with the same file continues from the last completed step:
  the chain of an interrupted + resumed run is identical, step for step, to the chain of
  an uninterrupted run with the same seed (tested), nothing lost and nothing duplicated.
- SIGTERM / SIGINT are deferred to the end of the current step, which is saved; then
  :class:`Interrupted` is raised.  An exception inside the log-probability leaves the
  file at the last completed step.  A SIGKILL between steps loses nothing; HDF5 itself
  is not journalled, so a SIGKILL inside the few-millisecond write of a step can in
  principle damage the file.
- Integrity: the file is written in HDF5's 1.8 format (checksums on the superblock and
  the object headers) with Fletcher-32 checksums on every data chunk.
  Before resuming, :func:`chain_problem` reads the whole file back (every checksum is
  verified on read) and checks its bookkeeping; a chain that fails is never resumed: it
  is moved aside (``.chain.h5.damaged-<UTC time>``, :func:`set_aside`) with a
  :class:`DamagedChainWarning` and a new chain is started from the seed.
- Seeds: ``numpy.random.SeedSequence(seed)`` spawns one stream for the start positions
  and one (MT19937, emcee's generator) for the moves.
- Convergence (Foreman-Mackey et al. 2013, PASP 125, 306; emcee docs "Saving & monitoring
  progress"): every ``check_every`` steps (and at ``nsteps``) the integrated
  autocorrelation time tau of each parameter is estimated (Goodman & Weare 2010 / Sokal
  1997 window, emcee's ``integrated_time(tol=0)``; a periodic parameter's chain unwrapped
  about its circular mean, :func:`autocorr_time`); the run is *converged* when the
  chain is longer than ``n_tau`` (default 50) x tau for every free parameter and tau
  changed by less than ``tau_rtol`` since the previous check.  Otherwise
  :class:`NotConvergedWarning` says how many tau it ran.  A file marked converged is
  extended when rerun with a stricter rule (larger ``n_tau``, smaller ``tau_rtol``).
- Periodic parameters (:mod:`crknee.fit.parameters`): the ``"de"`` moves wrap proposals
  round the circle (:class:`CircularDEMove`); the stretch move refuses them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import emcee
import h5py
import numpy as np
from emcee import EnsembleSampler
from emcee.backends import HDFBackend
from tqdm.auto import tqdm

from crknee.errors import ConfigError, CrkneeError
from crknee.fit.pools import open_pool, wrap

#: words of the MT19937 state (emcee's generator)
_RNG_WORDS = 624
#: attempts at redrawing walkers that start at -inf log-posterior
_MAX_REDRAW = 100


class Interrupted(CrkneeError):
    """The run was stopped by a signal after saving its last step; rerun to resume."""


class NotConvergedWarning(UserWarning):
    """The chain reached ``nsteps`` before the autocorrelation stop rule was met."""


class DamagedChainWarning(UserWarning):
    """A chain file failed its integrity check and was moved aside; a new chain starts."""


class CircularDEMove(emcee.moves.DEMove):
    """Differential evolution (ter Braak 2006, Statistics and Computing 16, 239; the
    emcee :class:`~emcee.moves.DEMove` of Nelson et al. 2014, ApJS 210, 11) on a space
    where some coordinates are angles: the difference vector of two walkers is taken the
    short way round the circle, the proposal ``x + gamma (x_a - x_b)`` is wrapped into
    [lo, lo + period), never rejected at a wall.  Because (a, b) and (b, a) are drawn with
    equal probability the proposal is a symmetric translation on the torus, so detailed
    balance holds exactly there.  Without periodic coordinates it is emcee's DEMove, random
    number for random number."""

    def __init__(self, lo, period, periodic, gamma0=None):
        super().__init__(gamma0=gamma0)
        self.lo, self.period = np.asarray(lo, dtype=float), np.asarray(period, dtype=float)
        self.periodic = np.asarray(periodic, dtype=int)

    def get_proposal(self, s, c, random):
        from emcee.moves.de import _get_nondiagonal_pairs

        c = np.concatenate(c, axis=0)
        ns = s.shape[0]
        pairs = _get_nondiagonal_pairs(c.shape[0])
        pairs = pairs[random.choice(pairs.shape[0], size=ns, replace=True)]
        diffs = c[pairs[:, 1]] - c[pairs[:, 0]]
        gamma = self.g0 * (1 + self.sigma * random.randn(ns, 1))
        j = self.periodic
        if j.size:
            diffs[:, j] = np.mod(diffs[:, j] + 0.5 * self.period, self.period) - 0.5 * self.period
        q = s + gamma * diffs
        if j.size:
            q[:, j] = self.lo + np.mod(q[:, j] - self.lo, self.period)
        return q, np.zeros(ns, dtype=np.float64)


def _de_moves(parameters):
    """The ``"de"`` mixture: differential evolution 80 % + DE snooker 20 % (emcee docs,
    for strongly correlated / multimodal posteriors).  With a periodic parameter the
    snooker move (not defined on a circle) is replaced by the mode-jumping DE step with
    gamma = 1 that ter Braak (2006, Sec. 3) takes every 10th generation: 90 % + 10 %."""
    j = parameters.periodic_index
    lo = np.array([parameters.free[i].min for i in j])
    period = np.array([parameters.free[i].period for i in j])
    if not j.size:
        return [(CircularDEMove(lo, period, j), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    return [(CircularDEMove(lo, period, j), 0.9), (CircularDEMove(lo, period, j, gamma0=1.0), 0.1)]


def _stretch_moves(parameters):
    if parameters.periodic_index.size:
        name = parameters.free[parameters.periodic_index[0]].name
        raise ConfigError(
            f"fit.sampler.moves = 'stretch' cannot sample the periodic parameter {name!r} (an affine "
            f"stretch is not reversible on a circle); use moves = 'de'"
        )
    return None


#: Proposal moves (name -> function of the :class:`~crknee.fit.parameters.ParameterSet`):
#: emcee's affine-invariant stretch move (Goodman & Weare 2010), or the differential
#: evolution mixture of :func:`_de_moves` (default).
MOVES = {"stretch": _stretch_moves, "de": _de_moves}


@dataclass(frozen=True)
class SamplerSettings:
    """``[fit.sampler]``: the method (``"emcee"`` or ``"dynesty"``, :mod:`crknee.fit.nested`);
    emcee's walkers, maximum steps, seed, stop rule, moves, start; dynesty's live points,
    evidence tolerance, bound, sampling, batch size and checkpoint interval; the pool."""

    method: str = "emcee"
    nwalkers: int = 32
    nsteps: int = 20000
    seed: int = 20260
    n_tau: float = 50.0
    check_every: int = 200
    tau_rtol: float = 0.01
    moves: str = "de"
    init: str = "ball"
    init_width: float = 0.01
    pool: object = "serial"  # a name of crknee.fit.pools.POOLS, or any object with map(fn, items)
    workers: int = 1
    scheduler: str = ""
    progress: bool = True
    nlive: int = 500
    dlogz: float = 0.1
    bound: str = "multi"
    nested_sample: str = "rslice"
    batch: int = 64
    checkpoint_every_s: float = 60.0


class ResumableHDFBackend(HDFBackend):
    """emcee's HDF5 backend with an idempotent step write and an optional open session.

    The generator state and the acceptance counts are written to the slot of the *new*
    iteration's parity (dataset ``slots``, two rows), the counts also to emcee's
    ``accepted`` dataset, and the ``iteration`` attribute last: a step cut short before
    that update is redone from the previous, intact slot.  Inside :meth:`session` the file stays open and is flushed
    after every step (opening an HDF5 file per step would cost more than the model).
    """

    _handle = None
    _iteration = None

    @contextlib.contextmanager
    def session(self):
        try:
            # a new file gets HDF5 1.8's format: checksummed superblock and object headers,
            # and no write-consistency flag (that of the 1.10 format stays set after a
            # SIGKILL and refuses every later open)
            new = not Path(self.filename).exists()
            self._handle = h5py.File(self.filename, "a", **({"libver": ("v108", "v108")} if new else {}))
        except BlockingIOError:
            raise CrkneeError(f"chain file {self.filename} is in use by another run (HDF5 lock)") from None
        try:
            yield self
        finally:
            handle, self._handle, self._iteration = self._handle, None, None
            handle.close()

    @property
    def iteration(self):
        if self._iteration is None:
            return super().iteration
        return self._iteration

    def has_blobs(self):
        """crknee's log-posterior returns no blobs (saves an attribute read per step)."""
        return False

    @contextlib.contextmanager
    def open(self, mode="r"):
        if self._handle is not None:
            yield self._handle
            return
        with super().open(mode) as f:
            yield f

    def reset(self, nwalkers, ndim):
        """emcee's layout (group attributes, ``accepted``, ``chain``, ``log_prob``) with a
        Fletcher-32 checksum on every chunk, plus the two generator ``slots``."""
        with self.open("a") as f:
            if self.name in f:
                del f[self.name]
            g = f.create_group(self.name)
            g.attrs.update(
                {"version": emcee.__version__, "nwalkers": nwalkers, "ndim": ndim, "has_blobs": False, "iteration": 0}
            )
            g.create_dataset("accepted", data=np.zeros(nwalkers), fletcher32=True)
            g.create_dataset(
                "chain", (0, nwalkers, ndim), maxshape=(None, nwalkers, ndim), dtype=self.dtype, fletcher32=True
            )
            g.create_dataset("log_prob", (0, nwalkers), maxshape=(None, nwalkers), dtype=self.dtype, fletcher32=True)
            # per slot: 624 MT19937 keys, pos, has_gauss, cached_gaussian, acceptance counts
            g.create_dataset("slots", data=np.zeros((2, _RNG_WORDS + 3 + nwalkers)), fletcher32=True)
        if self._handle is not None:
            self._iteration = 0

    def save_step(self, state, accepted):
        self._check(state, accepted)
        with self.open("a") as f:
            g = f[self.name]
            it = int(g.attrs["iteration"])
            g["chain"][it] = state.coords
            g["log_prob"][it] = state.log_prob
            slots = g["slots"]
            _, keys, pos, has_gauss, cached = state.random_state
            acc = slots[it % 2, _RNG_WORDS + 3 :] + accepted
            slots[(it + 1) % 2] = np.concatenate([keys, (pos, has_gauss, cached), acc])
            # emcee's own per-walker counter, read by any HDF5 reader of the file (emcee's
            # HDFBackend, h5py): written as the total, so a redone step cannot count twice
            g["accepted"][:] = acc
            g.attrs["iteration"] = it + 1
            f.flush()
        if self._handle is not None:
            self._iteration = it + 1

    def _slot(self):
        with self.open() as f:
            g = f[self.name]
            return g["slots"][int(g.attrs["iteration"]) % 2]

    @property
    def accepted(self):
        return self._slot()[_RNG_WORDS + 3 :]

    @property
    def random_state(self):
        row = self._slot()
        pos, has_gauss, cached = row[_RNG_WORDS : _RNG_WORDS + 3]
        return ("MT19937", row[:_RNG_WORDS].astype(np.uint32), int(pos), int(has_gauss), float(cached))


@dataclass
class RunResult:
    """One emcee run: ``tau`` the autocorrelation times of the whole chain at the end,
    ``tau_checked`` those of the last stop-rule check, ``acceptance_fraction`` per walker
    (accepted proposals / steps, as emcee's ``EnsembleSampler.acceptance_fraction``)."""

    path: Path
    iterations: int
    converged: bool
    tau: np.ndarray
    n_evaluations: int
    wall_s: float
    parameter_names: list
    acceptance_fraction: np.ndarray
    tau_checked: np.ndarray

    @property
    def n_tau_reached(self) -> float:
        """Chain length in units of the longest autocorrelation time (the stop rule wants > n_tau)."""
        return float(self.iterations / np.max(self.tau)) if np.all(np.isfinite(self.tau)) else float("nan")


@contextlib.contextmanager
def deferred_signals():
    """Turn SIGTERM/SIGINT into a flag read between steps (main thread only)."""
    flag = {"signal": None}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, _frame):
        flag["signal"] = signum

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _check_file(backend, nwalkers, ndim, names):
    with backend.open() as f:
        if backend.name not in f:
            return 0
        g = f[backend.name]
        shape = (int(g.attrs["nwalkers"]), int(g.attrs["ndim"]))
        stored = [str(s) for s in g.attrs.get("parameter_names", [])]
        it = int(g.attrs["iteration"])
    if shape != (nwalkers, ndim) or stored != list(names):
        raise ConfigError(
            f"chain file {backend.filename} holds {shape[0]} walkers x {stored}, not "
            f"{nwalkers} x {list(names)}: choose another output folder or delete it"
        )
    return it


def chain_problem(path, name: str = "mcmc") -> str | None:
    """Why the chain file ``path`` must not be resumed, in a few words; None if it is intact.

    Reads every dataset back (HDF5 verifies the metadata and Fletcher-32 checksums on the
    way) and checks the bookkeeping: ``iteration`` within the chain, the walkers' shape,
    finite positions and log-posteriors for every saved step, a finite generator state.
    """
    try:
        with h5py.File(path, "r") as f:
            if name not in f:
                return None  # created, no step saved yet
            g = f[name]
            it, nw, nd = int(g.attrs["iteration"]), int(g.attrs["nwalkers"]), int(g.attrs["ndim"])
            chain, log_prob, slots = g["chain"][...], g["log_prob"][...], g["slots"][...]
            for obj in (f, g, *g.values()):  # every other dataset and attribute, read through
                if isinstance(obj, h5py.Dataset):
                    obj[...]
                dict(obj.attrs)
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        return f"unreadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if chain.shape[1:] != (nw, nd) or log_prob.shape != chain.shape[:2] or slots.shape != (2, _RNG_WORDS + 3 + nw):
        return "inconsistent dataset shapes"
    if not 0 <= it <= chain.shape[0]:
        return f"iteration {it} outside the {chain.shape[0]} stored steps"
    if not (np.all(np.isfinite(chain[:it])) and np.all(np.isfinite(log_prob[:it])) and np.all(np.isfinite(slots))):
        return "non-finite values in the saved steps"
    return None


def set_aside(path, reason: str) -> Path:
    """Move a damaged chain file out of the way (``.NAME.damaged-<UTC time>`` beside it),
    warn with :class:`DamagedChainWarning`, and return the new path."""
    path = Path(path)
    aside = path.with_name(f".{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    path.replace(aside)
    warnings.warn(
        DamagedChainWarning(f"{path} is damaged ({reason}); moved to {aside.name}, starting a new chain"), stacklevel=2
    )
    return aside


def _start(log_prob, parameters, settings, rng, draw=None):
    draw = draw or (lambda g, n: parameters.initial(g, n, settings.init, settings.init_width))
    p0 = draw(rng, settings.nwalkers)
    lp = log_prob(p0)
    for _ in range(_MAX_REDRAW):
        bad = ~np.isfinite(lp)
        if not bad.any():
            return emcee.State(p0, log_prob=lp)
        p0[bad] = draw(rng, int(bad.sum()))
        lp[bad] = log_prob(p0[bad])
    raise ConfigError(
        f"fit.sampler: no finite log-posterior at {int(bad.sum())} start positions after "
        f"{_MAX_REDRAW} draws (init = {settings.init!r}); check the parameter values and data"
    )


def _attrs(backend, **kw):
    with backend.open("a") as f:
        for k, v in kw.items():
            f[backend.name].attrs[k] = v


def autocorr_time(backend, parameters) -> np.ndarray:
    """Integrated autocorrelation time of every free parameter on the whole chain
    (emcee's ``integrated_time(tol=0)``, as ``get_autocorr_time``).  A periodic
    parameter's chain is first unwrapped onto the period centred on its circular mean, so
    a walker crossing the cut at min = max (l = +-180 deg) is a small step, not a jump of
    one period that would inflate tau."""
    from crknee.fit.summary import unwrap_about_mean

    chain = backend.get_chain()
    for j in parameters.periodic_index:
        p = parameters.free[j]
        chain[:, :, j] = unwrap_about_mean(chain[:, :, j], p.min, p.period)[0]
    return emcee.autocorr.integrated_time(chain, tol=0)


def _criterion(tau, tau_last, iterations, settings) -> bool:
    """The stop rule: chain longer than n_tau x tau and tau within tau_rtol of the last
    estimate, for every free parameter (NaN tau: not met)."""
    tau, tau_last = np.asarray(tau, dtype=float), np.asarray(tau_last, dtype=float)
    return bool(np.all(tau * settings.n_tau < iterations) and np.all(np.abs(tau_last - tau) < settings.tau_rtol * tau))


def _was_converged(g, settings) -> bool:
    """A file marked converged counts only under a rule at least as strict as its own
    (raising ``n_tau`` or tightening ``tau_rtol`` extends a converged chain)."""
    return (
        str(g.attrs["status"]) == "converged"
        and float(g.attrs.get("n_tau", np.inf)) >= settings.n_tau
        and float(g.attrs.get("tau_rtol", 0.0)) <= settings.tau_rtol
    )


def run(log_prob, parameters, settings: SamplerSettings, path, moves=None, draw=None) -> RunResult:
    """Sample ``log_prob`` (vectorised, (n, ndim) -> (n,)) into the HDF5 file ``path``,
    resuming it if it already holds steps of the same problem.  Raises :class:`Interrupted`
    after saving when SIGTERM/SIGINT arrives.  ``moves``: emcee moves replacing those of
    ``settings.moves``; ``draw(rng, n)``: the walkers' start positions instead of
    ``settings.init`` (e.g. crknee.fit.propagation's Laplace proposal)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ndim, names = parameters.ndim, parameters.free_names
    if settings.nwalkers < 2 * ndim:  # emcee's ensemble moves need twice the free parameters
        raise ConfigError(
            f"fit.sampler.nwalkers must be >= 2 x the {ndim} free parameters ({2 * ndim}); got {settings.nwalkers}"
        )
    if path.is_file():
        problem = chain_problem(path)
        if problem is not None:
            set_aside(path, problem)
    moves = MOVES[settings.moves](parameters) if moves is None else moves
    backend = ResumableHDFBackend(str(path), name="mcmc")
    with backend.session():  # opening creates the file; a new one holds no group: 0 steps
        done = _check_file(backend, settings.nwalkers, ndim, names)
    t0 = time.perf_counter()
    with open_pool(settings.pool, settings.workers, settings.scheduler, (log_prob,)) as mapper, backend.session():
        counter = _Counter(wrap(log_prob, mapper, getattr(mapper, "size", settings.workers)))
        sampler = EnsembleSampler(settings.nwalkers, ndim, counter, vectorize=True, backend=backend, moves=moves)
        if done == 0:
            move_seed, start_seed = np.random.SeedSequence(settings.seed).spawn(2)
            initial = _start(log_prob, parameters, settings, np.random.default_rng(start_seed), draw)
            backend.reset(settings.nwalkers, ndim)
            _attrs(
                backend,
                parameter_names=names,
                seed=settings.seed,
                status="running",
                tau_last=np.full(ndim, np.nan),
                tau_iteration=0,
            )
            sampler.random_state = np.random.RandomState(np.random.MT19937(move_seed)).get_state()
        else:
            initial = backend.get_last_sample()
        with backend.open() as f:
            g = f[backend.name]
            converged, tau_last = _was_converged(g, settings), np.array(g.attrs["tau_last"])
            tau_iteration = int(g.attrs.get("tau_iteration", 0))
        remaining = 0 if converged else max(settings.nsteps - done, 0)
        with (
            deferred_signals() as flag,
            tqdm(total=settings.nsteps, initial=done, disable=not settings.progress, desc="MCMC", unit="step") as bar,
        ):
            for _ in sampler.sample(initial, iterations=remaining, skip_initial_state_check=True) if remaining else ():
                it = backend.iteration
                bar.update(1)
                if it % settings.check_every == 0 or it == settings.nsteps:
                    tau = autocorr_time(backend, parameters)
                    converged = it > tau_iteration and _criterion(tau, tau_last, it, settings)
                    tau_last, tau_iteration = tau, it
                    _attrs(
                        backend,
                        tau_last=tau,
                        tau_iteration=it,
                        status="converged" if converged else "running",
                        n_tau=settings.n_tau,
                        tau_rtol=settings.tau_rtol,
                    )
                    bar.set_postfix(tau_max=f"{np.max(tau):.0f}")
                    if converged:
                        break
                if flag["signal"] is not None:
                    raise Interrupted(
                        f"stopped by signal {flag['signal']} after step {it} "
                        f"(saved in {path}); rerun the same command to resume"
                    )
        iterations = backend.iteration
        tau = autocorr_time(backend, parameters) if iterations > 1 else np.full(ndim, np.nan)
        accepted = np.asarray(backend.accepted, dtype=float)
        if not converged:
            _attrs(backend, status="max_steps")
            need = (
                f"needs > {settings.n_tau:g} x tau = {settings.n_tau * np.max(tau):.0f} steps with tau stable to "
                f"{settings.tau_rtol:g} (it ran {iterations / np.max(tau):.1f} x max tau = {np.max(tau):.1f})"
                if np.all(np.isfinite(tau))
                else "too short to estimate tau"
            )
            warnings.warn(NotConvergedWarning(f"chain not converged after {iterations} steps: {need}"), stacklevel=2)
    return RunResult(
        path,
        iterations,
        converged,
        tau,
        counter.n,
        time.perf_counter() - t0,
        names,
        accepted / max(iterations, 1),
        tau_last,
    )


class _Counter:
    """Counts the log-probability evaluations (walker positions) asked for by the sampler."""

    def __init__(self, fn):
        self.fn, self.n = fn, 0

    def __call__(self, coords):
        self.n += len(coords)
        return self.fn(coords)
