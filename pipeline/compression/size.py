"""Storage size of a model under its compression config's format (SPEC section 5.2).

Convention: every tensor of the state_dict is stored.  A tensor named in ``weight_bits`` costs that many
bits per element, every other tensor (biases, BatchNorm statistics, the member's mean/std, activation
scales and zero points, counters) 32 bits per element.  A tensor named in ``sparse_names`` is stored as
its non-zeros at its bit width plus a bitmap index of one bit per element, or densely when that is
smaller.  The total is rounded up to whole bytes.  The dense reference stores every tensor at 32 bits,
so it is 4 bytes per element; the compression ratio is compressed / dense bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

FLOAT_BITS = 32


def storage_bits(tensor: torch.Tensor, bits: int, sparse: bool) -> int:
    """Bits to store ``tensor`` at ``bits`` per element: ``numel * bits`` dense, or, sparse, the smaller of
    that and ``nnz * bits + numel`` (non-zero values plus a one-bit-per-element bitmap)."""
    dense = tensor.numel() * bits
    if not sparse:
        return dense
    return min(dense, int(torch.count_nonzero(tensor)) * bits + tensor.numel())


def model_size_bytes(
    state: Mapping[str, torch.Tensor],
    weight_bits: Mapping[str, int],
    sparse_names: set[str],
    default_bits: int = FLOAT_BITS,
) -> int:
    """Bytes to store ``state`` with the named tensors at their bit widths (others at ``default_bits``)
    and the tensors in ``sparse_names`` in the bitmap format; rounded up to whole bytes."""
    unknown = (set(weight_bits) | sparse_names) - set(state)
    if unknown:
        raise KeyError(f"tensors not in the state_dict: {', '.join(sorted(unknown))}")
    bits = sum(
        storage_bits(t, weight_bits.get(name, default_bits), name in sparse_names)
        for name, t in state.items()
    )
    return -(-bits // 8)


def dense_size_bytes(state: Mapping[str, torch.Tensor]) -> int:
    """The dense reference: every tensor at 32 bits (4 bytes per element)."""
    return model_size_bytes(state, {}, set())
