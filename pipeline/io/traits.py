"""The ``traits`` stage's output folder, for its writer and every reader (the ``pie`` stage)::

    data/traits/traits.parquet   per test example, in test-split order: example_id, label, label_issue,
                                 label_quality, agreement, margin, entropy, atypicality
                                 (pipeline.analysis.pie_traits.Traits)
    data/traits/traits.json      the dense seeds they come from, the feature layer, how many label
                                 issues, and the table's SHA-256

The table is Parquet with page checksums; its SHA-256 in traits.json catches a swapped file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.analysis.pie_traits import Traits
from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, file_sha256, read_json, reason, write_json
from pipeline.io.folders import replaced_folder

WRITER = "traits"
TABLE = "traits.parquet"
META = "traits.json"
FORMAT = 1
COLUMNS = ("example_id", "label", "label_issue", "label_quality", *Traits.SCORES)
RERUN = f"run `dvc repro {WRITER}`"


def write_traits(root: Path, traits: Traits, labels: np.ndarray, record: Mapping[str, Any]) -> None:
    """The folder ``root`` (replaced as a whole): the traits of the test examples with ``labels`` and
    ``record`` (seeds, feature layer) with the counts and the table's SHA-256 added."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, np.ndarray] = {
        "example_id": np.arange(labels.shape[0], dtype=np.int64),
        "label": labels.astype(np.int64),
        "label_issue": traits.label_issue.astype(bool),
        "label_quality": traits.label_quality.astype(np.float64),
    } | {name: getattr(traits, name).astype(np.float64) for name in Traits.SCORES}
    with replaced_folder(Path(root)) as out:
        with atomic_path(out / TABLE) as tmp:
            pq.write_table(pa.table(columns), tmp, compression="zstd", write_page_checksum=True)
        meta = {"format": FORMAT, **record, "examples": int(labels.shape[0])}
        meta |= {"label_issues": int(traits.label_issue.sum()), "sha256": file_sha256(out / TABLE)}
        write_json(out / META, meta)


def read_traits(root: Path, labels: np.ndarray, seeds: Sequence[int]) -> Traits:
    """The traits :func:`write_traits` wrote, checked against its record, the test split's ``labels``
    and the population's ``seeds``; anything else is an InputCorrupt naming the file."""
    import pyarrow.parquet as pq

    root = Path(root)
    meta = read_json(root / META, WRITER)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "sha256" not in meta:
        raise InputCorrupt(f"{root / META}: not a traits record of this version; {RERUN}")
    if list(meta.get("seeds", [])) != list(seeds):
        raise InputCorrupt(
            f"{root / META}: traits of the dense seeds {meta.get('seeds')}, the population is {list(seeds)}; "
            f"{RERUN}"
        )
    path = root / TABLE
    try:
        if file_sha256(path) != meta["sha256"]:
            raise InputCorrupt(f"{path}: SHA-256 differs from the one {META} records; {RERUN}")
        table = pq.read_table(path, page_checksum_verification=True)
    except FileNotFoundError:
        raise InputCorrupt(f"{path}: missing; {RERUN}") from None
    except (OSError, ValueError) as err:
        raise InputCorrupt(f"{path}: not a readable Parquet table [{reason(err)}]; {RERUN}") from None
    if tuple(table.column_names) != COLUMNS:
        raise InputCorrupt(f"{path}: columns {table.column_names}, expected {list(COLUMNS)}; {RERUN}")
    cols = {name: table.column(name).to_numpy() for name in COLUMNS}
    if not np.array_equal(cols["example_id"], np.arange(labels.shape[0])) or not np.array_equal(
        cols["label"], labels
    ):
        raise InputCorrupt(f"{path}: its examples or labels differ from the prepared test split's; {RERUN}")
    return Traits(
        cols["label_issue"].astype(bool), cols["label_quality"], *(cols[name] for name in Traits.SCORES)
    )
