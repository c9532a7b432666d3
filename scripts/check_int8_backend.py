"""Agreement of the simulated ``int8_static`` numerics with PyTorch's real x86 int8 backend.

    python scripts/check_int8_backend.py [--config int8_static] [--seeds 0 1 2 3 4]

For each member, the config's recipe is applied twice from the same calibration images: once as the
project simulates it (``pipeline.compression.quantization``) and once through torch.ao's FX graph-mode
post-training quantization with the x86 engine (``scripts/int8_backend.py``). Prints the fraction of
identical top-1 predictions on the whole test split (SPEC 5.2 asks for at least 99%). Run after
`dvc repro` (it reads data/prepare and data/train).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from int8_backend import (
    backend_int8_static,
    prediction_agreement,
)  # scripts/int8_backend.py, beside this file

from pipeline.compression.load import load_model
from pipeline.compression.quantization import quantize
from pipeline.compression.recipe import calibration_images
from pipeline.config import load_params
from pipeline.io.prepared import load_prepared
from pipeline.io.train import TrainFolder
from pipeline.numbers import fmt
from pipeline.pixels import to_unit


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="int8_static", help="a config whose quantize.method is int8_static")
    p.add_argument("--seeds", type=int, nargs="*", help="default: population.seeds")
    p.add_argument("--prepare", default="data/prepare", help="folder of the prepared dataset")
    p.add_argument("--train", default="data/train", help="folder of the members")
    args = p.parse_args()
    params = load_params()
    spec = params.compress.configs[args.config].quantize
    if spec is None or spec.method != "int8_static":
        raise SystemExit(f"error: compress.configs.{args.config} is not an int8_static config")
    data = load_prepared(Path(args.prepare))
    images = to_unit(torch.from_numpy(data.test.images))
    calibration = calibration_images(torch.from_numpy(data.train.images), spec)
    agreements = []
    for seed in args.seeds or params.population.seeds:
        dense, _ = load_model(TrainFolder(Path(args.train)).checkpoint(seed))
        simulated = quantize(dense, calibration, spec)  # works on a copy: dense stays float
        real = backend_int8_static(dense, calibration)
        agreement = prediction_agreement(simulated, real, images)
        agreements.append(agreement)
        print(f"seed {seed}: simulated int8_static vs x86 int8 backend: {fmt(agreement)} identical top-1")
    print(f"mean agreement over {len(agreements)} members: {fmt(sum(agreements) / len(agreements))}")


if __name__ == "__main__":
    main()
