"""The small commands: ``reconstruct``/``encode`` (apply), ``sample``, ``export``."""


import os

import numpy as np

from ..data.datasets import load_array


# ----- tinyae reconstruct / encode ---------------------------------------------------------
def cmd_apply(args):
    from .. import load

    model = load(args.model)
    X = load_array(args.input, dtype=model.dtype)
    result = model.reconstruct(X) if args.what == "reconstruct" else model.encode(X)
    if args.output.resolve() in (args.input.resolve(), args.model.resolve()):
        raise ValueError(f"output {args.output} would overwrite an input file; choose another")
    out = args.output if args.output.suffix == ".npy" else args.output.with_suffix(".npy")
    tmp = out.with_name(f".{out.name}.tmp.npy")
    np.save(tmp, result)
    os.replace(tmp, out)
    print(f"wrote {out}: {args.what} of {len(X)} rows, shape {result.shape}")
    return 0


# ----- tinyae sample ----------------------------------------------------------------------
def cmd_sample(args):
    from .. import load, plots
    from ..models.vae import VariationalAutoencoder

    if args.output.suffix not in (".png", ".npy"):
        raise ValueError(f"OUTPUT must end in .png or .npy, got {args.output}")
    model = load(args.model)
    if not isinstance(model, VariationalAutoencoder):
        raise ValueError(f"{args.model} holds a model of class {type(model).__name__}, not "
                         "a variational one: only a VAE has a prior to sample codes from; "
                         "train one with tinyae train --variational")
    images = model.sample(args.n, seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.output.suffix == ".npy":
        np.save(args.output, images)
    else:
        plots.plot_image_grid(images, ncols=args.ncols, path=args.output,
                              title=f"{args.n} images decoded from z ~ N(0, I)")
    print(f"wrote {args.output}: {args.n} images of {images.shape[1]} pixels")
    return 0


# ----- tinyae export -----------------------------------------------------------------------
def cmd_export(args):
    from .. import load
    from ..bridge.files import export
    from ..bridge.pytorch import pytorch_source, state_dict

    if args.output.suffix != ".safetensors":
        raise ValueError(f"OUT must end in .safetensors, got {args.output}")
    if args.output.resolve() == args.model.resolve():
        raise ValueError(f"output {args.output} would overwrite the model file; choose another")
    model = load(args.model)
    export(model, args.output)
    print(f"wrote {args.output}: {len(state_dict(model))} tensors under PyTorch's state_dict "
          f"names; in PyTorch (from torch import nn; from collections import OrderedDict):\n"
          f"  net = {pytorch_source(model)}\n"
          f"  net.load_state_dict(safetensors.torch.load_file({str(args.output)!r}))")
    return 0


