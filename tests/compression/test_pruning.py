from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.compression.pruning import (
    SCORERS,
    GradualPruner,
    MaskKeeper,
    apply_masks,
    compute_masks,
    gradual_sparsity,
    masks_from_scores,
    prunable,
    sparsity_report,
    start_pruning,
)
from pipeline.config import PruneSpec
from pipeline.models.member import Member
from pipeline.models.registry import build_model

SPARSITIES = [0.0, 0.3, 0.5, 0.9, 0.97]
UNSTRUCTURED = ["magnitude", "random"]


def model(arch: str = "small_cnn", seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(arch, 1, 10, 28)


def member(seed: int = 0) -> Member:
    return Member(model("small_cnn", seed), torch.tensor([0.5]), torch.tensor([0.25]))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def spec(**kw: Any) -> PruneSpec:
    return dataclasses.replace(PruneSpec(), **kw)


def expected_zeros(w: torch.Tensor, method: str, sparsity: float) -> int:
    """Layer scope: n - round(n (1 - s)) pruned units, a unit being a weight or, structured, a channel."""
    unit = w.shape[0] if method == "structured" else w.numel()
    return (unit - round(unit * (1 - sparsity))) * (w.numel() // unit)


# --------------------------------------------------------------------------------------------- prunable


def test_prunable_excludes_the_classifier_biases_and_bn_unless_asked() -> None:
    net = member()
    names = list(prunable(net))
    assert names == ["net.features.0.0.weight", "net.features.1.0.weight", "net.head.1.weight"]
    assert list(prunable(net, include_classifier=True)) == [*names, "net.classifier.weight"]
    params = dict(net.named_parameters())
    assert all(prunable(net)[n] is params[n] for n in names)


@pytest.mark.parametrize("arch", ["lenet5", "squeezenet"])
def test_prunable_holds_only_conv_and_linear_weights(arch: str) -> None:
    torch.manual_seed(0)
    net = build_model(arch, 3, 10, 32)
    modules = dict(net.named_modules())
    for name in prunable(net, include_classifier=True):
        module_name, leaf = name.rsplit(".", 1)
        assert leaf == "weight" and isinstance(modules[module_name], (nn.Conv2d, nn.Linear))
    last = "classifier.1.weight" if arch == "squeezenet" else "classifier.weight"
    assert last not in prunable(net) and list(prunable(net, include_classifier=True))[-1] == last
    assert "features.0.weight" in prunable(net)  # the first conv is pruned too


# ----------------------------------------------------------------------------------- achieved sparsity


@pytest.mark.parametrize("arch", ["small_cnn", "lenet5"])
@pytest.mark.parametrize("method", list(SCORERS))
@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_layer_scope_hits_the_target_per_tensor(arch: str, method: str, sparsity: float) -> None:
    net = model(arch)
    masks = compute_masks(net, spec(method=method, scope="layer"), sparsity, gen())
    apply_masks(net, masks)
    report = sparsity_report(net, list(masks))
    for name, w in prunable(net).items():
        assert report.tensors[name].zeros == expected_zeros(w, method, sparsity)
        assert int(masks[name].sum()) == w.numel() - report.tensors[name].zeros


@pytest.mark.parametrize("arch", ["small_cnn", "lenet5"])
@pytest.mark.parametrize("method", UNSTRUCTURED)
@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_global_scope_hits_the_target_overall(arch: str, method: str, sparsity: float) -> None:
    net = model(arch)
    masks = compute_masks(net, spec(method=method, scope="global"), sparsity, gen())
    apply_masks(net, masks)
    overall = sparsity_report(net, list(masks)).overall
    n = sum(w.numel() for w in prunable(net).values())
    assert overall.numel == n and overall.zeros == n - round(n * (1 - sparsity))


def test_global_scope_prunes_layers_unevenly() -> None:
    net = model()
    with torch.no_grad():
        net.features[0][0].weight.mul_(100.0)  # one layer of large weights survives a global threshold
    masks = compute_masks(net, spec(scope="global"), 0.5, gen())
    assert bool(masks["features.0.0.weight"].all()) and float(masks["head.1.weight"].float().mean()) < 0.5


def test_ties_are_broken_exactly() -> None:
    scores = {"a": torch.ones(7, 3), "b": torch.zeros(10)}
    assert int(masks_from_scores(scores, 0.5, "layer")["a"].sum()) == round(21 * 0.5)
    glob = masks_from_scores(scores, 0.5, "global")
    assert int(glob["a"].sum()) + int(glob["b"].sum()) == round(31 * 0.5)
    assert torch.equal(glob["a"], masks_from_scores(scores, 0.5, "global")["a"])


# ---------------------------------------------------------------------------------- what is kept


@pytest.mark.parametrize("sparsity", SPARSITIES[1:])
def test_magnitude_layer_keeps_the_largest_weights_of_each_tensor(sparsity: float) -> None:
    net = model()
    weights = {n: w.detach().clone() for n, w in prunable(net).items()}
    masks = compute_masks(net, spec(method="magnitude", scope="layer"), sparsity, gen())
    for name, w in weights.items():
        assert w.abs()[masks[name]].min() >= w.abs()[~masks[name]].max()


@pytest.mark.parametrize("sparsity", SPARSITIES[1:])
def test_magnitude_global_keeps_the_largest_weights_overall(sparsity: float) -> None:
    net = model("lenet5")
    weights = {n: w.detach().clone() for n, w in prunable(net).items()}
    masks = compute_masks(net, spec(method="magnitude", scope="global"), sparsity, gen())
    kept = torch.cat([w.abs()[masks[n]] for n, w in weights.items()])
    pruned = torch.cat([w.abs()[~masks[n]] for n, w in weights.items()])
    assert kept.min() >= pruned.max()


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_random_is_seeded(scope: str) -> None:
    net = model()
    cfg = spec(method="random", scope=scope)
    a, b, c = (compute_masks(net, cfg, 0.6, gen(s)) for s in (1, 1, 2))
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not all(torch.equal(a[n], c[n]) for n in a)
    if scope == "layer":
        assert all(int(m.sum()) == round(m.numel() * 0.4) for m in a.values())
    else:
        n = sum(m.numel() for m in a.values())
        assert sum(int(m.sum()) for m in a.values()) == round(n * 0.4)


def test_structured_drops_the_lowest_l1_channels() -> None:
    net = model()
    weights = {n: w.detach().clone() for n, w in prunable(net).items()}
    masks = compute_masks(net, spec(method="structured"), 0.5, gen())
    apply_masks(net, masks)
    for name, w in weights.items():
        l1 = w.abs().reshape(w.shape[0], -1).sum(1)
        rows = masks[name].reshape(w.shape[0], -1)
        kept = rows.all(1)
        assert torch.equal(rows.any(1), kept)  # whole channels only
        assert l1[kept].min() >= l1[~kept].max() and int(kept.sum()) == round(w.shape[0] * 0.5)
        zeroed = dict(net.named_parameters())[name].detach().reshape(w.shape[0], -1)
        assert bool((zeroed[~kept] == 0).all())


def test_unknown_method_and_scope_list_the_valid_names() -> None:
    with pytest.raises(KeyError, match="magnitude, random, structured"):
        compute_masks(model(), spec(method="taylor"), 0.5, gen())
    with pytest.raises(KeyError, match="layer, global"):
        masks_from_scores({"a": torch.ones(4)}, 0.5, "block")
    with pytest.raises(ValueError, match="scope layer"):
        compute_masks(model(), spec(method="structured", scope="global"), 0.5, gen())


# ------------------------------------------------------------------------------------------ training


def sgd_steps(net: nn.Module, hook: MaskKeeper, steps: int, record: list[float] | None = None) -> None:
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-3)
    g = gen(7)
    net.train()
    for step in range(steps):
        x, y = torch.rand(16, 1, 28, 28, generator=g), torch.randint(0, 10, (16,), generator=g)
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
        hook.after_step(step)
        if record is not None:
            record.append(sparsity_report(net, list(hook.masks)).overall.sparsity)


@pytest.mark.parametrize("method", list(SCORERS))
def test_masked_weights_stay_exactly_zero_through_finetuning(method: str) -> None:
    net = member()
    keeper = start_pruning(net, spec(method=method, schedule="finetune"), 20, gen())
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    sgd_steps(net, keeper, 20)
    params = dict(net.named_parameters())
    for name, mask in keeper.masks.items():
        assert bool((params[name][~mask] == 0.0).all())
        assert not torch.equal(params[name][mask], before[name][mask])


def test_gradual_schedule_matches_the_closed_form() -> None:
    s_i, s_f, start, end = 0.1, 0.9, 10, 30
    assert gradual_sparsity(start, s_i, s_f, start, end) == s_i
    assert gradual_sparsity(0, s_i, s_f, start, end) == s_i
    assert gradual_sparsity(end, s_i, s_f, start, end) == s_f == gradual_sparsity(99, s_i, s_f, start, end)
    assert gradual_sparsity(20, s_i, s_f, start, end) == pytest.approx(s_f + (s_i - s_f) * 0.125)
    curve = [gradual_sparsity(t, s_i, s_f, start, end) for t in range(40)]
    assert curve == sorted(curve)
    assert gradual_sparsity(5, s_i, s_f, 5, 5) == s_f


@pytest.mark.parametrize(
    ("method", "scope"), [("magnitude", "layer"), ("random", "global"), ("structured", "layer")]
)
def test_gradual_pruner_ends_at_the_target_and_never_regrows(method: str, scope: str) -> None:
    net = member()
    cfg = spec(method=method, scope=scope, schedule="gradual", sparsity=0.8, initial_sparsity=0.2)
    cfg = dataclasses.replace(cfg, end_fraction=0.75, frequency=3)
    pruner = start_pruning(net, cfg, 16, gen())
    assert isinstance(pruner, GradualPruner) and pruner.end == 12
    curve: list[float] = []
    sgd_steps(net, pruner, 16, curve)
    assert curve == sorted(curve) and curve[0] < curve[-1]
    report = sparsity_report(net, list(pruner.masks))
    weights = prunable(net)
    if scope == "global":
        n = report.overall.numel
        assert report.overall.zeros == n - round(n * 0.2)
    else:
        assert all(report.tensors[n].zeros == expected_zeros(w, method, 0.8) for n, w in weights.items())
    assert all(int(m.sum()) == weights[n].numel() - report.tensors[n].zeros for n, m in pruner.masks.items())
