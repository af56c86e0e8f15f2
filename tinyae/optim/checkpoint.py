"""Checkpoints: everything a training run needs to go on after it stops, in one file.

``fit(..., checkpoint=PATH)`` writes one after every epoch and, given a file of the
same run, continues from it. Continuing gives the same bits as never stopping, so a
checkpoint holds all the state a run carries from one epoch to the next:

* the model's parameters and buffers (``param/...``, ``buffer/...``, as model files);
* the optimizer's learning rate, step count and buffers (Adam's moments ``m``, ``v``);
* each callback's state (a schedule's ``lr₀``, early stopping's best loss and weights);
* the state of every random generator the run draws from: ``fit``'s (shuffling and
  input noise) and every ``numpy.random.Generator`` held by a module of the model
  (Dropout's masks, a variational autoencoder's ε);
* the :class:`~tinyae.optim.loop.History` and the number of epochs done.

File layout: a NumPy ``.npz`` like a model file (:mod:`tinyae.data.modelfile`), with
a JSON header ``__checkpoint__`` (``{"format": "tinyae-checkpoint", "run": {...},
"epoch": 3, ...}``) in which each array is a reference ``{"__array__": "name"}`` and
each NumPy scalar ``{"__scalar__": "float32", "value": ...}`` (so a float32 loss comes
back a float32). Read with ``allow_pickle=False``; written to a temporary file,
flushed to disk and renamed over the old checkpoint (``os.replace`` is atomic), so a
crash at any moment leaves the previous checkpoint or the new one, never half of one.

``run`` describes the run: the model's class and architecture, the optimizer and its
settings, the loss, epochs, batch size, seed, noise, callbacks, and a digest of the
data. A checkpoint whose ``run`` differs is refused before anything is loaded.

Anchor: Keras's ``BackupAndRestore`` callback; PyTorch's ``state_dict`` convention.
"""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from ..data.modelfile import write_atomic
from ..errors import ModelFileError

FORMAT = "tinyae-checkpoint"
FORMAT_VERSION = 1
HEADER = "__checkpoint__"


class CheckpointError(ModelFileError):
    """A checkpoint is corrupted, foreign, or of another run (another model or settings)."""


# ----- describing a run ------------------------------------------------------------------
def digest(*arrays):
    """A short hash of the arrays' shapes, dtypes and bytes (None entries count too)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none;")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def describe_run(model, optimizer, callbacks, data, **settings):
    """The JSON-friendly description that a checkpoint must match to be resumed.

    ``data`` is the tuple of arrays trained and validated on (digested, not stored);
    ``settings`` are ``fit``'s other arguments (loss, epochs, batch size, seed, ...).
    Call it before training starts: the optimizer's settings are its initial ones.
    """
    return {"model": {"class": type(model).__name__, "config": model.config()},
            "optimizer": {"class": type(optimizer).__name__, "config": optimizer.config()},
            "callbacks": [{"class": type(cb).__name__, "config": cb.config()}
                          for cb in callbacks],
            "data": digest(*data), **_plain(settings)}


def _plain(value):
    """Settings as JSON values: tuples become lists, Generators and objects their names."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.random.Generator):
        return "a numpy Generator"
    return repr(value)


def find_generators(model, *extra):
    """``[(name, Generator), ...]``: ``extra`` ones (e.g. ``("fit", rng)``), then the model's.

    Every ``numpy.random.Generator`` held in an attribute of a module of the model,
    in the order of ``model.modules()``; a Generator shared by several modules (the
    Dropout layers of ``Autoencoder.deep`` share one) is listed once.
    """
    found, seen = [], set()
    for name, rng in extra:
        if id(rng) not in seen:
            seen.add(id(rng))
            found.append((name, rng))
    for i, module in enumerate(model.modules()):
        for attr, value in vars(module).items():
            if isinstance(value, np.random.Generator) and id(value) not in seen:
                seen.add(id(value))
                found.append((f"{i}.{type(module).__name__}.{attr}", value))
    return found


# ----- writing ---------------------------------------------------------------------------
def save(path, run, *, epoch, stop, model, optimizer, callbacks, generators, history):
    """Write the state of a run after ``epoch`` complete epochs to ``path``, atomically."""
    from .._version import __version__

    pairs = model.parameters()
    arrays = {f"param/{name}": p for name, p, _ in model.named_parameters()}
    arrays.update({f"buffer/{name}": b for name, b in model.named_buffers()})
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "tinyae_version": __version__, "run": run, "epoch": int(epoch),
              "stop": bool(stop), "model_arrays": sorted(arrays)}
    state = {"optimizer": optimizer.state_dict(pairs),
             "callbacks": [cb.state_dict() for cb in callbacks],
             "generators": [[name, rng.bit_generator.state] for name, rng in generators],
             "history": history.to_dict()}
    header.update(_to_json(state, arrays, "state"))
    arrays[HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    write_atomic(Path(path), arrays)   # the model file's writer: temp file, fsync, rename


def remove_stale(path):
    """Delete temporary files left beside ``path`` by a writer that was killed mid-write."""
    path = Path(path)
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        tmp.unlink(missing_ok=True)


def _to_json(value, arrays, name):
    """``value`` with every array moved into ``arrays`` (a reference left in its place)."""
    if isinstance(value, np.ndarray):
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        return {"__scalar__": value.dtype.name, "value": value.item()}
    if isinstance(value, dict):
        return {str(k): _to_json(v, arrays, f"{name}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v, arrays, f"{name}/{i}") for i, v in enumerate(value)]
    return value


def _from_json(value, arrays):
    if isinstance(value, dict):
        if "__array__" in value:
            return arrays[value["__array__"]]
        if "__scalar__" in value:
            return np.dtype(value["__scalar__"]).type(value["value"])
        return {k: _from_json(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v, arrays) for v in value]
    return value


# ----- reading ---------------------------------------------------------------------------
def read(path, run):
    """The checkpoint at ``path`` as ``(header, arrays)``, refused unless it is of ``run``.

    Raises
    ------
    CheckpointError
        The file is corrupted, truncated, pickled, not a checkpoint, from a newer
        tinyae, or of another run; the message names the first setting that differs.
    """
    path = Path(path)
    arrays = _read_arrays(path)
    try:
        header = json.loads(arrays.pop(HEADER).tobytes().decode())
    except KeyError:
        raise CheckpointError(f"{path} is not a tinyae checkpoint (no {HEADER!r} header); "
                              "give fit another checkpoint path") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: the checkpoint header is corrupted ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a tinyae checkpoint")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer tinyae (checkpoint format "
                              f"{version!r}); this one reads format {FORMAT_VERSION}")
    saved = header.get("run")
    if saved != run:
        raise CheckpointError(f"{path} is a checkpoint of another run: "
                              f"{_difference(saved, run)}; refusing to resume it: give another "
                              "checkpoint path, or delete the file to start over")
    return header, arrays


def epochs_done(path):
    """The number of complete epochs a checkpoint holds (its header only is read)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(data[HEADER].tobytes().decode())["epoch"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path} is not a readable tinyae checkpoint ({exc})") from exc


def _difference(saved, run, where=""):
    """The first setting that differs, e.g. ``"epochs: 10 in the checkpoint, 20 here"``."""
    if isinstance(saved, dict) and isinstance(run, dict):
        for key in list(run) + [k for k in saved if k not in run]:
            if saved.get(key) != run.get(key):
                return _difference(saved.get(key), run.get(key), f"{where}{key}.")
    if isinstance(saved, list) and isinstance(run, list) and len(saved) == len(run):
        for i, (a, b) in enumerate(zip(saved, run)):
            if a != b:
                return _difference(a, b, f"{where}{i}.")

    def short(v):
        text = json.dumps(v)
        return text if len(text) <= 60 else text[:57] + "..."

    what = {"data.": "the data differ (another data set, split or order)"}.get(where)
    return what or f"{where[:-1]}: {short(saved)} in the checkpoint, {short(run)} here"


def _read_arrays(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] != b"PK":
        raise CheckpointError(f"{path} is not a tinyae checkpoint (not a .npz file)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a tinyae checkpoint ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise CheckpointError(f"{path} is truncated or corrupted: {type(exc).__name__}: "
                              f"{exc}") from exc


def restore(path, header, arrays, *, model, optimizer, callbacks, generators, history):
    """Load a checkpoint read by :func:`read` into the run's objects; returns ``(epoch, stop)``.

    Everything is checked first (array names, shapes and dtypes, the generators),
    then assigned: a checkpoint that does not fit is refused, never half-loaded.
    """
    state = _from_json({k: header[k] for k in ("optimizer", "callbacks", "generators",
                                                "history")}, arrays)
    targets = {f"param/{n}": p for n, p, _ in model.named_parameters()}
    targets.update({f"buffer/{n}": b for n, b in model.named_buffers()})
    if sorted(targets) != header.get("model_arrays"):
        raise CheckpointError(f"{path}: the model's arrays do not match the checkpoint's")
    for name, target in targets.items():
        got = arrays.get(name)
        if got is None or got.shape != target.shape or got.dtype != target.dtype:
            raise CheckpointError(f"{path}: array {name} should be {target.dtype} "
                                  f"{target.shape} but is not, in the checkpoint")
    names = [name for name, _ in generators]
    if [name for name, _ in state["generators"]] != names:
        raise CheckpointError(f"{path}: the random generators do not match (checkpoint "
                              f"{[n for n, _ in state['generators']]}, run {names})")
    pairs = model.parameters()
    try:
        optimizer.check_state_dict(state["optimizer"], pairs)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    # all checked: assign
    for name, target in targets.items():
        target[...] = arrays[name]
    optimizer.load_state_dict(state["optimizer"], pairs)
    for cb, cb_state in zip(callbacks, state["callbacks"]):
        cb.load_state_dict(cb_state)
    for (_, rng), (_, rng_state) in zip(generators, state["generators"]):
        rng.bit_generator.state = rng_state
    h = state["history"]
    history.train_loss[:], history.val_loss[:] = h["train_loss"], h["val_loss"]
    history.epoch_time[:], history.lr[:] = h["epoch_time"], h["lr"]
    history.terms.clear()
    history.terms.update(h["terms"])
    history.stopped_early = h["stopped_early"]
    return header["epoch"], header["stop"]
