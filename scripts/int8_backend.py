"""The real-integer-backend check of ``int8_static`` (SPEC section 5.2): PyTorch's x86 int8 kernels.

:func:`backend_int8_static` quantizes a member with torch.ao.quantization FX graph mode post-training static
quantization (``prepare_fx`` -> calibrate -> ``convert_fx``) on the ``x86`` engine, configured to compute
what :mod:`pipeline.compression.quantization` simulates:

- weights: ``PerChannelMinMaxObserver`` qint8, ``per_channel_symmetric`` on the restricted range [-127, 127]
  (scale max|w_c| / 127, the simulation's ``symmetric_per_channel``);
- activations: ``MinMaxObserver`` quint8 ``per_tensor_affine`` with ``reduce_range`` (ranges onto [0, 127]),
  the default for x86, whose u8 x s8 pairwise int16 accumulation can saturate with full 8-bit inputs on
  CPUs without VNNI; the simulation's ``ACT_LEVELS`` uses the same convention;
- the graph is the member's network with BatchNorm already folded by the simulation's ``fold_batchnorm``
  (the Identity left behind removed), so conv/linear + ReLU fuse exactly where the simulation fuses them;
- the member's normalization ``(x - mean) / std`` stays in float32 outside the quantized graph (as in the
  simulation, where the first layer's input quantizer sees the normalized image); the first quantize op
  observes the normalized calibration images.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.fx
from torch import nn
from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver, QConfig, QConfigMapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from pipeline.compression.quantization import ACT_LEVELS, fold_batchnorm

ENGINE = "x86"


@contextmanager
def quantized_engine(name: str = ENGINE) -> Iterator[None]:
    """Run the block with ``torch.backends.quantized.engine = name``, restoring the previous engine."""
    if name not in torch.backends.quantized.supported_engines:
        raise RuntimeError(
            f"quantized engine {name!r} unavailable; have {torch.backends.quantized.supported_engines}"
        )
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = name
    try:
        yield
    finally:
        torch.backends.quantized.engine = previous


def qconfig_mapping() -> QConfigMapping:
    """Observers matching the simulation: per-channel symmetric weights, per-tensor affine activations."""
    # quant_max = ACT_LEVELS (127) is reduce_range, spelled as the observer now wants it
    activation = MinMaxObserver.with_args(
        dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=0, quant_max=ACT_LEVELS
    )
    weight = PerChannelMinMaxObserver.with_args(
        dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=-127, quant_max=127
    )
    return QConfigMapping().set_global(QConfig(activation=activation, weight=weight))


class BackendMember(nn.Module):
    """(N, C, H, W) floats in [0, 1] -> (N, K) logits of the int8 ``net`` on normalized inputs."""

    mean: torch.Tensor  # (1, C, 1, 1)
    std: torch.Tensor  # (1, C, 1, 1)

    def __init__(self, net: nn.Module, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with quantized_engine():  # packed weights are engine-specific
            return self.net((x - self.mean) / self.std)


def _without_identities(net: nn.Module) -> torch.fx.GraphModule:
    """``net`` traced, with calls to nn.Identity (folded BatchNorms) bypassed so conv/linear meet ReLU."""
    traced = torch.fx.symbolic_trace(net)
    for node in list(traced.graph.nodes):
        if node.op == "call_module" and isinstance(traced.get_submodule(node.target), nn.Identity):
            node.replace_all_uses_with(node.args[0])
            traced.graph.erase_node(node)
    traced.delete_all_unused_submodules()
    traced.recompile()
    return traced


@torch.no_grad()
def backend_int8_static(member: nn.Module, calibration: torch.Tensor, batch_size: int = 256) -> nn.Module:
    """``member`` (a :class:`~pipeline.models.member.Member`) quantized by PyTorch FX static PTQ with real
    int8 x86 kernels, calibrated on ``calibration`` (N, C, H, W) in [0, 1]; ``member`` is left untouched.
    The result runs on CPU only."""
    folded = fold_batchnorm(copy.deepcopy(member).cpu().eval())
    mean, std = folded.get_buffer("mean"), folded.get_buffer("std")
    net = _without_identities(folded.get_submodule("net"))
    normalized = (calibration.cpu() - mean) / std  # (N, C, H, W)
    with quantized_engine(), warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; its FX path is what this check needs
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*deprecated")
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated")
        prepared = prepare_fx(net, qconfig_mapping(), example_inputs=(normalized[:1],))
        for chunk in normalized.split(batch_size):
            prepared(chunk)
        int8 = convert_fx(prepared)
    return BackendMember(int8, mean, std).eval()


@torch.no_grad()
def prediction_agreement(a: nn.Module, b: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of ``images`` (N, C, H, W) on which ``a`` and ``b`` (put in eval mode) predict the same
    top-1 class."""
    a.eval()
    b.eval()
    same = sum(int((a(x).argmax(1) == b(x).argmax(1)).sum()) for x in images.split(batch_size))
    return same / images.shape[0]
