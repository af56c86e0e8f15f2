"""The kill test: training processes killed with SIGKILL at random moments, then resumed.

A SIGKILL cannot be caught: the process stops wherever it is, in the middle of a
batch or of writing the checkpoint. After every kill a loadable checkpoint must
remain, and resuming from it must give the parameters of the run that was never
killed, bit for bit.

Each trial trains in a fresh process forked from a "zygote", a child Python that
has imported tinyae once (importing NumPy takes seconds on a busy machine; a fork
takes a millisecond), so 24 trials fit in a few seconds of CPU. In half of the
trials the child writes its checkpoints slowly, in small pieces with pauses, so
that most kills land inside a write.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tinyae.optim import checkpoint as ckpt

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 8

# the run: Dropout and input noise draw from two Generators, Adam has moments and a step
SETUP = textwrap.dedent("""
    import numpy as np
    import tinyae as ta

    X = ta.load_digits(dtype=np.float32)[0][:320]

    def train(checkpoint=None):
        model = ta.Autoencoder.deep([64, 32, 8], dropout=0.2, seed=4, dtype=np.float32)
        model.fit(X, loss="bce", optimizer=ta.Adam(lr=3e-3), epochs=%d, batch_size=32,
                  seed=5, verbose=0, noise=("gaussian", 0.1), checkpoint=checkpoint)
        return model
""" % EPOCHS)

# the zygote: reads "PATH SLOW" lines, forks a child that trains with checkpoint PATH,
# prints the child's pid, waits for it and prints how it ended
ZYGOTE = SETUP + textwrap.dedent("""
    import io, os, sys, time

    real_savez = np.savez

    def slow_savez(f, **arrays):  # the same bytes, in 2 kB pieces with pauses
        buffer = io.BytesIO()
        real_savez(buffer, **arrays)
        data = buffer.getvalue()
        for i in range(0, len(data), 2048):
            f.write(data[i:i + 2048])
            f.flush()
            time.sleep(0.001)
        time.sleep(0.005)  # complete, not yet renamed

    for line in sys.stdin:
        path, slow = line.split()
        pid = os.fork()
        if pid == 0:
            if slow == "1":
                np.savez = slow_savez
            train(path)
            os._exit(0)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(status, flush=True)
""")


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    yield proc
    proc.stdin.close()
    proc.wait(timeout=30)


def reference():
    namespace = {}
    exec(SETUP, namespace)
    return namespace["train"]


def params(model):
    return [p.copy() for _, p, _ in model.named_parameters()] + \
        [b.copy() for _, b in model.named_buffers()]


def start(zygote, path, slow):
    zygote.stdin.write(f"{path} {int(slow)}\n")
    zygote.stdin.flush()
    return int(zygote.stdout.readline())


def test_killed_at_random_moments_resumes_bit_for_bit(zygote, tmp_path):
    train = reference()
    expected = params(train())
    rng = np.random.default_rng(2006)

    # one run to the end in each mode: how long training lasts after the first checkpoint
    durations = {}
    for slow in (False, True):
        path = tmp_path / f"whole-{int(slow)}.npz"
        start(zygote, path, slow)
        while not path.exists():
            time.sleep(0.001)
        t0 = time.perf_counter()
        assert int(zygote.stdout.readline()) == 0
        durations[slow] = time.perf_counter() - t0
        assert ckpt.epochs_done(path) == EPOCHS
        for got, want in zip(params(train(path)), expected):
            assert np.array_equal(got, want)

    # Kill until 20 kills landed (5 of them inside a write): on a busy machine a child may
    # finish before its random moment comes, which is a run, not a kill.
    inside_write, killed, trial = 0, 0, -1
    while killed < 20 or inside_write < 5:
        trial += 1
        assert trial < 60, f"only {killed} kills ({inside_write} inside a write) in 60 trials"
        slow = trial % 2 == 1
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        path = folder / "run.npz"
        pid = start(zygote, path, slow)
        while not path.exists():  # from here on a checkpoint must always remain
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.8 * durations[slow]))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # finished first
            pass
        status = int(zygote.stdout.readline())
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed += 1
            inside_write += any(folder.glob(".run.npz.*.tmp"))
        else:
            assert status == 0
        done = ckpt.epochs_done(path)  # loadable, whatever the moment of the kill
        assert 1 <= done <= EPOCHS
        resumed = params(train(path))
        for got, want in zip(resumed, expected):
            assert np.array_equal(got, want), f"trial {trial}: killed after {done} epochs"
        assert not any(folder.glob(".run.npz.*.tmp"))  # the resumed run cleaned up
    assert killed >= 20 and inside_write >= 5, (killed, inside_write)
