"""What compressing a member achieved, as recorded in its cell's checkpoint (SPEC sections 5.1, 5.2):
achieved sparsity per pruned tensor and overall, bit widths per quantized tensor, and storage bytes under
the config's format against the member's float32 bytes. Plain frozen dataclasses, free of torch, so the
checkpoint's owner (pipeline/io/checkpoints.py) reads them back without importing the compression code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TensorSparsity:
    """Exact zeros of one tensor (or of several together): ``sparsity = zeros / numel``."""

    numel: int
    zeros: int
    sparsity: float

    @classmethod
    def of(cls, numel: int, zeros: int) -> TensorSparsity:
        return cls(numel, zeros, zeros / max(numel, 1))


@dataclass(frozen=True)
class SparsityReport:
    """Sparsity of every pruned tensor (by state-dict name, in module order) and over all of them."""

    tensors: dict[str, TensorSparsity]
    overall: TensorSparsity


@dataclass(frozen=True)
class LayerBits:
    """Bit widths of one quantized weight tensor and of the activations its layer reads (32: float)."""

    weight_bits: int
    activation_bits: int


@dataclass(frozen=True)
class CompressionReport:
    """What a config achieved on one member. ``sparsity``: None when nothing was pruned; ``bits``: per
    quantized weight tensor, None when nothing was quantized; sizes in bytes (see
    pipeline/compression/size.py)."""

    sparsity: SparsityReport | None
    bits: dict[str, LayerBits] | None
    size_bytes: int
    dense_size_bytes: int

    @property
    def size_ratio(self) -> float:
        """Storage bytes under the config's format over the member's float32 bytes."""
        return self.size_bytes / self.dense_size_bytes

    @property
    def overall_sparsity(self) -> float:
        """Fraction of zero prunable weights (0 when nothing was pruned)."""
        return 0.0 if self.sparsity is None else self.sparsity.overall.sparsity
