"""The report stage end to end on a tiny fake study (tests/report/__init__.py): the page, its images,
the plot tables, results.json and the metrics files, errors and determinism."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.io import pie as pie_io
from pipeline.io import report as layout
from pipeline.io import robustness as robustness_io
from pipeline.io import stats as stats_io
from pipeline.io.predictions import PredictFolder
from pipeline.io.report import ReportFolder, figure_name, figure_src
from pipeline.io.representations import RepresentationsFolder
from pipeline.io.saliency import SaliencyFolder
from pipeline.report import page
from pipeline.report.metrics import BEYOND_KEYS, HEADLINE, HEADLINE_NAMES, PIE_KEYS, STATS_KEYS
from pipeline.stages import report
from pipeline.stages._cli import run

from . import (
    CONFIGS,
    argv,
    parse_html,
    write_representations,
    write_robustness,
    write_saliency,
    write_study,
)


def build(root: Path, out: Path) -> None:
    report.main(report.build_parser().parse_args(argv(root, out)))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="module")
def out(study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    build(study, out)
    return out


@pytest.fixture(scope="module")
def html(out: Path) -> str:
    return (out / "index.html").read_text(encoding="utf-8")


def summary_rows(html: str) -> dict[str, dict[str, tuple[str, str]]]:
    """The summary table (the page's first): config -> header text -> (cell classes, cell text)."""
    table = parse_html(html).tables[0]
    headers = [text for _, text in table[0]]
    return {row[0][1]: dict(zip(headers, row, strict=True)) for row in table[1:]}


def test_page_is_well_formed_html(html: str) -> None:
    parsed = parse_html(html)
    assert parsed.problems == []
    assert html.startswith("<!DOCTYPE html>")


def test_every_image_exists_beside_the_page_and_nothing_is_external(out: Path, html: str) -> None:
    images = parse_html(html).images
    assert "figures/accuracy.png" in images and "figures/gallery_magnitude_50.png" in images
    for src in images:
        assert not src.startswith(("/", "http", "data/")) and "data/" not in src
        assert (out / src).is_file(), src
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_the_figures_folder_holds_the_drawn_figures_and_copies(out: Path) -> None:
    names = sorted(p.name for p in (out / "figures").iterdir())
    drawn = ["accuracy.png", "cka.png", "confusion.png", "per_class.png", "pie_overlap.png", "robustness.png"]
    drawn.append("pie_traits.png")
    copied = ["activation_max_int8_static.png", "activation_max_magnitude_50.png"]
    copied += ["gallery_magnitude_50.png", "saliency_int8_static.png", "saliency_magnitude_50.png"]
    assert names == sorted(drawn + copied)  # int8_static has no PIEs, so no gallery
    assert all((out / "figures" / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)


def test_summary_table_lists_every_config_in_params_order(html: str) -> None:
    assert list(summary_rows(html)) == list(CONFIGS)


def test_cells_beyond_their_noise_floor_are_marked_exactly(html: str) -> None:
    marked = {
        config: {header.split()[0] for header, (classes, _) in cells.items() if "beyond" in classes.split()}
        for config, cells in summary_rows(html).items()
    }
    assert marked == {"dense": set(), "magnitude_50": {"churn", "last-layer"}, "int8_static": {"saliency"}}
    assert html.count('class="num beyond"') == 3 + 1  # and the fragile impacted class (certainty section)
    assert "beyond their dense-vs-dense noise floor" in html  # the caption explains the shading


def test_missing_values_read_n_a(html: str) -> None:
    row = summary_rows(html)["int8_static"]
    assert row["top-1 (%)mean ± std"][1] == "90.00 ± n/a"
    assert row["ECE change(pp)"][1] == "n/a"
    assert row["impacted classesp ≤ 0.05 (of 4)"][1] == "0"
    dense = summary_rows(html)["dense"]
    assert dense["saliency MAD(floor)"][1] == "n/a (n/a)" and dense["mCE"][1] == "n/a"


def test_page_states_the_study_and_escapes_text(html: str) -> None:
    assert "3 configurations (dense and 2 compressed)" in html
    assert "64 test examples of 4 classes" in html and "the same 2 seeds" in html
    assert "straight-through &lt;estimator&gt; &amp; fake quantization" in html
    assert "<strong>int8_static</strong>: no PIEs." in html
    assert "gallery page 1 of 2" in html


def test_largest_new_confusions_are_the_top_three_increases(html: str) -> None:
    table = parse_html(html).tables[1]
    rows = [[text for _, text in row] for row in table[1:]]
    assert [r[:2] for r in rows] == [
        ["magnitude_50", "cross → triangle"],
        ["magnitude_50", "circle → square"],
        ["magnitude_50", "square → circle"],
        ["int8_static", "circle → cross"],
    ]
    assert rows[0][2:] == ["12.50", "62.50", "+50.00"]


def test_plot_tables_hold_the_expected_rows(out: Path) -> None:
    """One table per plot, every config in it, named in its config column, in the study's order."""
    folder = ReportFolder(out).plots()
    assert layout.compression_table(folder).read_text().splitlines() == [
        "config,kind,size_ratio,sparsity,top1,top1_low,top1_high,pie_fraction,churn",
        "dense,dense,1.0,0.0,0.91,0.82,1.0,0.0,0.0",
        "magnitude_50,pruning,0.625,0.5,0.86,0.77,0.95,0.046875,0.08",
        "int8_static,quantization,0.25,0.0,0.9,,,0.0,0.01",
    ]
    assert layout.robustness_table(folder).read_text().splitlines() == [
        "config,severity,noise,geometric,mean",
        "dense,0,0.9375,0.9375,0.9375",
        "dense,1,0.875,0.75,0.8125",
        "dense,5,0.625,0.5,0.5625",
        "magnitude_50,0,0.875,0.875,0.875",
        "magnitude_50,1,0.75,0.625,0.6875",
        "magnitude_50,5,0.5,0.25,0.375",
        "int8_static,0,0.9375,0.9375,0.9375",
        "int8_static,1,0.875,0.75,0.8125",
        "int8_static,5,0.625,,0.625",  # rotate at severity 5 is missing: the mean is over what is there
    ]
    cka = layout.cka_table(folder).read_text().splitlines()
    assert cka[:3] == [
        "config,layer_index,layer,linear_cka,floor_linear_cka",
        "magnitude_50,0,conv1,0.9375,0.96875",
        "magnitude_50,1,fc,0.75,0.875",
    ]
    assert [row.split(",")[0] for row in cka[1:]] == ["magnitude_50"] * 2 + ["int8_static"] * 2
    assert sorted(p.name for p in folder.iterdir()) == ["cka.csv", "compression.csv", "robustness.csv"]


def test_results_keep_their_keys_and_dense_without_summaries_gets_nulls(out: Path) -> None:
    results = json.loads(ReportFolder(out).results().read_text())
    assert list(results) == list(CONFIGS)
    keys = [*STATS_KEYS, "pie_fraction", *PIE_KEYS, "size_ratio", "compression_ratio", "sparsity"]
    assert list(results["magnitude_50"]) == keys + list(BEYOND_KEYS)
    assert results["magnitude_50"]["cka_last"] == 0.75 and results["magnitude_50"]["cka_last_floor"] == 0.875
    assert results["dense"]["pie_fraction"] == 0.0
    assert all(results["dense"][key] is None for key in BEYOND_KEYS)


def test_each_config_has_a_headline_file_of_its_results(out: Path) -> None:
    """DVC's metrics: one file per config, the HEADLINE keys it has (dense lacks mCE and CKA here)."""
    folder = ReportFolder(out)
    results = json.loads(folder.results().read_text())
    assert sorted(p.name for p in folder.metrics().iterdir()) == sorted(f"{c}.json" for c in CONFIGS)
    for config in CONFIGS:
        headline = json.loads(folder.metrics_file(config).read_text())
        full = {k: results[config][HEADLINE_NAMES.get(k, k)] for k in HEADLINE}
        assert headline == {k: v for k, v in full.items() if v is not None}
    assert "mce" not in json.loads(folder.metrics_file("dense").read_text())


def test_the_cka_table_lists_dense_first_when_it_has_a_summary(tmp_path: Path) -> None:
    """Every plot table lists the configs in the study's order, dense first, so that a config keeps its
    colour from plot to plot (the templates colour by order of appearance)."""
    (tmp_path / "study").mkdir()
    root = write_study(tmp_path / "study")
    write_representations(root / "representations", "dense", "magnitude_50")
    build(root, tmp_path / "out")
    folder = ReportFolder(tmp_path / "out").plots()
    configs = [row.split(",")[0] for row in layout.cka_table(folder).read_text().splitlines()[1:]]
    assert configs == ["dense"] * 2 + ["magnitude_50"] * 2 + ["int8_static"] * 2


def test_reruns_are_byte_identical(study: Path, tmp_path: Path) -> None:
    build(study, tmp_path)
    first = {p.relative_to(tmp_path): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    build(study, tmp_path)
    second = {p.relative_to(tmp_path): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    assert first == second
    # results, html, a metrics file per config, figures, the compression, robustness and cka tables
    assert len(first) == 2 + len(CONFIGS) + 12 + 3


# Each required input, by its owner's path: (stage folder under the study) -> file.
REQUIRED: dict[str, Callable[[Path], Path]] = {
    "stats summary": lambda root: stats_io.StatsFolder(root / "stats").summary(),
    "stats class rows": lambda root: stats_io.StatsFolder(root / "stats").per_class("int8_static"),
    "confusion diff": lambda root: stats_io.StatsFolder(root / "stats").confusion("diff", "magnitude_50"),
    "pie overlap": lambda root: root / "pie" / pie_io.OVERLAP,  # the pie owner's file name
    "predict summary": lambda root: PredictFolder(root / "predict").config("dense").clean_summary(),
    "saliency summary": lambda root: SaliencyFolder(root / "saliency").summary("int8_static"),
    "robustness summary": lambda root: robustness_io.RobustnessFolder(root / "robustness").summary(
        "magnitude_50"
    ),
    "representations summary": lambda root: RepresentationsFolder(root / "representations").summary(
        "magnitude_50"
    ),
}


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_input_is_a_one_line_error_naming_it(
    study: Path, tmp_path: Path, missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = REQUIRED[missing](study)
    saved = path.read_bytes()
    path.unlink()
    try:
        with pytest.raises(SystemExit) as exit_info:
            run(report.main, report.build_parser().parse_args(argv(study, tmp_path / "out")))
    finally:
        path.write_bytes(saved)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and str(path) in err
    assert not (tmp_path / "out").exists()  # nothing written before every input is read


def test_a_fan_in_summary_without_a_config_is_a_one_line_error(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stats_io.StatsFolder(study / "stats").summary()
    saved = path.read_bytes()
    summary = json.loads(saved)
    del summary["configs"]["int8_static"]
    path.write_text(json.dumps(summary))
    try:
        with pytest.raises(SystemExit):
            run(report.main, report.build_parser().parse_args(argv(study, tmp_path / "out")))
    finally:
        path.write_bytes(saved)
    err = capsys.readouterr().err.strip()
    fix = "the stats summary has no entry for config(s) int8_static; rerun the stage"
    assert err == f"error: {study / 'stats'}: {fix}"


def test_a_failure_keeps_the_previous_outputs(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(study, tmp_path)
    (tmp_path / "figures" / "stale.png").write_bytes(b"old")
    before = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}

    def broken(*args: object) -> str:
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(page, "render", broken)
    with pytest.raises(RuntimeError):
        build(study, tmp_path)
    after = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "figures",
        "index.html",
        "metrics",
        "plots",
        "results.json",
    ]
    monkeypatch.undo()
    build(study, tmp_path)
    assert not (tmp_path / "figures" / "stale.png").exists()  # a success replaces the folder whole


def test_the_page_refers_to_each_figure_by_the_owners_relative_path(out: Path, html: str) -> None:
    folder = ReportFolder(out)
    names = sorted(p.name for p in folder.figures().iterdir())
    assert sorted(parse_html(html).images) == sorted(figure_src(name) for name in names)
    assert all((folder.page().parent / figure_src(name)).samefile(folder.figures() / name) for name in names)
    assert figure_name("gallery:magnitude_50") in names


def test_dense_summaries_when_present_fill_its_metrics(study: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "study"
    shutil.copytree(study, root)
    write_saliency(root / "saliency", "dense", like="magnitude_50")
    write_robustness(root / "robustness", "dense", like="magnitude_50")
    write_representations(root / "representations", "dense", like="magnitude_50")
    build(root, tmp_path / "out")
    dense = json.loads(ReportFolder(tmp_path / "out").results().read_text())["dense"]
    assert dense["saliency_mad"] == 0.0625 and dense["mce"] == 1.25 and dense["cka_last"] == 0.75


def test_the_page_says_what_pies_are_and_how_sure_each_finding_is(html: str, out: Path) -> None:
    """The traits table and figure, and the certainty table with its fragile finding shaded."""
    assert '<section id="what-pies-are">' in html and '<section id="certainty">' in html
    assert "40.00 / 5.0" not in html  # rates are percentages with one decimal
    assert "40.0 / 5.0" in html and "8.0× [3.5, 16.0]" in html and "2.50 / 1.10" in html
    assert (out / "figures" / "pie_traits.png").is_file()
    certainty = html.split('<section id="certainty">')[1].split("</section>")[0]
    assert '<td class="num beyond">1 / 1</td>' in certainty  # the fragile impacted class, shaded
    assert "±2.50 / ±7.40" in certainty and "31 / 213" in certainty and "0.750 / 0.500" in certainty
    assert "2 of 3" in certainty
    assert "members for 1 pp" in certainty
