"""Prediction throughput: this project's path against a plain PyTorch evaluation loop and the hardware limit.

    python scripts/bench_predict.py [--checkpoint data/compress/dense/seed_0.safetensors] [--repeats 3]

Both paths run the same weights on the 10,000 Fashion-MNIST test images on the CPU:
- plain: torchvision's FashionMNIST with ToTensor through a DataLoader, batch 256, eager float32;
- ours: ``pipeline.prediction.predict_logits`` on the prepared uint8 arrays (batch from params.yaml,
  channels-last), as the ``predict`` stage runs it.
The hardware limit is the model's FLOPs per image times the images, over this machine's measured float32
matrix-multiply rate. Run it after `dvc repro` (it reads data/prepare, data/raw and a checkpoint).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from pipeline.compression.load import load_model
from pipeline.config import load_params
from pipeline.io.prepared import load_prepared
from pipeline.prediction import predict_logits


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeats`` timed calls, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def plain_loop(model: torch.nn.Module, root: Path) -> torch.Tensor:
    from torchvision import datasets, transforms

    dataset = datasets.FashionMNIST(str(root), train=False, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=256)
    preds = []
    with torch.no_grad():
        for x, _ in loader:
            preds.append(model(x).argmax(1))
    return torch.cat(preds)


def matmul_flops_per_second(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up
    seconds = best_of(repeats, lambda: torch.mm(a, b))
    return 2 * n**3 / seconds


def flops_per_image(model: torch.nn.Module, shape: tuple[int, int, int]) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.rand(1, *shape))
    return int(counter.get_total_flops())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="data/compress/dense/seed_0.safetensors")
    p.add_argument("--data", default="data/prepare")
    p.add_argument("--raw", default="data/raw")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    batch = load_params().predict.batch_size
    model, _ = load_model(Path(args.checkpoint))
    data = load_prepared(Path(args.data))
    images = torch.from_numpy(data.test.images)
    n = images.shape[0]

    plain_s = best_of(args.repeats, lambda: plain_loop(model, Path(args.raw)))
    fast = model.to(memory_format=torch.channels_last)
    ours_s = best_of(args.repeats, lambda: predict_logits(fast, images, batch))
    same = (plain_loop(model, Path(args.raw)) == predict_logits(fast, images, batch).argmax(1)).float().mean()

    flops = flops_per_image(model, data.image_shape)
    rate = matmul_flops_per_second()
    limit_s = flops * n / rate
    print(f"threads: {torch.get_num_threads()}, images: {n}, batch: plain 256 / ours {batch}")
    print(f"plain PyTorch loop : {n / plain_s:10.0f} images/s ({plain_s:.3f} s)")
    print(
        f"this project       : {n / ours_s:10.0f} images/s ({ours_s:.3f} s)  -> {plain_s / ours_s:.1f}x plain"
    )
    print(
        f"hardware limit     : {n / limit_s:10.0f} images/s ({flops / 1e6:.2f} MFLOP/image at "
        f"{rate / 1e9:.1f} GFLOP/s matmul)  -> ours at {limit_s / ours_s:.0%} of it"
    )
    print(f"identical predictions: {float(same):.4f}")


if __name__ == "__main__":
    main()
