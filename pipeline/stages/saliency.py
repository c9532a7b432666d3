"""Stage ``saliency@config``: how far the config's saliency maps move from the dense members' (SPEC section 9,
Schwaiger et al.).

Every member, dense and compressed, explains the same fixed, seeded sample of test images with respect to
their true labels, by ``saliency.method``.  Each compressed member is compared with the dense member of its
seed; the noise floor is the same comparison between dense members of different seeds.

Writes to the output folder (replaced as a whole on success):
  summary.json   config, method, sample size, members, whether the maps pass through a straight-through
                 estimator (and a note saying so), the four measures (mad, signed, spearman, top_overlap)
                 averaged over seeds and images, per seed, and for the noise floor, and mad over floor mad
  per_image.csv  seed x sample image: example id, true label, the four measures
  floor.csv      every pair of dense seeds: the four measures averaged over images
  examples.png   first seed, first ``saliency.examples`` images: image, dense map, compressed map and their
                 difference (not written when ``saliency.examples`` is 0)
"""

from __future__ import annotations

import argparse
import itertools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import ConfigError, SaliencyParams, config_of, load_params
from pipeline.io.files import atomic_path, write_json
from pipeline.io.folders import replaced_folder
from pipeline.io.prepared import load_prepared
from pipeline.io.tables import write_table
from pipeline.runtime import configure_torch
from pipeline.sampling import sample_indices
from pipeline.stages._cli import add_member_args, parser, resolve_member, run

if TYPE_CHECKING:
    import torch

    from pipeline.io.checkpoints import CheckpointMeta

log = logging.getLogger("pipeline.saliency")

METRICS = ("mad", "signed", "spearman", "top_overlap")
IMAGE_COLUMNS = ["seed", "example_id", "label", "label_name", *METRICS]
FLOOR_COLUMNS = ["seed_a", "seed_b", *METRICS]
FLOAT_QUANT = ("fp16", "bf16")  # rounded weights, float computation: no fake-quantized activations
PANEL_INCHES = 2.0
TITLE_INCHES = 0.5
DPI = 100

Metrics = dict[str, np.ndarray]  # measure name -> per-image values (N,)


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_member(args, fill=("members", "out"))
    config_of(params, args.config)  # a ConfigError listing the defined configs
    cfg = params.saliency
    configure_torch(params.runtime)
    import torch

    from pipeline.saliency.metrics import compare

    data = load_prepared(Path(args.data))
    ids = sample_indices(len(data.test), cfg.sample_size, cfg.sample_seed, "saliency.sample_size")
    if cfg.examples > len(ids):
        raise ConfigError(f"saliency.examples: {cfg.examples} is more than the {len(ids)} sampled images")
    images = torch.from_numpy(data.test.images[ids]).float() / 255.0  # (N, C, H, W) in [0, 1]
    labels = data.test.labels[ids]  # the true labels: the same targets for every model
    seeds = params.population.seeds
    dense, comp, through = member_maps(args.dense, args.members, seeds, images, torch.from_numpy(labels), cfg)
    per_seed = {seed: compare(dense[seed], comp[seed]) for seed in seeds}
    for seed in seeds:
        log.info("%s seed %d: %s", args.config, seed, _describe(mean_metrics([per_seed[seed]])))
    floor = {(a, b): compare(dense[a], dense[b]) for a, b in seed_pairs(seeds)}
    summary = build_summary(args.config, cfg.method, len(ids), per_seed, floor, through)
    names = data.class_names
    with replaced_folder(Path(args.out)) as out:
        write_json(out / "summary.json", summary)
        write_table(out / "per_image.csv", image_rows(per_seed, ids, labels, names), IMAGE_COLUMNS)
        write_table(out / "floor.csv", floor_rows(floor), FLOOR_COLUMNS)
        if cfg.examples > 0:
            shown, first = slice(0, cfg.examples), seeds[0]
            draw_examples(
                out / "examples.png",
                data.test.images[ids[shown]],
                dense[first][shown],
                comp[first][shown],
                [names[c] for c in labels[shown]],
                (f"dense seed {first}", args.config),
                f"{cfg.method} saliency of the true label: dense vs {args.config}, seed {first}",
            )
    log.info(
        "%s: mad %s against a noise floor of %s between dense seeds (ratio %s)",
        *(args.config, _num(summary["mad"]), _num(summary["noise_floor"]["mad"])),
        _num(summary["mad_over_floor"]),
    )


def member_maps(
    dense_pattern: str,
    members_pattern: str,
    seeds: Sequence[int],
    images: torch.Tensor,
    targets: torch.Tensor,
    cfg: SaliencyParams,
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], bool]:
    """Maps (N, H, W) of every seed's dense and compressed member for ``images`` and ``targets``, and
    whether any compressed member's gradients pass a straight-through estimator."""
    from pipeline.compression.load import load_model
    from pipeline.saliency.maps import saliency_maps

    def maps_of(path: Path) -> tuple[np.ndarray, CheckpointMeta]:
        model, meta = load_model(path)
        return saliency_maps(model, images, targets, cfg.method, steps=cfg.steps), meta

    dense: dict[int, np.ndarray] = {}
    comp: dict[int, np.ndarray] = {}
    through = False
    for seed in seeds:
        dense_path, comp_path = Path(dense_pattern.format(seed=seed)), Path(members_pattern.format(seed=seed))
        dense[seed], dense_meta = maps_of(dense_path)
        # The dense config's members are the dense members: their maps are the ones just computed.
        same = comp_path.resolve() == dense_path.resolve()
        comp[seed], meta = (dense[seed], dense_meta) if same else maps_of(comp_path)
        through |= straight_through(meta)
    return dense, comp, through


# ------------------------------------------------------------------------------------------ pure helpers


def straight_through(meta: CheckpointMeta) -> bool:
    """Whether the member's gradients pass fake-quantized activations (integer quantization): the
    straight-through estimator; fp16/bf16 members and unquantized ones have exact gradients."""
    spec = meta.quant_spec
    return spec is not None and spec.method not in FLOAT_QUANT


def seed_pairs(seeds: Sequence[int]) -> list[tuple[int, int]]:
    """Every pair of distinct seeds, (seeds[i], seeds[j]) with i < j: the noise floor's comparisons."""
    return list(itertools.combinations(seeds, 2))


def mean_metrics(groups: Sequence[Metrics]) -> dict[str, float | None]:
    """Each measure's mean over all images of all ``groups`` (None when there are none); images where a
    measure is undefined (NaN: Spearman of a constant map) are left out of its mean."""
    out: dict[str, float | None] = {}
    for name in METRICS:
        values = np.concatenate([g[name] for g in groups]) if groups else np.empty(0)
        finite = values[~np.isnan(values)]
        out[name] = float(finite.mean()) if finite.size else None
    return out


def build_summary(
    config: str,
    method: str,
    sample_size: int,
    per_seed: dict[int, Metrics],
    floor: dict[tuple[int, int], Metrics],
    through: bool,
) -> dict[str, Any]:
    """summary.json: means over seeds and images, per seed, and of the noise floor (over pairs and images)."""
    overall = mean_metrics(list(per_seed.values()))
    floor_means = mean_metrics(list(floor.values()))
    ratio = None
    if overall["mad"] is not None and floor_means["mad"]:  # undefined without pairs or with a zero floor
        ratio = overall["mad"] / floor_means["mad"]
    note = (
        f"The {config} members quantize activations: their maps differentiate through the fake-quantization "
        "with the straight-through estimator (identity gradient), not through the exact quantized function."
        if through
        else f"The {config} members compute in floating point: their maps are exact gradients."
    )
    return {
        "config": config,
        "method": method,
        "sample_size": sample_size,
        "members": len(per_seed),
        "straight_through": through,
        "note": note,
        **overall,
        "per_seed": [{"seed": seed, **mean_metrics([m])} for seed, m in per_seed.items()],
        "noise_floor": {"pairs": len(floor), **floor_means},
        "mad_over_floor": ratio,
    }


def image_rows(
    per_seed: dict[int, Metrics], ids: np.ndarray, labels: np.ndarray, names: Sequence[str]
) -> list[dict[str, Any]]:
    """per_image.csv: one row per seed and sample image, in sample order."""
    return [
        {"seed": seed, "example_id": int(ids[n]), "label": int(labels[n]), "label_name": names[labels[n]]}
        | {name: _finite(metrics[name][n]) for name in METRICS}
        for seed, metrics in per_seed.items()
        for n in range(ids.size)
    ]


def floor_rows(floor: dict[tuple[int, int], Metrics]) -> list[dict[str, Any]]:
    """floor.csv: one row per pair of dense seeds, each measure averaged over images."""
    return [{"seed_a": a, "seed_b": b, **mean_metrics([metrics])} for (a, b), metrics in floor.items()]


def _finite(value: float) -> float | None:
    """A plain float, or None for NaN (JSON has none; CSV shows an empty cell)."""
    return float(value) if np.isfinite(value) else None


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _describe(means: dict[str, float | None]) -> str:
    return ", ".join(f"{name} {_num(value)}" for name, value in means.items())


# ---------------------------------------------------------------------------------------------- figure


def draw_examples(
    path: Path,
    images: np.ndarray,
    dense: np.ndarray,
    comp: np.ndarray,
    row_labels: Sequence[str],
    titles: tuple[str, str],
    suptitle: str,
) -> None:
    """One row per image: the image, the dense and the compressed map (0..1, same colormap) and
    compressed - dense (-1..1, diverging).  ``images``: (E, C, H, W) uint8; maps (E, H, W).  The PNG
    carries no software version or time, so the same inputs give the same bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = images.shape[0]
    fig = Figure(figsize=(4 * PANEL_INCHES, rows * PANEL_INCHES + TITLE_INCHES), dpi=DPI)
    axes = fig.subplots(rows, 4, squeeze=False)
    column_titles = ("image", *titles, "compressed − dense")
    for r in range(rows):
        image = images[r].transpose(1, 2, 0)  # (H, W, C)
        panels = (
            (image[..., 0] if image.shape[-1] == 1 else image, {"cmap": "gray", "vmin": 0, "vmax": 255}),
            (dense[r], {"cmap": "inferno", "vmin": 0.0, "vmax": 1.0}),
            (comp[r], {"cmap": "inferno", "vmin": 0.0, "vmax": 1.0}),
            (comp[r] - dense[r], {"cmap": "RdBu_r", "vmin": -1.0, "vmax": 1.0}),
        )
        for c, (panel, style) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(panel, interpolation="nearest", **style)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(column_titles[c], fontsize=9)
        axes[r, 0].set_ylabel(row_labels[r], fontsize=9)
    fig.suptitle(suptitle, fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.01, top=1 - TITLE_INCHES / fig.get_figheight() - 0.03)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})


if __name__ == "__main__":
    p = parser(__doc__ or "")
    add_member_args(p, config=True)
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--members", required=True, help="the config's checkpoint path pattern with {seed}")
    p.add_argument("--dense", required=True, help="the dense members' checkpoint path pattern with {seed}")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    run(main, p.parse_args())
