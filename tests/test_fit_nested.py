"""crknee.fit.nested: the evidence of an analytic problem, resume after an interruption,
damaged checkpoints, the periodic anti-centre posterior; the prior transform and the
batching pool it relies on."""

from dataclasses import replace

import numpy as np
import pytest
from scipy.special import i0
from scipy.stats import norm, truncnorm

from crknee.errors import ConfigError
from crknee.fit.nested import DamagedCheckpointWarning, check_nested_settings, load_nested, run_nested
from crknee.fit.parameters import ParameterSet
from crknee.fit.pools import BatchPool, point_log_likelihood
from crknee.fit.sampler import SamplerSettings
from test_fit_periodic import KAPPA, AntiCentre, _ps, check_anti_centre_summary

UNITS = {"x_kpc": "kpc", "y_deg": "deg"}
#: x: uniform on [-5, 5]; y: Gaussian prior N(1, 2) truncated to [-20, 20] (10 sigma: negligible)
SPEC = {
    "x_kpc": {"value": 0.0, "min": -5.0, "max": 5.0},
    "y_deg": {"value": 0.0, "min": -20.0, "max": 20.0, "prior": "gaussian", "mu": 1.0, "sigma": 2.0},
}
M, S = (0.7, -0.4), (0.3, 0.5)  # likelihood centre and widths in x and y
#: uniform sampling in the bounding ellipsoids: fastest for these ellipsoidal posteriors (the
#: default "rslice" is for the knee problem's ridges); a checkpoint every 50 ms
SETTINGS = SamplerSettings(
    method="dynesty",
    nlive=150,
    dlogz=0.1,
    batch=16,
    seed=5,
    progress=False,
    nested_sample="unif",
    checkpoint_every_s=0.05,
)


class Gaussian:
    """ln L = -(x - m)^2 / (2 s^2) summed over x, y (normalisation dropped, as LogPosterior
    does); counts its vectorised calls and their sizes."""

    def __init__(self, fail_after=None):
        self.sizes, self.fail_after = [], fail_after

    def __call__(self, theta):
        theta = np.atleast_2d(theta)
        self.sizes.append(len(theta))
        if self.fail_after is not None and sum(self.sizes) > self.fail_after:
            raise RuntimeError("killed")
        return -0.5 * np.sum(((theta - M) / S) ** 2, axis=1)


def exact_log_z() -> float:
    """Z = int L pi: uniform x -> sqrt(2 pi) s_x [Phi((5 - m)/s) - Phi((-5 - m)/s)] / 10;
    Gaussian y -> sqrt(2 pi) s_y N(m_y; mu, sqrt(s_y^2 + sigma^2)) (truncation negligible)."""
    zx = np.sqrt(2 * np.pi) * S[0] * (norm.cdf((5 - M[0]) / S[0]) - norm.cdf((-5 - M[0]) / S[0])) / 10.0
    zy = np.sqrt(2 * np.pi) * S[1] * norm.pdf(M[1], 1.0, np.hypot(S[1], 2.0))
    return float(np.log(zx * zy))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    ps = ParameterSet.from_config(SPEC, UNITS)
    like = Gaussian()
    res = run_nested(like, ps, SETTINGS, tmp_path_factory.mktemp("ref") / "nested.ckpt")
    return ps, like, res


def test_evidence_of_a_gaussian_in_a_box(reference):
    ps, like, res = reference
    assert 0.05 < res.log_z_err < 0.4
    assert abs(res.log_z - exact_log_z()) < 3.0 * res.log_z_err
    # the posterior: N(m, s) in each coordinate (y's Gaussian prior narrows it by 3 %)
    sy = 1.0 / np.hypot(1 / S[1], 1 / 2.0)
    my = sy**2 * (M[1] / S[1] ** 2 + 1.0 / 4.0)
    assert np.mean(res.samples, axis=0) == pytest.approx([M[0], my], abs=0.06)
    assert np.std(res.samples, axis=0) == pytest.approx([S[0], sy], rel=0.12)
    assert res.log_prob.shape == (len(res.samples),) and np.all(np.isfinite(res.log_prob))
    assert np.exp(res.log_weights).sum() == pytest.approx(1.0)
    assert res.n_effective > 300 and not res.resumed
    ev = res.evidence()
    assert ev["log_z"] == res.log_z and ev["log_z_err"] == res.log_z_err and ev["iterations"] == res.iterations
    # the likelihood was asked for in vectorised batches, up to `batch` points
    assert max(like.sizes) == SETTINGS.batch and np.mean(like.sizes) > 4
    assert res.n_evaluations == sum(like.sizes)


@pytest.mark.filterwarnings("ignore:The sampling was stopped short")
def test_interrupted_run_resumes_to_the_uninterrupted_result(reference, tmp_path):
    ps, _, ref = reference
    path = tmp_path / "nested.ckpt"
    # stopped early (a run cut short at iteration 400), then completed by a second call
    part = run_nested(Gaussian(), ps, SETTINGS, path, maxiter=400)
    assert part.iterations < ref.iterations and path.exists()
    done = run_nested(Gaussian(), ps, SETTINGS, path)
    assert done.resumed and done.iterations == ref.iterations
    assert done.log_z == ref.log_z and np.array_equal(done.samples, ref.samples)
    # killed by an exception inside the likelihood: resumes from the last checkpoint
    path = tmp_path / "killed.ckpt"
    with pytest.raises(RuntimeError, match="killed"):
        run_nested(Gaussian(fail_after=2000), ps, SETTINGS, path)
    assert path.exists()
    again = run_nested(Gaussian(), ps, SETTINGS, path)
    assert again.resumed and again.log_z == ref.log_z and np.array_equal(again.samples, ref.samples)
    # a finished checkpoint is read, not rerun
    like = Gaussian()
    assert run_nested(like, ps, SETTINGS, path).log_z == ref.log_z and like.sizes == []
    assert load_nested(path, ps, SETTINGS).log_z == ref.log_z


def test_process_pool_gives_the_serial_run(reference, tmp_path):
    ps, _, ref = reference
    res = run_nested(Gaussian(), ps, replace(SETTINGS, pool="process", workers=2), tmp_path / "p.ckpt")
    assert res.log_z == ref.log_z and np.array_equal(res.samples, ref.samples)


@pytest.mark.filterwarnings("ignore:The sampling was stopped short")
def test_damaged_or_foreign_checkpoint(reference, tmp_path):
    ps, _, ref = reference
    path = tmp_path / "nested.ckpt"
    run_nested(Gaussian(), ps, SETTINGS, path, maxiter=200)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte in the payload
    path.write_bytes(bytes(blob))
    with pytest.raises(ConfigError, match="damaged nested-sampling checkpoint"):
        load_nested(path, ps, SETTINGS)
    with pytest.warns(DamagedCheckpointWarning, match="checksum mismatch"):
        res = run_nested(Gaussian(), ps, SETTINGS, path)
    assert not res.resumed and res.log_z == ref.log_z  # a fresh start: the reference run
    assert (tmp_path / "nested.ckpt.damaged").exists()
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    with pytest.warns(DamagedCheckpointWarning, match="truncated"):
        run_nested(Gaussian(), ps, SETTINGS, path, maxiter=10)
    with pytest.raises(ConfigError, match="holds another problem"):
        run_nested(Gaussian(), ps, replace(SETTINGS, nlive=100), path)


def test_periodic_posterior_on_the_anti_centre(tmp_path):
    ps = _ps()
    target = AntiCentre(ps)
    # the default slice sampling, which the knee fit uses
    res = run_nested(
        target.log_likelihood,
        ps,
        replace(SETTINGS, nlive=300, nested_sample="rslice", checkpoint_every_s=60.0),
        tmp_path / "l.ckpt",
    )
    # ~1100 effective samples: the 68 % half-widths good to ~6 %
    check_anti_centre_summary(res.samples, res.log_prob, ps, tol_deg=3.0, rel=0.15)
    # Z = I0(kappa) (the von Mises integral over the circle, prior 1/360 deg) x the d integral
    exact = np.log(i0(KAPPA)) + np.log(np.sqrt(2 * np.pi) * 0.4 / 9.9 * (norm.cdf(7.4 / 0.4) - norm.cdf(-2.5 / 0.4)))
    assert abs(res.log_z - exact) < 3.0 * res.log_z_err


def test_prior_transform_is_the_inverse_prior_cdf():
    spec = {
        "a_kpc": {"value": 1.0, "min": 0.0, "max": 2.0},
        "b_deg": {"value": 0.0, "min": -5.0, "max": 5.0, "prior": "gaussian", "mu": 1.0, "sigma": 2.0},
        "c_deg": {"value": 8.0, "min": 7.0, "max": 12.0, "prior": "gaussian", "mu": 0.0, "sigma": 1.5},
        "l_deg": {"value": 0.0, "min": -180.0, "max": 180.0, "periodic": True},
        "d_kpc": {"value": 3.0, "min": 0.1, "max": 10.0, "prior": "fixed"},
    }
    ps = ParameterSet.from_config(spec, {k: k.split("_")[1] for k in spec})
    assert ps.ndim == 4
    u = np.linspace(0.0, 1.0, 11)[:, None] * np.ones(4)
    th = ps.prior_transform(u)
    assert th[:, 0] == pytest.approx(2.0 * u[:, 0])
    for j, (lo, hi, mu, sig) in ((1, (-5.0, 5.0, 1.0, 2.0)), (2, (7.0, 12.0, 0.0, 1.5))):
        exact = truncnorm.ppf(u[:, j], (lo - mu) / sig, (hi - mu) / sig, loc=mu, scale=sig)
        assert th[:, j] == pytest.approx(exact, rel=1e-9, abs=1e-7)  # c: the upper tail, 4.7 to 8 sigma out
    assert th[:-1, 3] == pytest.approx(-180.0 + 360.0 * u[:-1, 3]) and th[-1, 3] == -180.0
    assert ps.prior_transform([0.5, 0.5, 0.5, 1.25])[3] == pytest.approx(-90.0)  # periodic: wrapped
    assert np.all(np.isfinite(ps.log_prior(ps.prior_transform(np.random.default_rng(1).random((1000, 4))))))


def test_batch_pool_vectorises_and_propagates_errors():
    calls = []

    def fn(x):
        calls.append(len(x))
        if np.any(x[:, 0] < 0):
            raise ValueError("negative")
        return x[:, 0] ** 2

    def task(x):  # dynesty-like: a few point requests in sequence
        return [point_log_likelihood(np.array([x + k])) for k in range(3)]

    with BatchPool(fn, 8) as pool:
        out = pool.map(task, range(20))
        assert out == [[float((x + k) ** 2) for k in range(3)] for x in range(20)]
        assert calls == [8, 8, 8, 8, 8, 8, 4, 4, 4] and pool.n_evaluations == 60
        with pytest.raises(ValueError, match="negative"):
            pool.map(task, [1, -3, 2])
    with pytest.raises(Exception, match="outside a BatchPool task"):
        point_log_likelihood(np.zeros(1))


@pytest.mark.parametrize(
    "over, match",
    [
        ({"method": "multinest"}, "method"),
        ({"nlive": 5}, "nlive"),
        ({"bound": "box"}, "bound"),
        ({"nested_sample": "hmc"}, "nested_sample"),
        ({"batch": 0}, "batch"),
        ({"dlogz": 0.0}, "dlogz"),
    ],
)
def test_bad_nested_settings(over, match):
    with pytest.raises(ConfigError, match=f"fit.sampler.{match}"):
        check_nested_settings(replace(SETTINGS, **over))


KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from test_fit_nested import SETTINGS, SPEC, UNITS, Gaussian
from crknee.fit.nested import run_nested
from crknee.fit.parameters import ParameterSet
like = Gaussian()
def slow(x):
    time.sleep(0.002)
    print(sum(like.sizes), flush=True)
    return like(x)
run_nested(slow, ParameterSet.from_config(SPEC, UNITS), SETTINGS, {path!r})
"""


@pytest.mark.parametrize("signum", ["SIGKILL", "SIGTERM"])
def test_killed_run_resumes_to_the_uninterrupted_result(reference, tmp_path, signum):
    """kill -9 at a random instant of a run (perhaps inside a checkpoint write), or SIGTERM
    (checkpoint, then Interrupted): the rerun resumes from the last intact checkpoint and
    ends with the uninterrupted result."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    ps, _, ref = reference
    path = tmp_path / "nested.ckpt"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:  # about a third of the run's evaluations, then a random instant
        if int(line) >= 2200:
            break
    time.sleep(np.random.default_rng().uniform(0.0, 0.05))
    os.kill(proc.pid, getattr(signal, signum))
    _, err = proc.communicate(timeout=60)
    if signum == "SIGTERM":
        assert "Interrupted" in err and "rerun the same command to resume" in err
    assert path.exists()
    res = run_nested(Gaussian(), ps, SETTINGS, path)
    assert res.resumed and res.log_z == ref.log_z and np.array_equal(res.samples, ref.samples)


def test_sampler_section_takes_the_nested_keys():
    from crknee.fit.schema import sampler_settings

    s = sampler_settings({"method": "dynesty", "nlive": 300, "dlogz": 0.05, "batch": 32, "nested_sample": "rwalk"})
    assert (s.method, s.nlive, s.dlogz, s.batch, s.nested_sample) == ("dynesty", 300, 0.05, 32, "rwalk")
    with pytest.raises(ConfigError, match="fit.sampler.method must be one of"):
        sampler_settings({"method": "ultranest"})
    with pytest.raises(ConfigError, match="fit.sampler.nlive must be a int"):
        sampler_settings({"nlive": 1.5})
