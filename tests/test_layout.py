"""The package's layout (issue 20): old paths still work, imports point down, modules stay short.

tinyae moved from one flat folder to sub-packages (nn, optim, models, data, teach, uses,
backend, bridge, cli). What learners, lessons, exercises, the README and the book
import must keep working, saved models from before must load the same, and the layers
must stay layered (import-linter, with planted violations that it must catch).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyae as ta

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"

# Every module path a reader meets: lessons, exercises, solutions, README, book, benchmarks.
OLD_PATHS = {
    "tinyae.activations": ["sigmoid", "ReLU", "Sigmoid", "get_activation"],
    "tinyae.augment": ["mix_codes", "perturb_codes"],
    "tinyae.classifier": ["Softmax", "SoftmaxClassifier", "SoftmaxCrossEntropy", "check_labels",
                          "softmax"],
    "tinyae.compression": ["compress", "decompress", "psnr", "quantize"],
    "tinyae.conv": ["Conv2D", "ConvTranspose2D", "Flatten", "MaxPool2D", "Reshape",
                    "Upsample2D", "col2im", "im2col", "conv_transpose_output_size"],
    "tinyae.conv_reference": ["conv"] if False else ["conv2d_loops"],
    "tinyae.datasets": ["load_digits", "load_mnist", "add_noise", "train_test_split"],
    "tinyae.diagnose": ["diagnose"],
    "tinyae.errors": ["DataFormatError", "DivergenceError", "ShapeError", "TinyAEError"],
    "tinyae.exercises": ["EXERCISES", "check_exercise", "main_check"],
    "tinyae.gradcheck": ["THRESHOLD", "check_loss", "check_model", "check_module",
                         "numerical_gradient", "relative_error"],
    "tinyae.images": ["load_cifar10", "load_images"],
    "tinyae.interop": ["MissingDependencyError", "export", "from_torch", "import_safetensors",
                       "state_dict", "to_torch"],
    "tinyae.io": ["load", "save"],
    "tinyae.layers": ["Dense", "init_weights"],
    "tinyae.losses": ["MSE", "BinaryCrossEntropyWithLogits", "softplus"],
    "tinyae.model": ["Autoencoder", "fuse_output"],
    "tinyae.module": ["Module", "Sequential"],
    "tinyae.normalization": ["BatchNorm1d", "BatchNorm2d", "Dropout", "LayerNorm"],
    "tinyae.optim": ["SGD", "Adam", "AdamW"],
    "tinyae.pca": ["PCA"],
    "tinyae.plots": ["plot_reconstructions"],
    "tinyae.regularizers": ["KLSparsity", "L1Activity", "WeightDecay"],
    "tinyae.schedules": ["CosineDecay", "ReduceLROnPlateau", "StepDecay"],
    "tinyae.supervised": ["SupervisedAutoencoder", "hide_labels"],
    "tinyae.train": ["History", "fit", "add_noise"],
    "tinyae.vae": ["GaussianKL", "VariationalAutoencoder"],
    "tinyae.backend": ["sigmoid", "set_backend", "get_backend", "BackendUnavailableError"],
}

_FROM = re.compile(r"from (tinyae(?:\.\w+)+) import \(?([\w ,\n]+?)\)?(?:\s*#.*)?$", re.M)
_ATTR = re.compile(r"\b(?:ta|tinyae)\.(\w+)\.(\w+)")


def _read_everywhere():
    """``{module path: {names}}`` from every place a reader meets tinyae's paths."""
    found = {}
    files = [*ROOT.glob("lessons/**/*.py"), *ROOT.glob("lessons/**/*.md"),
             *ROOT.glob("docs/*.md"), *ROOT.glob("benchmarks/*.py"), ROOT / "README.md",
             *ROOT.glob("examples/**/*.py")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for module, names in _FROM.findall(text):
            names = [n.strip().split(" as ")[0] for n in names.replace("\n", ",").split(",")]
            found.setdefault(module, set()).update(n for n in names if n)
        for module, name in _ATTR.findall(text):
            if not hasattr(ta, module) or module in ("np",):
                continue
            if isinstance(getattr(ta, module), type(ta)):
                found.setdefault(f"tinyae.{module}", set()).add(name)
    return found


def _check_in_fresh_python(paths):
    """Import each ``module: names`` in a new interpreter (no module cached by the tests)."""
    code = ("import importlib, sys, json\n"
            "OPTIONAL = ('numba', 'torch', 'safetensors')\n"
            "paths = json.loads(sys.argv[1]); bad = []\n"
            "for module, names in paths.items():\n"
            "    try:\n"
            "        m = importlib.import_module(module)\n"
            "    except Exception as exc:\n"
            "        bad.append(f'{module}: {exc}'); continue\n"
            "    for n in names:\n"
            "        if not hasattr(m, n):\n"
            "            try:\n"
            "                importlib.import_module(f'{module}.{n}')   # a submodule\n"
            "            except ImportError as exc:   # an optional extra: not a broken path\n"
            "                if not any(x in str(exc) for x in OPTIONAL):\n"
            "                    bad.append(f'{module}.{n}: {exc}')\n"
            "print('\\n'.join(bad)); sys.exit(1 if bad else 0)\n")
    import json
    result = subprocess.run([sys.executable, "-c", code, json.dumps(paths)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_old_module_paths_still_import():
    _check_in_fresh_python(OLD_PATHS)


def test_every_path_the_lessons_readme_and_book_use_imports():
    found = {m: sorted(n) for m, n in _read_everywhere().items()}
    assert "tinyae.gradcheck" in found and "tinyae.pca" in found   # the scan finds them
    _check_in_fresh_python(found)


def test_old_paths_are_the_new_modules_not_copies():
    import tinyae.gradcheck
    import tinyae.pca
    from tinyae.teach import gradcheck
    from tinyae.uses import pca

    assert tinyae.gradcheck is gradcheck and tinyae.pca is pca
    assert ta.optim.AdamW is ta.AdamW and ta.gradcheck.check_model is gradcheck.check_model


def test_import_tinyae_loads_no_bridge_torch_or_safetensors():
    code = ("import sys, tinyae; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'safetensors') or m.startswith('tinyae.bridge') or m == 'tinyae.interop'];"
            " print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_models_saved_before_the_move_load_the_same():
    expected = np.load(DATA / "before_layout_expected.npz")
    deep = ta.load(DATA / "before_layout_deep.npz")
    vae = ta.load(DATA / "before_layout_vae.npz")
    assert isinstance(deep, ta.Autoencoder) and isinstance(vae, ta.VariationalAutoencoder)
    np.testing.assert_array_equal(deep.reconstruct(expected["x"]), expected["deep"])
    np.testing.assert_array_equal(vae.reconstruct(expected["x"]), expected["vae"])


def test_safetensors_exported_before_the_move_loads_the_same():
    pytest.importorskip("safetensors", reason="the safetensors file needs the torch extra")
    expected = np.load(DATA / "before_layout_expected.npz")
    model = ta.load(DATA / "before_layout_deep.safetensors")
    np.testing.assert_array_equal(model.reconstruct(expected["x"]), expected["deep"])


def _lengths(folder):
    return {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
            for p in (ROOT / folder).rglob("*.py")}


def test_modules_are_short_enough_to_read():
    too_long = {p: n for p, n in _lengths("tinyae").items() if n > 450}
    nn_too_long = {p: n for p, n in _lengths("tinyae/nn").items() if n > 300}
    teach_too_long = {p: n for p, n in _lengths("tinyae/teach").items() if n > 300}
    assert too_long == {} and nn_too_long == {} and teach_too_long == {}
    assert len(_lengths("tinyae/teach")) > 10   # the check sees teach/'s modules, subfolders too


# ----- import-linter: the contracts in pyproject.toml, and proof that they can fail -------

def _lint_imports(package_root):
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    return subprocess.run([exe, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=package_root,
                          env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin"})


def test_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "broken" in result.stdout and "0 broken" in result.stdout


@pytest.mark.parametrize("where, line, contract", [
    # the math importing a model: nn -> models
    ("tinyae/nn/dense.py", "from ..models import autoencoder  # planted\n", "nn is the math"),
    # a cycle between layers: the backend taking im2col back from nn.conv
    ("tinyae/backend/numpy_ops.py", "from ..nn import conv  # planted\n", "Layers"),
    # the data layer importing the training loop (data sits below optim)
    ("tinyae/data/datasets.py", "from ..optim import loop  # planted\n", "Layers"),
])
def test_a_planted_violation_breaks_a_contract(tmp_path, where, line, contract):
    shutil.copytree(ROOT / "tinyae", tmp_path / "tinyae",
                    ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    target = tmp_path / where
    target.write_text(target.read_text(encoding="utf-8") + "\n" + line, encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout[-2000:]
    broken = result.stdout.split("Broken contracts")[-1]
    assert contract in broken, result.stdout[-2000:]
