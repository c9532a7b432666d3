from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.io.files import atomic_path, write_csv, write_json


def test_failed_write_leaves_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json(target, {"ok": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_csv_has_header_and_rows(tmp_path: Path) -> None:
    write_csv(tmp_path / "h.csv", [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    assert (tmp_path / "h.csv").read_text().splitlines() == ["epoch,loss", "1,0.5", "2,0.25"]
