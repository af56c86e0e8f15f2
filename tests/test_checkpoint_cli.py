"""``tinyae train --resume`` and ``reproduce_hinton2006.py --resume``, as a user runs them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinyae.cli import main
from tinyae.optim import checkpoint as ckpt

ROOT = Path(__file__).resolve().parents[1]
HINTON = ROOT / "benchmarks" / "reproduce_hinton2006.py"
OPTIONS = ["--hidden-sizes", "16", "--dropout", "0.1", "--noise", "gaussian:0.2",
           "--epochs", "5", "--quiet"]


def model_arrays(folder):
    with np.load(folder / "model.npz", allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def assert_same_model(a, b):
    a, b = model_arrays(a), model_arrays(b)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    assert main(["train", *OPTIONS, "--out", str(out)]) == 0
    return out


def interrupt_after(monkeypatch, epochs):
    """Ctrl-C right after the checkpoint of epoch ``epochs`` is written."""
    real = ckpt.save

    def save(path, run, *, epoch, **state):
        real(path, run, epoch=epoch, **state)
        if epoch == epochs:
            raise KeyboardInterrupt

    monkeypatch.setattr(ckpt, "save", save)


def test_interrupted_train_resumes_to_the_same_model(uninterrupted, tmp_path, monkeypatch,
                                                     capsys):
    out = tmp_path / "run"
    interrupt_after(monkeypatch, 2)
    assert main(["train", *OPTIONS, "--out", str(out)]) == 130
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert "holds epoch 2 of 5" in err and f"tinyae train --resume {out}" in err
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz", "run.json"]
    assert main(["train", "--resume", str(out), "--epochs", "5"]) == 0  # equal: allowed
    assert_same_model(uninterrupted, out)
    # a finished run's folder looks as if it had never stopped
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in
                                                           uninterrupted.iterdir())


def test_resume_refuses_other_options(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    interrupt_after(monkeypatch, 1)
    assert main(["train", *OPTIONS, "--out", str(out)]) == 130
    monkeypatch.undo()
    capsys.readouterr()
    for option, value, message in (("--epochs", "9", "--epochs 9 differs from the run in"),
                                   ("--code", "8", "--code 8 differs"),
                                   ("--noise", "masking:0.2", "--noise masking:0.2 differs")):
        assert main(["train", "--resume", str(out), option, value]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    # a new run into the folder would throw the interrupted one away: refused
    assert main(["train", *OPTIONS, "--out", str(out)]) == 2
    assert f"tinyae train --resume {out}" in capsys.readouterr().err
    assert ckpt.epochs_done(out / "checkpoint.npz") == 1
    assert main(["train", "--epochs", "2", "--quiet", "--out", str(out), "--overwrite"]) == 0
    assert not (out / "checkpoint.npz").exists()


def test_resume_of_nothing_is_a_clear_error(uninterrupted, tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "no interrupted run there" in capsys.readouterr().err
    assert main(["train", "--resume", str(uninterrupted)]) == 2
    assert "finished run" in capsys.readouterr().err


def interrupt_when_saved(cmd, checkpoint, env=None):
    """Run ``cmd``; press Ctrl-C (SIGINT) as soon as its first checkpoint is written."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while not checkpoint.exists() and proc.poll() is None:
        time.sleep(0.001)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_ctrl_c_on_the_command_line(tmp_path):
    options = ["--batch-size", "1", "--epochs", "2", "--quiet"]
    whole, out = tmp_path / "whole", tmp_path / "run"
    assert main(["train", *options, "--out", str(whole)]) == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    code, _, err = interrupt_when_saved([sys.executable, "-m", "tinyae", "train", *options,
                                         "--out", str(out)], out / "checkpoint.npz", env)
    assert code == 130, err
    assert "interrupted: " in err and f"tinyae train --resume {out}" in err
    assert "Traceback" not in err
    assert main(["train", "--resume", str(out)]) == 0
    assert_same_model(whole, out)


def test_hinton_script_resumes(tmp_path):
    options = ["--fast", "--batch-size", "1"]  # synthetic strokes, 2 epochs of 600 steps
    whole, out = tmp_path / "whole", tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    env.pop("TINYAE_MNIST", None)
    done = subprocess.run([sys.executable, str(HINTON), *options, "--out", str(whole)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    code, _, err = interrupt_when_saved([sys.executable, str(HINTON), *options, "--out",
                                         str(out)], out / "checkpoint.npz", env)
    assert code == 130 and f"--resume {out}" in err, err[-2000:]
    refused = subprocess.run([sys.executable, str(HINTON), "--resume", str(out), "--lr", "0.1"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2 and "--lr 0.1 differs" in refused.stderr
    resumed = subprocess.run([sys.executable, str(HINTON), "--resume", str(out)],
                             capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming the run in" in resumed.stdout
    assert_same_model(whole, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in whole.iterdir())


def test_a_failed_run_leaves_nothing_to_resume(tmp_path, capsys):
    data = tmp_path / "outside.npy"
    np.save(data, np.random.default_rng(0).uniform(0, 16, (100, 64)))  # bce needs [0, 1]
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--epochs", "2", "--quiet", "--out",
                 str(out)]) == 2
    assert "expected targets in [0, 1]" in capsys.readouterr().err
    assert not (out / "run.json").exists() and not (out / "checkpoint.npz").exists()


def test_a_supervised_run_resumes_bit_for_bit(tmp_path, monkeypatch, capsys):
    """``tinyae train --labels`` checkpoints like the other runs, and resumes to the same bits."""
    import numpy as np

    from tinyae.cli import main
    from tinyae.optim import loop

    options = ["train", "--labels", "--labeled-fraction", "0.2", "--epochs", "4", "--quiet"]
    assert main([*options, "--out", str(tmp_path / "whole")]) == 0
    real_save = loop._Checkpointer.save

    def save_then_ctrl_c(self, epochs_done):
        real_save(self, epochs_done)
        if epochs_done == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop._Checkpointer, "save", save_then_ctrl_c)
    assert main([*options, "--out", str(tmp_path / "run")]) == 130
    assert "holds epoch 2 of 4" in capsys.readouterr().err
    monkeypatch.setattr(loop._Checkpointer, "save", real_save)
    assert main(["train", "--resume", str(tmp_path / "run"), "--quiet"]) == 0
    whole, run = np.load(tmp_path / "whole" / "model.npz"), np.load(tmp_path / "run" / "model.npz")
    assert sorted(whole.files) == sorted(run.files)
    assert all(np.array_equal(whole[k], run[k]) for k in whole.files)
    assert not (tmp_path / "run" / "checkpoint.npz").exists()
