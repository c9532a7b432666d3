"""Post-training quantization with simulated (quantize -> dequantize) numerics (SPEC section 5.2).

Every quantizer has the same calling convention, ``(model, calibration, spec) -> quantized model``, and
follows the same steps on a deep copy of the model:

1. eval mode; BatchNorm folded into the Conv2d / Linear it directly follows (the fold scales each output
   channel, so pruned zeros stay exactly zero) and replaced by ``nn.Identity``;
2. every ``nn.Conv2d`` / ``nn.Linear`` becomes a :class:`QuantConv2d` / :class:`QuantLinear` (same parameter
   names, so pruning masks and sizes line up) carrying activation fake-quantizers;
3. ``int8_static`` only: activation ranges calibrated once on the float model, then frozen as buffers;
4. weights replaced by their dequantized values (floats that are exact multiples of a per-channel scale).

Semantics of the methods:

- ``fp16`` / ``bf16``: weights and biases rounded to that dtype, computation in float32 (TFLite float16).
- ``int8_dynamic``: int8 weights, symmetric per output channel (scale = max|w_c| / 127); the input of every
  layer quantized at run time, affine uint8, from its own min/max (PyTorch dynamic quantization, TFLite
  dynamic range).  The range is taken per example, as TFLite's hybrid kernels do per batch row, so an
  image's prediction never depends on its batch neighbours.
- ``int8_static``: int8 per-channel weights; per-tensor affine uint8 activations at the input and output of
  every layer (after its ReLU when one directly follows, as a fused conv-bn-relu kernel), from min/max
  observers (PyTorch FX post-training static quantization; checked against it by ``scripts/int8_backend.py``).
- ``int4_weight``: ``spec.bits``-bit (4, 3 or 2) symmetric per-channel weights, dynamic 8-bit activations
  (Schwaiger et al.).

Activation ranges follow PyTorch's x86 convention (``reduce_range``): min/max (widened to include 0) map
onto [0, 127], while values beyond the calibrated range still use the rest of uint8, up to 255, as the
backend's requantization does.  Fake-quantized activations pass gradients straight through (identity),
so saliency can differentiate through a quantized model.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.fx
from torch import nn

from pipeline.compression.report import LayerBits
from pipeline.config import QuantSpec
from pipeline.models.layers import weight_layers

Quantizer = Callable[[nn.Module, torch.Tensor | None, QuantSpec], nn.Module]

ACT_QMIN, ACT_QMAX = 0, 255  # uint8 storage range of activations
ACT_LEVELS = 127  # a calibrated range spans 127 steps: PyTorch's reduce_range on x86 (7-bit accumulation)
EPS = torch.finfo(torch.float32).eps  # smallest scale, as PyTorch's observers
_BN = {nn.Conv2d: nn.BatchNorm2d, nn.Linear: nn.BatchNorm1d}


# ------------------------------------------------------------------------------------ numeric primitives


def affine_qparams(lo: torch.Tensor, hi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and integer zero point of observed ranges (any shape), as PyTorch's MinMaxObserver."""
    lo, hi = lo.clamp(max=0.0), hi.clamp(min=0.0)  # 0 must be exactly representable
    scale = ((hi - lo) / ACT_LEVELS).clamp_min(EPS)
    zero_point = (ACT_QMIN - torch.round(lo / scale)).clamp(ACT_QMIN, ACT_QMIN + ACT_LEVELS)
    return scale, zero_point


def fake_quant_reference(x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor) -> torch.Tensor:
    """Affine uint8 quantize -> dequantize (x * (1/scale), round half to even, as ATen/FBGEMM), spelled out
    op by op: the definition :func:`fake_quant` computes with one fused kernel (tests compare the two)."""
    q = (torch.round(x * (1.0 / scale)) + zero_point).clamp(ACT_QMIN, ACT_QMAX)
    return (q - zero_point) * scale


def fake_quant(x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor) -> torch.Tensor:
    """:func:`fake_quant_reference` by PyTorch's fused fake-quantize kernels, bit for bit, in one pass over
    ``x`` instead of six (4-5x faster): one ``scale`` for the whole tensor, or one per example (shape
    (N, 1, ...))."""
    zp = zero_point.to(torch.int32)
    if scale.numel() == 1:
        return torch.fake_quantize_per_tensor_affine(x, scale.reshape(()), zp.reshape(()), ACT_QMIN, ACT_QMAX)
    if scale.shape[0] != x.shape[0] or scale.numel() != x.shape[0]:
        raise ValueError(
            f"fake_quant: scale of shape {tuple(scale.shape)} is neither one value nor one per example"
        )
    return torch.fake_quantize_per_channel_affine(x, scale.flatten(), zp.flatten(), 0, ACT_QMIN, ACT_QMAX)


def straight_through(x: torch.Tensor, quantized: torch.Tensor) -> torch.Tensor:
    """Forward: ``quantized``; backward: identity to ``x`` (the straight-through estimator)."""
    return x + (quantized - x).detach()


def symmetric_per_channel(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Dequantized ``bits``-bit symmetric weights, one scale max|w_c| / (2^(bits-1) - 1) per output channel.

    Integers lie in [-qmax, qmax] (2^bits - 1 levels, the restricted range of TFLite's int8 weights), zero
    maps to zero, and the result is exactly ``integer * scale_c``.
    """
    qmax = 2 ** (bits - 1) - 1
    shape = (-1,) + (1,) * (w.dim() - 1)
    scale = (w.detach().abs().flatten(1).amax(1) / qmax).clamp_min(EPS).view(shape)  # (C_out, 1, ...)
    return torch.round(w * (1.0 / scale)).clamp(-qmax, qmax) * scale


def cast_to(dtype: torch.dtype) -> Callable[[torch.Tensor, int], torch.Tensor]:
    """Round to ``dtype`` and back to the tensor's own dtype (``bits`` is implied by ``dtype``)."""
    return lambda w, bits: w.to(dtype).to(w.dtype)


# ----------------------------------------------------------------------------------- activation quantizers


class StaticActQuant(nn.Module):
    """Per-tensor affine fake quantization with a range calibrated once and frozen as buffers."""

    scale: torch.Tensor  # () float32
    zero_point: torch.Tensor  # () float32 holding an integer in [0, 127]

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(1.0))
        self.register_buffer("zero_point", torch.tensor(0.0))
        self.observed: tuple[torch.Tensor, torch.Tensor] | None = None  # running (min, max) while calibrating

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.observed is not None:  # calibrating: observe the float value, pass it through
            lo, hi = self.observed
            self.observed = (torch.minimum(lo, x.detach().min()), torch.maximum(hi, x.detach().max()))
            return x
        return straight_through(x, fake_quant(x, self.scale, self.zero_point))

    def start(self) -> None:
        inf = torch.full_like(self.scale, float("inf"))
        self.observed = (inf, -inf)

    def freeze(self) -> None:
        if self.observed is None:
            raise RuntimeError("freeze() without start()")
        scale, zero_point = affine_qparams(*self.observed)
        self.scale.copy_(scale)
        self.zero_point.copy_(zero_point)
        self.observed = None


class DynamicActQuant(nn.Module):
    """Affine fake quantization with a range taken at run time from each example's own min/max."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.detach().flatten(1)  # (N, D)
        shape = (-1,) + (1,) * (x.dim() - 1)
        scale, zero_point = affine_qparams(flat.amin(1).view(shape), flat.amax(1).view(shape))
        return straight_through(x, fake_quant(x, scale, zero_point))


# ------------------------------------------------------------------------------------------ quantized layers


class _QuantAttributes:
    """Set by :func:`prepare_structure`; weights hold dequantized values."""

    act_in: nn.Module  # input quantizer (Identity for float formats)
    relu: nn.Module  # a fused ReLU before act_out (static only; the model's own ReLU then is idempotent)
    act_out: nn.Module  # output quantizer (static only)
    weight_bits: int
    activation_bits: int


class QuantConv2d(_QuantAttributes, nn.Conv2d):
    """(N, C, H, W) -> act_out(relu(conv(act_in(x))))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act_out(self.relu(self._conv_forward(self.act_in(x), self.weight, self.bias)))


class QuantLinear(_QuantAttributes, nn.Linear):
    """(N, ..., F) -> act_out(relu(linear(act_in(x))))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act_out(self.relu(nn.functional.linear(self.act_in(x), self.weight, self.bias)))


QuantLayer = QuantConv2d | QuantLinear


@dataclass(frozen=True)
class _Scheme:
    activations: str  # "float", "dynamic" or "static"
    round_weight: Callable[[torch.Tensor, int], torch.Tensor]  # (tensor, bits) -> dequantized tensor
    round_bias: bool  # float formats store the bias in the same dtype; integer kernels keep it float


_SCHEMES = {
    "fp16": _Scheme("float", cast_to(torch.float16), round_bias=True),
    "bf16": _Scheme("float", cast_to(torch.bfloat16), round_bias=True),
    "int8_dynamic": _Scheme("dynamic", symmetric_per_channel, round_bias=False),
    "int8_static": _Scheme("static", symmetric_per_channel, round_bias=False),
    "int4_weight": _Scheme("dynamic", symmetric_per_channel, round_bias=False),
}


_ACT_IN: dict[str, type[nn.Module]] = {
    "float": nn.Identity,
    "dynamic": DynamicActQuant,
    "static": StaticActQuant,
}


def _scheme(method: str) -> _Scheme:
    if method not in _SCHEMES:
        raise KeyError(f"unknown quantization method {method!r}; allowed: {', '.join(_SCHEMES)}")
    return _SCHEMES[method]


# ------------------------------------------------------------------------------------- structure (folding)


@dataclass(frozen=True)
class _Site:
    layer: str  # qualified name of an nn.Conv2d / nn.Linear
    bn: str | None  # the BatchNorm that directly and only consumes its output
    relu: bool  # a ReLU directly and only consumes its (folded) output


def _sites(model: nn.Module) -> list[_Site]:
    """Every Conv2d / Linear with its foldable BN and fusable ReLU, found on the torch.fx graph, or only
    between neighbours of an nn.Sequential when the model cannot be traced."""
    modules = dict(model.named_modules())
    # exact types: a subclass (e.g. timm's Conv2dSame) keeps its own forward
    layers = [name for name, _ in weight_layers(model, exact=True)]
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # some timm models are not symbolically traceable
        return [_sequential_site(model, name) for name in layers]
    calls = Counter(n.target for n in graph.nodes if n.op == "call_module")
    nodes = {n.target: n for n in graph.nodes if n.op == "call_module" and calls[n.target] == 1}
    sites = []
    for name in layers:
        node = nodes.get(name)  # None: unused or shared module, quantized without folding or fusion
        bn = _only_user(node)
        if bn is None or bn.op != "call_module" or not _is_bn_for(modules[name], modules[str(bn.target)]):
            bn = None
        after = _only_user(bn or node)
        relu = after is not None and _is_relu(after, modules)
        sites.append(_Site(name, None if bn is None else str(bn.target), relu))
    return sites


def _only_user(node: torch.fx.Node | None) -> torch.fx.Node | None:
    users = [] if node is None else list(node.users)
    return users[0] if len(users) == 1 else None


def _is_bn_for(layer: nn.Module, bn: nn.Module | None) -> bool:
    """Eval-mode BN of the layer's kind, with running statistics, one feature per output channel."""
    width = layer.out_channels if isinstance(layer, nn.Conv2d) else layer.out_features
    return (
        type(bn) is _BN[type(layer)]
        and isinstance(bn, nn.modules.batchnorm._BatchNorm)
        and bn.running_mean is not None
        and bn.num_features == width
    )


def _is_relu(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    if node.op == "call_module":
        return isinstance(modules[str(node.target)], nn.ReLU)
    if node.op == "call_function":
        return node.target in (torch.relu, torch.relu_, nn.functional.relu)
    return node.op == "call_method" and node.target in ("relu", "relu_")


def _sequential_site(model: nn.Module, name: str) -> _Site:
    parent_name, _, key = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    if type(parent) is not nn.Sequential:  # a subclass may not chain its children
        return _Site(name, None, False)
    keys = list(parent._modules)
    after = keys[keys.index(key) + 1 :]  # sibling names after the layer
    bn = after[0] if after and _is_bn_for(parent._modules[key], parent._modules[after[0]]) else None
    rest = after[1:] if bn else after
    relu = bool(rest) and isinstance(parent._modules[rest[0]], nn.ReLU)
    return _Site(name, None if bn is None else f"{parent_name}.{bn}".lstrip("."), relu)


@torch.no_grad()
def _fold(layer: nn.Conv2d | nn.Linear, bn: nn.modules.batchnorm._BatchNorm) -> None:
    """w' = w * g / sqrt(var + eps) per output channel, b' = (b - mean) * g / sqrt(var + eps) + beta."""
    var, mean = bn.running_var.double(), bn.running_mean.double()  # type: ignore[union-attr]
    gain = torch.rsqrt(var + bn.eps) * (bn.weight.double() if bn.affine else 1.0)  # (C_out,)
    shift = bn.bias.double() if bn.affine else torch.zeros_like(mean)
    w = layer.weight.double() * gain.view((-1,) + (1,) * (layer.weight.dim() - 1))
    b = (layer.bias.double() if layer.bias is not None else 0.0) - mean
    layer.weight.copy_(w)
    layer.bias = nn.Parameter((b * gain + shift).to(layer.weight.dtype))


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent, _, key = name.rpartition(".")
    setattr(model.get_submodule(parent), key, new)


def _fold_sites(model: nn.Module, sites: list[_Site]) -> None:
    for site in sites:
        if site.bn is not None:
            _fold(model.get_submodule(site.layer), model.get_submodule(site.bn))  # type: ignore[arg-type]
            _replace(model, site.bn, nn.Identity())


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold, in place, every eval-mode BatchNorm that directly follows a Conv2d / Linear into it (the BN
    becomes ``nn.Identity``); the model's outputs in eval mode are unchanged.  Returns the model."""
    _fold_sites(model.eval(), _sites(model))
    return model


def _as_quant_layer(layer: nn.Module) -> QuantConv2d | QuantLinear:
    """The same object, its class swapped to the quantized subclass (as torch's parametrize does)."""
    layer.__class__ = QuantConv2d if isinstance(layer, nn.Conv2d) else QuantLinear
    assert isinstance(layer, QuantLayer)
    return layer


def prepare_structure(model: nn.Module, spec: QuantSpec) -> nn.Module:
    """The structural part of quantizing by ``spec``, in place: eval mode, BN folded (with the model's
    current statistics) and replaced by Identity, layers turned into QuantConv2d / QuantLinear with their
    activation quantizers (static ranges uninitialised).  A quantized model's ``state_dict`` loads
    strictly into ``prepare_structure(fresh model of the same architecture, spec)``."""
    scheme = _scheme(spec.method)
    sites = _sites(model.eval())
    _fold_sites(model, sites)
    static = scheme.activations == "static"
    for site in sites:
        layer = _as_quant_layer(model.get_submodule(site.layer))
        layer.act_in = _ACT_IN[scheme.activations]()
        layer.relu = nn.ReLU() if static and site.relu else nn.Identity()
        layer.act_out = StaticActQuant() if static else nn.Identity()
        layer.weight_bits = spec.bits
        layer.activation_bits = 32 if scheme.activations == "float" else 8
    return model


# ------------------------------------------------------------------------------------------------ quantizers


@torch.no_grad()
def calibrate(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> None:
    """Set every StaticActQuant's range from min/max observed on ``images`` (N, C, H, W), then freeze."""
    quants = [m for m in model.modules() if isinstance(m, StaticActQuant)]
    for q in quants:
        q.start()
    for chunk in images.split(batch_size):
        model(chunk)
    for q in quants:
        q.freeze()


@torch.no_grad()
def _round_weights(model: nn.Module, scheme: _Scheme, bits: int) -> None:
    for layer in model.modules():
        if isinstance(layer, QuantLayer):
            layer.weight.copy_(scheme.round_weight(layer.weight, bits))
            if scheme.round_bias and layer.bias is not None:
                layer.bias.copy_(scheme.round_weight(layer.bias, bits))


def _quantizer(method: str) -> Quantizer:
    def quantizer(model: nn.Module, calibration: torch.Tensor | None, spec: QuantSpec) -> nn.Module:
        if spec.method != method:
            raise ValueError(f"the {method} quantizer was given a {spec.method} spec")
        scheme = _scheme(method)
        quantized = prepare_structure(copy.deepcopy(model), spec)
        if scheme.activations == "static":
            if calibration is None:
                raise ValueError(f"{method} needs calibration images")
            calibrate(quantized, calibration)  # on float weights, as the backend's observers
        _round_weights(quantized, scheme, spec.bits)
        return quantized

    quantizer.__name__ = f"quantize_{method}"
    return quantizer


QUANTIZERS: dict[str, Quantizer] = {method: _quantizer(method) for method in _SCHEMES}


def quantize(model: nn.Module, calibration: torch.Tensor | None, spec: QuantSpec) -> nn.Module:
    """A quantized copy of ``model`` (eval mode) by ``spec.method``; ``model`` is left untouched.

    ``calibration``: (N, C, H, W) floats in [0, 1] (the member's input), needed by ``int8_static`` only.
    """
    _scheme(spec.method)  # KeyError listing the valid names
    return QUANTIZERS[spec.method](model, calibration, spec)


def quantized_layers(model: nn.Module) -> dict[str, LayerBits]:
    """Bit widths per quantized weight tensor, keyed by its name in the model's state_dict."""
    return {
        f"{name}.weight": LayerBits(m.weight_bits, m.activation_bits)
        for name, m in model.named_modules()
        if isinstance(m, QuantLayer)
    }
