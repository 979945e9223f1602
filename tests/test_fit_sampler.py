"""crknee.fit.sampler and pools: seeded, resumable (exception / SIGTERM), same chain on
every engine, autocorrelation stop rule."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from crknee.errors import ConfigError
from crknee.fit.likelihood import LogPosterior
from crknee.fit.mock import mock_pieces
from crknee.fit.model import KneeSourceModel
from crknee.fit.sampler import Interrupted, NotConvergedWarning, SamplerSettings, run
from test_fit_support import layout_pieces, parameters, synthetic_fixed

FIXED = ("b_deg", "d_kpc", "Rcut_PV", "beta")
# the stretch move evaluates the ensemble in two halves: 2 log-prob calls per step
SETTINGS = SamplerSettings(nwalkers=16, nsteps=40, seed=11, check_every=1000, moves="stretch", progress=False)


def problem():
    model = KneeSourceModel(synthetic_fixed())
    ps = parameters(fixed=FIXED)
    pieces = mock_pieces(model, ps.full(ps.truth())[0], layout_pieces(), seed=3)
    return LogPosterior(ps, model, pieces), ps


def chain(path):
    with h5py.File(path, "r") as f:
        g = f["mcmc"]
        it = g.attrs["iteration"]
        return g["chain"][:it], g["log_prob"][:it]


class Failing:
    """Log-posterior that raises after ``n`` calls (an exception in the middle of a step)."""

    def __init__(self, fn, n):
        self.fn, self.n = fn, n

    def __call__(self, x):
        self.n -= 1
        if self.n < 0:
            raise RuntimeError("boom")
        return self.fn(x)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    lp, ps = problem()
    path = tmp_path_factory.mktemp("ref") / "chain.h5"
    with pytest.warns(NotConvergedWarning):
        res = run(lp, ps, SETTINGS, path)
    assert res.iterations == SETTINGS.nsteps
    return chain(path)


def test_same_seed_same_chain_and_seed_matters(reference, tmp_path):
    lp, ps = problem()
    with pytest.warns(NotConvergedWarning):
        run(lp, ps, SETTINGS, tmp_path / "a.h5")
    assert np.array_equal(chain(tmp_path / "a.h5")[0], reference[0])
    with pytest.warns(NotConvergedWarning):
        run(lp, ps, replace(SETTINGS, seed=12), tmp_path / "b.h5")
    assert not np.array_equal(chain(tmp_path / "b.h5")[0], reference[0])


def test_resume_after_exception_loses_and_duplicates_nothing(reference, tmp_path):
    lp, ps = problem()
    path = tmp_path / "c.h5"
    with pytest.raises(RuntimeError, match="boom"):
        run(Failing(lp, 1 + 2 * 17 + 1), ps, SETTINGS, path)  # start, 17 steps, half a step
    assert chain(path)[0].shape[0] == 17
    with pytest.warns(NotConvergedWarning):
        res = run(lp, ps, SETTINGS, path)
    assert res.iterations == SETTINGS.nsteps
    c, lpv = chain(path)
    assert np.array_equal(c, reference[0]) and np.array_equal(lpv, reference[1])


SCRIPT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from test_fit_sampler import SETTINGS, problem
    from crknee.fit.sampler import Interrupted, run
    lp, ps = problem()
    calls = [0]
    def killer(x):
        calls[0] += 1
        if calls[0] == {n}:
            os.kill(os.getpid(), signal.SIGTERM)   # arrives in the middle of a step
        return lp(x)
    try:
        run(killer, ps, SETTINGS, {path!r})
    except Interrupted as exc:
        print(exc)
        sys.exit(3)
""")


def test_resume_after_sigterm(reference, tmp_path):
    path = tmp_path / "d.h5"
    script = SCRIPT.format(tests=str(Path(__file__).parent), n=1 + 2 * 9 + 1, path=str(path))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 3, proc.stderr
    assert "after step 10" in proc.stdout
    assert chain(path)[0].shape[0] == 10  # the step in flight was completed and saved
    lp, ps = problem()
    with pytest.warns(NotConvergedWarning):
        run(lp, ps, SETTINGS, path)
    assert np.array_equal(chain(path)[0], reference[0])


def test_resume_after_sigkill(reference, tmp_path):
    """kill -9 at an arbitrary moment of a running chain: the resumed chain is the reference."""
    path = tmp_path / "k.h5"
    slow = (
        SCRIPT.format(tests=str(Path(__file__).parent), n=-1, path=str(path))
        .replace("return lp(x)", "print(calls[0], flush=True); time.sleep(0.002); return lp(x)")
        .replace("import os, signal, sys", "import os, signal, sys, time")
    )
    proc = subprocess.Popen([sys.executable, "-c", slow], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:  # wait until about 12 steps are done, then kill at a random instant
        if int(line) >= 26:
            break
    time.sleep(np.random.default_rng().uniform(0.0, 0.01))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert 0 < chain(path)[0].shape[0] < SETTINGS.nsteps
    lp, ps = problem()
    with pytest.warns(NotConvergedWarning):
        run(lp, ps, SETTINGS, path)
    assert np.array_equal(chain(path)[0], reference[0])


@pytest.mark.parametrize("pool", ["process", "dask"])
def test_pools_give_the_serial_chain(reference, tmp_path, pool):
    lp, ps = problem()
    with pytest.warns(NotConvergedWarning):
        run(lp, ps, replace(SETTINGS, pool=pool, workers=2), tmp_path / f"{pool}.h5")
    assert np.array_equal(chain(tmp_path / f"{pool}.h5")[0], reference[0])


class CountingPool:
    """A user's pool: any object with map(fn, items) (as emcee accepts); counts its calls."""

    def __init__(self):
        self.calls, self.closed = 0, False

    def map(self, fn, items):
        self.calls += 1
        return list(map(fn, items))

    def close(self):
        self.closed = True


def test_any_object_with_map_is_a_pool_and_is_left_open(reference, tmp_path):
    lp, ps = problem()
    pool = CountingPool()
    with pytest.warns(NotConvergedWarning):
        run(lp, ps, replace(SETTINGS, pool=pool, workers=2), tmp_path / "user.h5")
    assert np.array_equal(chain(tmp_path / "user.h5")[0], reference[0])
    assert pool.calls > 0 and not pool.closed


@pytest.mark.parametrize("bad", [object(), "threads"])
def test_a_pool_without_map_is_refused(tmp_path, bad):
    lp, ps = problem()
    with pytest.raises(ConfigError, match=r"^fit\.sampler\.pool must be one of"):
        run(lp, ps, replace(SETTINGS, pool=bad), tmp_path / "bad.h5")


def test_autocorrelation_stop_rule(tmp_path):
    lp, ps = problem()
    s = replace(SETTINGS, nsteps=4000, check_every=100, n_tau=10, tau_rtol=0.2, moves="de")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotConvergedWarning)
        res = run(lp, ps, s, tmp_path / "e.h5")
    assert res.converged and res.iterations < s.nsteps
    assert res.iterations > s.n_tau * np.max(res.tau)
    # a converged file is not extended by a rerun
    again = run(lp, ps, s, tmp_path / "e.h5")
    assert again.iterations == res.iterations and again.n_evaluations == 0


def test_chain_file_of_another_problem_is_refused(reference, tmp_path):
    lp, ps = problem()
    path = tmp_path / "f.h5"
    with pytest.warns(NotConvergedWarning):
        run(lp, ps, replace(SETTINGS, nsteps=2), path)
    with pytest.raises(ConfigError, match="holds 16 walkers"):
        run(lp, ps, replace(SETTINGS, nwalkers=18), path)


def test_interrupted_is_a_crknee_error():
    from crknee.errors import CrkneeError

    assert issubclass(Interrupted, CrkneeError)


def test_dask_scheduler_address_gives_the_serial_chain(reference, tmp_path):
    from distributed import LocalCluster

    lp, ps = problem()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with pytest.warns(NotConvergedWarning):
            run(
                lp,
                ps,
                replace(SETTINGS, pool="dask", workers=2, scheduler=cluster.scheduler_address),
                tmp_path / "addr.h5",
            )
    assert np.array_equal(chain(tmp_path / "addr.h5")[0], reference[0])


class Gaussian2D:
    """A correlated 2-D normal inside the box prior of ``ps`` (vectorised, analytic)."""

    def __init__(self, ps):
        self.ps = ps
        self.icov = np.linalg.inv([[1.0, 0.6], [0.6, 2.0]])

    def __call__(self, theta):
        theta = np.atleast_2d(theta)
        x = theta - [5.0, 5.0]
        return self.ps.log_prior(theta) - 0.5 * np.einsum("ni,ij,nj->n", x, self.icov, x)


def test_accepted_counter_is_emcee_acceptance_fraction(tmp_path):
    """chain.h5's ``accepted`` (and RunResult.acceptance_fraction) = emcee's own count on the
    same chain, also after an interrupted and resumed run."""
    import emcee

    from crknee.fit.parameters import ParameterSet
    from crknee.fit.sampler import MOVES

    ps = ParameterSet.from_config(
        {"a_kpc": {"value": 5.0, "min": 0.0, "max": 10.0}, "b_deg": {"value": 5.0, "min": 0.0, "max": 10.0}},
        {"a_kpc": "kpc", "b_deg": "deg"},
    )
    target = Gaussian2D(ps)
    s = replace(SETTINGS, nsteps=300, init_width=0.2)
    with pytest.warns(NotConvergedWarning):
        res = run(target, ps, s, tmp_path / "a.h5")
    # emcee alone, from the same start and generator (crknee.fit.sampler's seeding)
    move_seed, start_seed = np.random.SeedSequence(s.seed).spawn(2)
    p0 = ps.initial(np.random.default_rng(start_seed), s.nwalkers, s.init, s.init_width)
    ref = emcee.EnsembleSampler(s.nwalkers, 2, target, vectorize=True, moves=MOVES[s.moves](ps))
    ref.random_state = np.random.RandomState(np.random.MT19937(move_seed)).get_state()
    ref.run_mcmc(emcee.State(p0, log_prob=target(p0)), s.nsteps, skip_initial_state_check=True)
    assert np.array_equal(ref.get_chain(), chain(tmp_path / "a.h5")[0])
    assert 0.2 < np.mean(ref.acceptance_fraction) < 0.9
    assert np.array_equal(res.acceptance_fraction, ref.acceptance_fraction)
    stored = emcee.backends.HDFBackend(str(tmp_path / "a.h5"), name="mcmc", read_only=True)
    assert np.array_equal(stored.accepted / stored.iteration, ref.acceptance_fraction)
    # a walker that moved accepted its proposal (continuous proposals): the count is exact
    c = chain(tmp_path / "a.h5")[0]
    moved = np.any(c[1:] != c[:-1], axis=2).sum(axis=0) + np.any(c[0] != p0, axis=1)
    assert np.array_equal(moved, stored.accepted)
    # interrupted in the middle of a step, then resumed: the same counts, nothing counted twice
    with pytest.raises(RuntimeError, match="boom"):
        run(Failing(target, 1 + 2 * 120 + 1), ps, s, tmp_path / "b.h5")
    with pytest.warns(NotConvergedWarning):
        again = run(target, ps, s, tmp_path / "b.h5")
    assert np.array_equal(again.acceptance_fraction, ref.acceptance_fraction)


def test_stricter_stop_rule_extends_a_converged_chain(tmp_path):
    from crknee.fit.parameters import ParameterSet

    ps = ParameterSet.from_config(
        {"a_kpc": {"value": 5.0, "min": 0.0, "max": 10.0}, "b_deg": {"value": 5.0, "min": 0.0, "max": 10.0}},
        {"a_kpc": "kpc", "b_deg": "deg"},
    )
    s = replace(SETTINGS, nsteps=5000, check_every=100, n_tau=10, tau_rtol=0.3, moves="de", init_width=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotConvergedWarning)
        first = run(Gaussian2D(ps), ps, s, tmp_path / "g.h5")
    assert first.converged and first.n_tau_reached > 10
    second = run(Gaussian2D(ps), ps, replace(s, n_tau=30), tmp_path / "g.h5")
    assert second.converged and second.iterations > first.iterations and second.n_tau_reached > 30


class Unpicklable:
    """A log-probability that refuses to be pickled: only an inherited copy can run."""

    def __call__(self, x):
        return -0.5 * np.sum(np.asarray(x) ** 2, axis=-1)

    def __reduce__(self):
        raise TypeError("this function must not be pickled")


def test_process_pool_workers_inherit_the_preloaded_function():
    """open_pool(preload=(fn,)): the forked workers evaluate fn without it being pickled
    with every call; a function not preloaded is still pickled (and here refused)."""
    from crknee.fit.pools import _INHERITED, open_pool, wrap

    fn = Unpicklable()
    x = np.arange(12.0).reshape(6, 2)
    with open_pool("process", 2, "", (fn,)) as pool:
        np.testing.assert_array_equal(wrap(fn, pool, 2)(x), fn(x))
        with pytest.raises(TypeError, match="must not be pickled"):
            pool.map(Unpicklable(), [x])
    assert id(fn) not in _INHERITED
