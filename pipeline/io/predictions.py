"""Prediction tables (Parquet) and their float16 logits (.npy), one pair per member and test view."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.io.files import atomic_path


def write_predictions(path: Path, columns: dict[str, np.ndarray], logits: np.ndarray) -> None:
    """``path`` (.parquet) and ``path.with_suffix('.logits.npy')``; ``top5`` becomes a list column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for name, values in columns.items():
        if values.ndim == 2:  # (N, k) -> fixed-size list per row
            flat = pa.array(values.reshape(-1))
            arrays[name] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        else:
            arrays[name] = pa.array(values)
    table = pa.table(arrays)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    with atomic_path(logits_path(path)) as tmp, tmp.open("wb") as handle:
        np.save(handle, logits.astype(np.float16), allow_pickle=False)


def logits_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".parquet") + ".logits.npy")


def read_predictions(path: Path) -> dict[str, np.ndarray]:
    """Columns of a prediction table as NumPy arrays (``top5`` as (N, 5))."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    out = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(column.type):
            flat = column.flatten().to_numpy(zero_copy_only=False)
            out[name] = flat.reshape(len(table), column.type.list_size)
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    return out


def read_logits(path: Path) -> np.ndarray:
    return np.load(logits_path(path), allow_pickle=False)
