"""The ``predict`` stage's outputs, for its writer and every reader: prediction tables (Parquet) with their
float16 logits (.npy), one pair per member (cell) and test view, and the per-config summaries::

    data/predict/clean/<config>.d/seed_N.parquet, seed_N.logits.npy, summary.json
    data/predict/corrupted/<config>.d/<view>/seed_N.parquet, seed_N.logits.npy; summary.json

``clean/`` is what ``stats`` and ``pie`` read, so a change of the corrupted views reruns neither. A
table's columns are :data:`SCHEMA`, rows in test-split order (``example_id`` = the row's test-split index):
``label``, ``pred``, ``p_pred`` (max softmax), ``p_label`` (softmax of the true label) and ``top5`` (the
best classes, best first). The table is written with page checksums and records the SHA-256 of its logits
file, so a reader refuses either file when it was truncated, garbled or altered; the table's columns, types
and values are checked against its logits (row count, number of classes) on every read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, file_sha256, read_json, read_npy, reason, write_json
from pipeline.robustness import CLEAN_VIEW

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

TOP_K = 5  # the width of the top5 column, fewer for fewer classes
SCHEMA: dict[str, type[np.generic]] = {  # column -> stored type; top5 is (N, k), the others (N,)
    "example_id": np.int32,
    "label": np.int16,
    "pred": np.int16,
    "p_pred": np.float32,
    "p_label": np.float32,
    "top5": np.int16,
}
COLUMNS = tuple(SCHEMA)
LOGITS_KEY = b"logits_sha256"  # in the table's schema metadata
WRITER = "predict"
RERUN = f"run `dvc repro {WRITER}`"
SUMMARY = "summary.json"


# ------------------------------------------------------------------------------------------ the layout


@dataclass(frozen=True)
class ConfigPredictions:
    """One config's two output folders: ``clean`` (the clean test split) and ``corrupted`` (a subfolder
    per corrupted view)."""

    clean: Path
    corrupted: Path

    def table(self, seed: int, view: str = CLEAN_VIEW) -> Path:
        """The prediction table of the member (cell) of ``seed`` on ``view``."""
        folder = self.clean if view == CLEAN_VIEW else self.corrupted / view
        return folder / f"seed_{seed}.parquet"

    def clean_summary(self) -> Path:
        return self.clean / SUMMARY

    def corrupted_summary(self) -> Path:
        return self.corrupted / SUMMARY

    def write_table(
        self, seed: int, view: str, columns: Mapping[str, np.ndarray], logits: np.ndarray
    ) -> None:
        write_predictions(self.table(seed, view), columns, logits)


@dataclass(frozen=True)
class PredictFolder:
    """``root``: the stage's output folder (``data/predict``). A config's folders end in ``.d``, so no
    config name can make them any other path than a config's folder (README "No value reaches outside
    its folder")."""

    root: Path

    def config(self, config: str) -> ConfigPredictions:
        return ConfigPredictions(self.root / "clean" / f"{config}.d", self.root / "corrupted" / f"{config}.d")


def write_clean_summary(out: ConfigPredictions, config: str, members: Sequence[Mapping[str, Any]]) -> None:
    """``clean/<config>.d/summary.json``: the config and one entry per member (seed, clean top-1,
    size_ratio, sparsity)."""
    write_json(out.clean_summary(), {"config": config, "members": list(members)})


def write_corrupted_summary(out: ConfigPredictions, config: str, views: Sequence[Mapping[str, Any]]) -> None:
    """``corrupted/<config>.d/summary.json``: the config and one entry per view (view, examples, the
    members' top-1 in seed order)."""
    write_json(out.corrupted_summary(), {"config": config, "views": list(views)})


def read_clean_summary(folder: PredictFolder, config: str) -> Any:
    """What :func:`write_clean_summary` wrote for ``config``; missing or garbled: an InputCorrupt."""
    return read_json(folder.config(config).clean_summary(), WRITER)


# ------------------------------------------------------------------------------------------- the table


def as_table(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``columns`` (every column of :data:`SCHEMA`, any order) in the schema's order and stored types."""
    if set(columns) != set(SCHEMA):
        raise ValueError(f"columns {', '.join(columns)}; expected {', '.join(SCHEMA)}")
    return {name: np.asarray(columns[name], dtype=kind) for name, kind in SCHEMA.items()}


def write_predictions(path: Path, columns: Mapping[str, np.ndarray], logits: np.ndarray) -> None:
    """``path`` (.parquet) and ``path.with_suffix('.logits.npy')``, the columns as given (build them with
    :func:`as_table`; a reader refuses any other schema); ``top5`` becomes a fixed-size list column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for name, values in columns.items():
        if values.ndim == 2:  # (N, k) -> fixed-size list per row
            flat = pa.array(values.reshape(-1))
            arrays[name] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        else:
            arrays[name] = pa.array(values)
    with atomic_path(logits_path(path)) as tmp, tmp.open("wb") as handle:
        np.save(handle, logits.astype(np.float16), allow_pickle=False)
    table = pa.table(arrays).replace_schema_metadata({LOGITS_KEY: file_sha256(logits_path(path))})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", write_page_checksum=True)


def logits_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".parquet") + ".logits.npy")


def read_predictions(path: Path) -> dict[str, np.ndarray]:
    """Every column of a prediction table as NumPy arrays (``top5`` as (N, k)), after checking the table's
    schema, its row count against its logits' and its class ids against their number of classes; a
    missing, truncated, garbled or inconsistent table is an InputCorrupt naming it. Every column is read,
    so every page's checksum is verified."""
    path = Path(path)
    handle = _open(path)
    rows, classes = _logits_shape(path)
    _check(path, _schema_problem(handle.schema_arrow, classes))
    if handle.metadata.num_rows != rows:
        _check(path, f"{handle.metadata.num_rows} rows, its logits {rows}")
    try:
        table = handle.read()
    except (OSError, ValueError) as err:  # a page checksum that fails, a garbled page
        raise InputCorrupt(f"{path}: damaged Parquet data [{reason(err)}]; {RERUN}") from None
    out = {name: _numpy(table.column(name)) for name in COLUMNS}
    _check(path, _value_problem(out, classes))
    return out


def read_logits(path: Path) -> np.ndarray:
    """(N, K) float16 logits of the table ``path``, checked against the SHA-256 the table records."""
    path = Path(path)
    digest = (_open(path).schema_arrow.metadata or {}).get(LOGITS_KEY)
    if digest is None:
        raise InputCorrupt(f"{path}: records no SHA-256 of its logits (an older table); {RERUN}")
    logits = read_npy(logits_path(path), digest.decode(), WRITER)
    if logits.ndim != 2 or logits.dtype != np.float16:
        raise InputCorrupt(f"{logits_path(path)}: {logits.dtype} {logits.shape}, not (N, K) float16; {RERUN}")
    return logits


def _logits_shape(path: Path) -> tuple[int, int]:
    """(N, K) from the logits' header (memory-mapped, so also checked against the file's size)."""
    shape = read_npy(logits_path(path), writer=WRITER, mmap=True).shape
    if len(shape) != 2:
        raise InputCorrupt(f"{logits_path(path)}: shape {shape}, not (N, K); {RERUN}")
    return int(shape[0]), int(shape[1])


def _open(path: Path) -> pq.ParquetFile:
    """The table's footer (schema, row count); its pages are read with their checksums verified."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path, page_checksum_verification=True)
    except FileNotFoundError:
        raise InputCorrupt(f"{path}: missing; {RERUN}") from None
    except (OSError, ValueError) as err:  # ArrowInvalid is a ValueError
        raise InputCorrupt(
            f"{path}: not a readable Parquet file (truncated or garbled) [{reason(err)}]; {RERUN}"
        ) from None


def _check(path: Path, problem: str | None) -> None:
    if problem is not None:
        raise InputCorrupt(f"{path}: not a prediction table of this project ({problem}); {RERUN}")


def _schema_problem(schema: pa.Schema, classes: int) -> str | None:
    import pyarrow as pa

    expected = {name: pa.from_numpy_dtype(kind) for name, kind in SCHEMA.items()}
    # Parquet names a list's items "element"
    expected["top5"] = pa.list_(pa.field("element", expected["top5"]), min(TOP_K, classes))
    if schema.names != list(expected):
        return f"columns {', '.join(schema.names)}; expected {', '.join(expected)}"
    wrong = [
        f"{name} is {schema.field(name).type}, not {kind}"
        for name, kind in expected.items()
        if not schema.field(name).type.equals(kind)
    ]
    return "; ".join(wrong) or None


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    import pyarrow as pa

    array = column.combine_chunks()
    if pa.types.is_fixed_size_list(array.type):  # (N * k,) -> (N, k)
        return array.flatten().to_numpy(zero_copy_only=False).reshape(len(array), array.type.list_size)
    return array.to_numpy(zero_copy_only=False)


def _value_problem(columns: dict[str, np.ndarray], classes: int) -> str | None:
    """Class ids outside [0, classes), probabilities outside [0, 1], negative example ids."""
    for name in ("label", "pred", "top5"):
        values = columns.get(name)
        if values is not None and values.size and (values.min() < 0 or values.max() >= classes):
            return f"{name} outside [0, {classes})"
    for name in ("p_pred", "p_label"):
        values = columns.get(name)
        if values is not None and not np.all((values >= 0) & (values <= 1)):
            return f"{name} outside [0, 1]"
    ids = columns.get("example_id")
    if ids is not None and ids.size and ids.min() < 0:
        return "a negative example_id"
    return None
