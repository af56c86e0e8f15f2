"""The public API: every name in ``tinyae.__all__`` exists, and importing pulls in no framework."""

import subprocess
import sys

import tinyae as ta


def test_every_exported_name_exists():
    missing = [name for name in ta.__all__ if not hasattr(ta, name)]
    assert missing == []


def test_modules_share_one_protocol():
    layers = [ta.Dense(4, 3), ta.ReLU(), ta.BatchNorm1d(3), ta.LayerNorm(3), ta.Dropout(0.1),
              ta.Conv2D(1, 2, 3), ta.ConvTranspose2D(2, 1, 3), ta.MaxPool2D(2),
              ta.Upsample2D(2), ta.Flatten(), ta.Reshape((1, 2, 2))]
    for layer in layers:
        assert isinstance(layer, ta.Module)
        assert set(layer.params) == set(layer.grads)
        assert layer.train() is layer and layer.eval() is layer and not layer.training


def test_import_pulls_in_no_deep_learning_framework():
    code = ("import sys, tinyae; bad = [m for m in ('torch', 'tensorflow', 'jax', 'numba') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
