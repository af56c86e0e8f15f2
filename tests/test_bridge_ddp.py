"""Two-process DistributedDataParallel (tinyae.bridge.ddp, lesson 21) never stalls.

The trap it guards against: processes made by ``fork`` after the parent has trained in
PyTorch with several threads wait forever for an OpenMP thread pool that a forked child
does not have (issue 21, item 13: lesson 21's normal mode hung that way). The test
reproduces that parent: it trains a network in PyTorch with 2 threads for 20 epochs, then
runs lesson 21's normal-mode DDP settings (2 processes, 10 epochs of the digits),
bounded in time, and checks what DDP promises: the gradients averaged, the replicas equal.
It runs in a subprocess of its own so that the parent's thread state is the one built
here, whatever the test session did before. Skipped without PyTorch: the bridge is for
PyTorch users.
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PARENT = textwrap.dedent("""
    import time
    import numpy as np
    import torch
    import tinyae as ta
    from tinyae.bridge import ddp

    torch.set_num_threads(2)                 # the parent's OpenMP pool: 2 threads
    X, _ = ta.load_digits()
    X_train, _ = ta.train_test_split(X, test_size=0.2, seed=0)
    model = ta.Autoencoder.deep([64, 32, 8], seed=0)
    model.fit(X_train, loss="bce", optimizer=ta.Adam(3e-3), epochs=2, batch_size=32,
              verbose=0)
    net = ta.to_torch(model)                 # train in PyTorch first, as lesson 21 does
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    Xt = torch.from_numpy(X_train)
    order = torch.Generator().manual_seed(0)
    for epoch in range(20):
        for batch in torch.randperm(len(Xt), generator=order).split(32):
            loss = ((net(Xt[batch]) - Xt[batch]) ** 2).sum() / len(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert torch.get_num_threads() == 2
    t0 = time.perf_counter()
    r0, r1 = ddp.train(model, X_train, world=2, epochs=10, batch_size=32, timeout=TIMEOUT)
    seconds = time.perf_counter() - t0
    mean = (r0["local"] + r1["local"]) / 2
    assert np.max(np.abs(r0["local"] - r1["local"])) > 1e-3, "the shards gave equal gradients"
    assert max(np.max(np.abs(r["averaged"] - mean)) for r in (r0, r1)) < 1e-15
    assert np.array_equal(r0["weights"], r1["weights"]), "the replicas differ"
    assert int(r0["n_samples"]) == int(r1["n_samples"]) == (len(X_train) + 1) // 2
    print(f"DDP done in {seconds:.1f} s")
""")


def test_two_processes_after_the_parent_trained_in_pytorch(tmp_path):
    pytest.importorskip("torch", reason="the DDP bridge needs PyTorch (pip install -e .[torch])")
    timeout = 150    # the DDP part takes 5-25 s on a 2-core machine; a stall never ends
    script = tmp_path / "parent.py"
    script.write_text(PARENT.replace("TIMEOUT", str(timeout)))
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": pythonpath, "OPENBLAS_NUM_THREADS": "1"}
    env.pop("OMP_NUM_THREADS", None)         # the hazard needs a multi-threaded parent
    # A session of its own, so that a stall is ended with every process it started.
    process = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout + 300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"the parent process did not finish in {timeout + 300} s")
    finally:
        try:                                  # whatever is left of the session
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, f"{stdout[-2000:]}\n{stderr[-3000:]}"
    assert "DDP done in" in stdout


def test_importing_the_bridge_does_not_import_torch():
    code = ("import sys, tinyae, tinyae.bridge.ddp; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": pythonpath}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
