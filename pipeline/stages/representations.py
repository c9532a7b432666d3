"""Stage ``representations@config``: layer-by-layer similarity of each compressed member to the dense
member of the same seed, and activation maximization of a few last-conv units (SPEC section 11).

On a fixed seeded sample of test images, the inputs of every conv / linear layer but the first, and the
logits (pipeline.representations.layers), flattened per example in C order (C x H x W), are compared by
linear CKA, debiased linear CKA and SVCCA.  The noise floor is the same between the dense members of
every pair of seeds.

Writes to the output folder (replaced as a whole on success):
  summary.json        per layer: means over seeds of the three similarities and the SVCCA dimensions kept,
                      and the noise floor (means over seed pairs; null with one seed); ``cka_last``, the
                      linear CKA of the logits; ``activation_max``: the first seed's maximizing images'
                      final unit activations, ``<image>_on_<member>`` (``dense_on_compressed``: the image
                      found on the dense member, shown to the compressed one: does the compressed unit
                      still respond to what the dense unit looks for?)
  per_layer.csv       per seed and layer: the similarities of the compressed member to the dense one
  floor.csv           per pair of seeds and layer: the similarities of the two dense members
  activation_max.png  (representations.units > 0) the first seed's images, dense above, compressed below
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # the stage's own process only: importing this module changes nothing
    # numpy and scipy each bundle an OpenBLAS with its own pool of threads.  SVCCA alternates between
    # them (numpy's QR, then scipy's SVD), and each pool's spinning workers starve the other's: on two
    # cores, ten SVCCA bases of a conv layer take 2.4 s with two threads per pool and 1.1 s with one.
    # Set before numpy loads (a setting in the environment wins); torch (MKL, OpenMP) is not affected.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import itertools
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import ConfigError, RepresentationsParams, config_of, load_params
from pipeline.representations.similarity import Summary, compare, summarize
from pipeline.stages._cli import add_member_args, parser, resolve_member, run

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger("pipeline.representations")

FLATTEN = "per example: C x H x W in C order"
PER_LAYER_COLUMNS = [
    *("seed", "layer", "units", "linear_cka", "debiased_cka", "svcca"),
    *("svcca_dims_dense", "svcca_dims_compressed"),
]
FLOOR_COLUMNS = ["seed_a", "seed_b", "layer", "linear_cka", "debiased_cka", "svcca"]
MEANS = ("linear_cka", "debiased_cka", "svcca", "svcca_dims_dense", "svcca_dims_compressed")
FLOOR_MEANS = ("linear_cka", "debiased_cka", "svcca")
MIN_SAMPLE = 4  # debiased CKA's unbiased HSIC needs n >= 4


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_member(args, fill=("members", "out"))
    config_of(params, args.config)
    cfg = params.representations
    from pipeline.runtime import configure_torch

    configure_torch(params.runtime)
    from pipeline.io.prepared import load_prepared

    start = time.perf_counter()
    data = load_prepared(Path(args.data))
    images = _sample(data.test.images, cfg)
    seeds = params.population.seeds
    dense: dict[int, dict[str, Summary]] = {}  # every seed's, for the noise floor
    rows: list[dict[str, Any]] = []
    act_max: dict[str, Any] | None = None
    pictures: tuple[np.ndarray, np.ndarray] | None = None  # (U, C, H, W) images of the dense, compressed
    for seed in seeds:
        dense_model, member = _load_pair(args.dense.format(seed=seed), args.members.format(seed=seed))
        dense[seed] = _summaries(dense_model, images, cfg.svcca_keep)
        compressed = dense[seed] if member is dense_model else _summaries(member, images, cfg.svcca_keep)
        _check_layers(dense[seed], compressed)
        seed_rows = [_row(seed, name, dense[seed][name], compressed[name]) for name in dense[seed]]
        rows += seed_rows
        if seed == seeds[0] and cfg.units > 0:
            act_max, pictures = _activation_max(dense_model, member, cfg, seed, data.image_shape)
        log.info("%s seed %d: linear CKA %s", args.config, seed, _cka_line(seed_rows))
    floor = [
        _floor_row(a, b, name, dense[a][name], dense[b][name])
        for a, b in itertools.combinations(seeds, 2)
        for name in dense[a]
    ]
    summary = _summary(args.config, images.shape[0], len(seeds), rows, floor, act_max)
    _write(Path(args.out), summary, rows, floor, pictures)
    log.info(
        "%s: %d seeds, %d images, logits linear CKA %s (dense floor %s), %.1f s",
        *(args.config, len(seeds), images.shape[0], _format(summary["cka_last"])),
        _format(summary["layers"][-1]["floor_linear_cka"]),
        time.perf_counter() - start,
    )


def _sample(test_images: np.ndarray, cfg: RepresentationsParams) -> torch.Tensor:
    """(n, C, H, W) floats in [0, 1]: the fixed seeded sample of the test images."""
    import torch

    from pipeline.sampling import sample_indices

    index = sample_indices(len(test_images), cfg.sample_size, cfg.sample_seed, "representations.sample_size")
    if index.size < MIN_SAMPLE:
        raise ConfigError(
            f"representations.sample_size: need at least {MIN_SAMPLE} test images, got {index.size}"
        )
    return torch.from_numpy(test_images[index]).float() / 255.0


def _load_pair(dense_path: str, member_path: str) -> tuple[nn.Module, nn.Module]:
    """The dense and the compressed member of one seed; the same object when both paths are one file
    (config ``dense``), so that its representations are captured and reduced once."""
    from pipeline.compression.load import load_model

    dense, _ = load_model(Path(dense_path))
    if Path(member_path).resolve() == Path(dense_path).resolve():
        return dense, dense
    member, _ = load_model(Path(member_path))
    return dense, member


def _summaries(model: nn.Module, images: torch.Tensor, keep: float) -> dict[str, Summary]:
    """Per layer (in order), ``model``'s representation on ``images``, summarized for comparison."""
    from pipeline.representations.layers import capture, representation_layers

    layers = representation_layers(model)
    captured = capture(model, layers, images)
    return {name: summarize(captured.pop(name), keep) for name in layers}  # frees each as it goes


def _check_layers(dense: dict[str, Summary], compressed: dict[str, Summary]) -> None:
    shapes = [(name, s.width) for name, s in dense.items()]
    other = [(name, s.width) for name, s in compressed.items()]
    if shapes != other:
        raise ValueError(f"the compressed member's layers {other} differ from the dense member's {shapes}")


def _format(value: float | None) -> str:
    return "null" if value is None or not np.isfinite(value) else f"{value:.4f}"


def _cka_line(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['layer']} {_format(r['linear_cka'])}" for r in rows)


def _row(seed: int, layer: str, dense: Summary, compressed: Summary) -> dict[str, Any]:
    sim = compare(dense, compressed)
    return {
        "seed": seed,
        "layer": layer,
        "units": dense.width,
        "linear_cka": sim.linear_cka,
        "debiased_cka": sim.debiased_cka,
        "svcca": sim.svcca,
        "svcca_dims_dense": sim.svcca_dims_x,
        "svcca_dims_compressed": sim.svcca_dims_y,
    }


def _floor_row(seed_a: int, seed_b: int, layer: str, a: Summary, b: Summary) -> dict[str, Any]:
    sim = compare(a, b)
    return {
        "seed_a": seed_a,
        "seed_b": seed_b,
        "layer": layer,
        "linear_cka": sim.linear_cka,
        "debiased_cka": sim.debiased_cka,
        "svcca": sim.svcca,
    }


def _finite(value: float) -> float | None:
    """A plain float for JSON, None for NaN (a constant representation) or infinity."""
    return float(value) if np.isfinite(value) else None


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    """Plain mean (a NaN anywhere gives None, as does no row at all)."""
    return _finite(float(np.mean([r[key] for r in rows]))) if rows else None


def _summary(
    config: str,
    sample_size: int,
    members: int,
    rows: list[dict[str, Any]],
    floor: list[dict[str, Any]],
    act_max: dict[str, Any] | None,
) -> dict[str, Any]:
    layers = list(dict.fromkeys(r["layer"] for r in rows))  # in order
    entries = []
    for name in layers:
        mine = [r for r in rows if r["layer"] == name]
        pairs = [r for r in floor if r["layer"] == name]
        entries.append(
            {"layer": name, "units": mine[0]["units"]}
            | {key: _mean(mine, key) for key in MEANS}
            | {f"floor_{key}": _mean(pairs, key) for key in FLOOR_MEANS}
        )
    return {
        "config": config,
        "sample_size": sample_size,
        "members": members,
        "flatten": FLATTEN,
        "layers": entries,
        "cka_last": entries[-1]["linear_cka"],
        "activation_max": act_max,
    }


# --------------------------------------------------------------------------------- activation maximization


def _activation_max(
    dense: nn.Module, member: nn.Module, cfg: RepresentationsParams, seed: int, image_shape: tuple[int, ...]
) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray]]:
    """Images maximizing units 0..units-1 of each member's last conv layer, from the same seeded noise,
    and every image's final activation on its own member and on the other one."""
    import torch

    from pipeline.models.layers import last_conv
    from pipeline.representations.activation_max import maximize_units, unit_activation

    models = {"dense": dense, "compressed": member}
    convs = {who: last_conv(model) for who, model in models.items()}
    channels = min(conv.out_channels for conv in convs.values())
    if cfg.units > channels:
        message = f"{cfg.units} is more than the {channels} channels of the last conv layer; use at most"
        raise ConfigError(f"representations.units: {message} {channels}")
    units = list(range(cfg.units))
    shape = (int(image_shape[0]), int(image_shape[1]), int(image_shape[2]))

    def maximize(who: str) -> np.ndarray:
        return maximize_units(models[who], convs[who], units, shape, steps=cfg.steps, lr=cfg.lr, seed=seed)

    found = {"dense": maximize("dense")}
    found["compressed"] = found["dense"] if member is dense else maximize("compressed")
    result: dict[str, Any] = {"layer": _name_of(dense, convs["dense"]), "seed": seed, "units": units}
    with torch.inference_mode():
        for image, on in (
            ("dense", "dense"),
            ("dense", "compressed"),
            ("compressed", "compressed"),
            ("compressed", "dense"),
        ):
            act = unit_activation(models[on], convs[on], torch.from_numpy(found[image]), units)
            result[f"{image}_on_{on}"] = [_finite(float(v)) for v in act]
    return result, (found["dense"], found["compressed"])


def _name_of(model: nn.Module, layer: nn.Module) -> str:
    return next(name for name, m in model.named_modules() if m is layer)


def _plot(path: Path, pictures: tuple[np.ndarray, np.ndarray], act: dict[str, Any], config: str) -> None:
    """Two rows (dense, compressed) of one image per unit: gray for one channel, RGB for three, else
    the channel mean in gray; titled with the unit and the image's final activation on its member."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    units = act["units"]
    fig, axes = plt.subplots(2, len(units), figsize=(1.7 * len(units) + 0.6, 4.4), squeeze=False)
    labels = (f"dense seed {act['seed']}", f"{config} seed {act['seed']}")
    for row, (images, who, label) in enumerate(zip(pictures, ("dense", "compressed"), labels, strict=True)):
        for col, unit in enumerate(units):
            ax = axes[row, col]
            image = images[col]  # (C, H, W) in [0, 1]
            if image.shape[0] == 3:
                ax.imshow(image.transpose(1, 2, 0), vmin=0.0, vmax=1.0)
            else:
                ax.imshow(image.mean(axis=0), cmap="gray", vmin=0.0, vmax=1.0)
            value = act[f"{who}_on_{who}"][col]
            ax.set_title(f"unit {unit}: {value:.3g}" if value is not None else f"unit {unit}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(f"{act['layer']}: activation maximization", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


# ------------------------------------------------------------------------------------------------ outputs


def _write(
    out: Path,
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    floor: list[dict[str, Any]],
    pictures: tuple[np.ndarray, np.ndarray] | None,
) -> None:
    from pipeline.io.files import write_json
    from pipeline.io.folders import replaced_folder
    from pipeline.io.tables import write_table

    with replaced_folder(out) as tmp:
        write_json(tmp / "summary.json", summary)
        write_table(tmp / "per_layer.csv", rows, PER_LAYER_COLUMNS)
        write_table(tmp / "floor.csv", floor, FLOOR_COLUMNS)
        if pictures is not None:
            _plot(tmp / "activation_max.png", pictures, summary["activation_max"], summary["config"])


if __name__ == "__main__":
    p = parser(__doc__ or "")
    add_member_args(p, config=True)
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--members", required=True, help="the config's checkpoint path pattern with {seed}")
    p.add_argument("--dense", required=True, help="the dense checkpoint path pattern with {seed}")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    run(main, p.parse_args())
