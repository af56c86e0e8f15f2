"""``tinyae train --resume DIR``: an interrupted run goes on where it stopped.

``tinyae train`` keeps two files in its output folder while it trains: ``run.json``
(the command's options) and ``checkpoint.npz`` (the state after the last complete
epoch, :mod:`tinyae.optim.checkpoint`). Ctrl-C, a closed laptop lid or a killed
process leaves both; ``tinyae train --resume DIR`` reads the options back and
continues, ending with the same model, bit for bit, as a run never stopped. A
finished run removes both files, so its folder holds the model, the metrics and
the pictures only.
"""

import json
import sys
from pathlib import Path

CHECKPOINT = "checkpoint.npz"
RUN = "run.json"
# options that change how a run is shown, not what it computes: free on --resume
FREE = {"quiet", "resume", "overwrite"}


def _given(argv):
    """The options written on the command line (``--epochs 5`` -> ``epochs``)."""
    return [a[2:].split("=")[0].replace("-", "_") for a in argv if a.startswith("--")]


def resumed_args(args):
    """``args`` unchanged, or with ``--resume DIR`` the options recorded in ``DIR``.

    Options given again with ``--resume`` must equal the recorded ones (``--quiet``
    is free); anything else is a clear one-line error.
    """
    folder = args.resume
    if folder is None:
        return args
    record = folder / RUN
    if not record.is_file():
        if (folder / "model.npz").exists():
            raise ValueError(f"{folder} holds a finished run (model.npz): there is nothing "
                             "to resume")
        raise FileNotFoundError(f"--resume {folder}: no interrupted run there (no {RUN}); "
                                "give the folder an interrupted tinyae train wrote to")
    from .main import build_parser

    argv = json.loads(record.read_text())["argv"]
    recorded = build_parser().parse_args(["train", *argv])
    for name in _given(getattr(args, "argv", [])):
        if name not in FREE and getattr(args, name, None) != getattr(recorded, name, None):
            raise ValueError(
                f"--{name.replace('_', '-')} {_show(getattr(args, name, None))} differs from the "
                f"run in {folder} (--{name.replace('_', '-')} "
                f"{_show(getattr(recorded, name, None))}): --resume continues a run with its "
                "recorded options; leave the option out")
    # the folder as given now (the recorded --out may be relative to another directory)
    recorded.out, recorded.resume, recorded.quiet, recorded.overwrite = \
        folder, folder, args.quiet, True
    recorded.argv = argv
    return recorded


def _show(value):
    if isinstance(value, (list, tuple)):
        return ":".join(map(str, value)) if value and isinstance(value[0], str) \
            else ",".join(map(str, value))
    if isinstance(value, bool) or value is None:
        return "(given)" if value else "(not given)"
    return value


_CREATED = set()   # output folders this process made


def start_run(args, out):
    """Before training: refuse to overwrite an interrupted run; record the options in ``out``.

    Returns the checkpoint's path for ``fit``.
    """
    checkpoint = out / CHECKPOINT
    if not out.exists():
        _CREATED.add(out)           # so that a failed run can take its folder away again
    out.mkdir(parents=True, exist_ok=True)
    if args.resume is None:
        if checkpoint.exists() and not args.overwrite:
            raise FileExistsError(f"{out} holds an interrupted run: continue it with "
                                  f"tinyae train --resume {out}, or pass --overwrite to start "
                                  "over")
        checkpoint.unlink(missing_ok=True)
        argv = getattr(args, "argv", [])
        argv = argv[argv.index("train") + 1:] if "train" in argv else argv
        argv = [a for a in _strip_out(argv) if a not in ("--overwrite", "--quiet")]
        (out / RUN).write_text(json.dumps({"argv": [*argv, "--out", str(out)]}, indent=1))
    return checkpoint


def _strip_out(argv):
    """``argv`` without ``--out DIR`` / ``--out=DIR`` (the recorded run names its folder)."""
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            kept.append(a)
    return kept


def fit_or_interrupt(train, out, epochs):
    """``train()``'s result; on Ctrl-C, a note on how to resume and None.

    A run that fails (diverges, bad data) would fail again the same way: its
    checkpoint and record are removed before the error goes on.
    """
    try:
        return train()
    except Exception:
        finish(out)
        if out in _CREATED and not any(out.iterdir()):
            out.rmdir()             # a failed run leaves no empty folder, skips no number
        raise
    except KeyboardInterrupt:
        checkpoint = Path(out) / CHECKPOINT
        done = "no epoch was complete"
        if checkpoint.exists():
            from ..optim.checkpoint import epochs_done

            done = f"{checkpoint} holds epoch {epochs_done(checkpoint)} of {epochs}"
        print(f"\ninterrupted: {done}; continue with:\n  tinyae train --resume {out}",
              file=sys.stderr, flush=True)
        return None


def finish(out):
    """After a complete run: remove the checkpoint and the record, as the run is done."""
    (out / CHECKPOINT).unlink(missing_ok=True)
    (out / RUN).unlink(missing_ok=True)
