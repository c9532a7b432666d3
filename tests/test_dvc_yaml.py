"""The dvc.yaml files, params.yaml and the config dataclasses stay in agreement."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import Params

from .conftest import REPO

FAMILIES = ("compress", "predict", "saliency", "representations")  # families/<family>/dvc.yaml
FILES = {"": REPO / "dvc.yaml"} | {family: REPO / "families" / family / "dvc.yaml" for family in FAMILIES}
LOADED = {key: yaml.safe_load(path.read_text()) for key, path in FILES.items()}
DVC = LOADED[""] | {"stages": {name: s for raw in LOADED.values() for name, s in raw["stages"].items()}}
PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())


def stage_bodies() -> dict[str, dict[str, Any]]:
    return dict(DVC["stages"])


def test_every_dvc_yaml_is_known() -> None:
    found = {p.relative_to(REPO) for p in REPO.glob("**/dvc.yaml") if ".venv" not in p.parts}
    assert found == {p.relative_to(REPO) for p in FILES.values()}


def test_each_family_file_holds_its_stage_and_works_from_the_root() -> None:
    """A family's dvc.yaml templates from the root params.yaml and runs its commands at the root."""
    for family in FAMILIES:
        raw = LOADED[family]
        assert list(raw["stages"]) == [family] and raw["vars"] == ["../../params.yaml"]
        stage = raw["stages"][family]
        assert stage["wdir"] == "../.."
    assert not set(FAMILIES) & set(LOADED[""]["stages"])


def lookup(raw: dict[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"{dotted} is not in params.yaml"
        node = node[part]
    return node


def test_params_sections_are_the_dataclass_sections() -> None:
    assert list(PARAMS) == [f.name for f in dataclasses.fields(Params)]


def test_every_declared_param_exists() -> None:
    """Each declared key exists, for every config when the key is templated by the config's name."""
    for name, body in stage_bodies().items():
        for key in body.get("params", []):
            assert isinstance(key, str), f"stage {name}: params must name keys of params.yaml"
            for config in PARAMS["compress"]["configs"]:
                lookup(PARAMS, key.replace("${item.config}", config))


def test_per_config_stages_declare_only_their_own_config() -> None:
    """Adding or changing one config must not invalidate the other configs' stages."""
    compress = DVC["stages"]["compress"]
    assert compress["matrix"] == {"config": "${compress.configs}", "seed": "${population.seeds}"}
    assert compress["params"] == ["compress.configs.${item.config}", "runtime"]
    for family in FAMILIES[1:]:
        stage = DVC["stages"][family]
        assert stage["matrix"] == {"config": "${compress.configs}"}, family
        assert not any(p.startswith("compress") for p in stage["params"]), family


def test_every_stage_has_a_thin_entry_point_of_its_name() -> None:
    for name, body in stage_bodies().items():
        argv = shlex.split(body["cmd"])
        assert argv[:3] == ["python", "-m", f"pipeline.stages.{name}"], name
        assert (REPO / "pipeline" / "stages" / f"{name}.py").is_file()
        own = "pipeline" if name == "code" else f"data/code/{name}.json"  # the folder, or the fingerprint
        assert own in body["deps"], f"stage {name} must depend on its entry point's code"


def test_declared_deps_exist() -> None:
    """Each dep is a file in git, lies in another stage's output, or holds other stages' outputs."""
    bodies = stage_bodies()
    outs = {out for body in bodies.values() for out in outs_of(body)}
    prefixes = {out: out.split("${")[0] for out in outs}  # each output's path up to its first template
    assert all(prefixes.values()), "an output path starting with a template would match every dep"
    for name, body in bodies.items():
        for dep in body["deps"]:
            made = any(dep.startswith(fixed) or out.startswith(f"{dep}/") for out, fixed in prefixes.items())
            assert made or (REPO / dep).exists(), f"stage {name}: dep {dep} does not exist"


def test_every_templated_stage_names_its_variables_alike() -> None:
    """One vocabulary in every DVC file: a matrix over ``config`` (the compress configs) and/or ``seed``
    (the population's seeds), used as ``${item.config}`` and ``${item.seed}``; no foreach, no ``${key}``."""
    assert DVC["stages"]["train"]["matrix"] == {"seed": "${population.seeds}"}
    for path in FILES.values():
        text = path.read_text()
        assert "foreach" not in text and "${key}" not in text and "${item}" not in text, path


def test_metrics_folder_is_declared_top_level_and_by_its_stage() -> None:
    """The per-config headline files are DVC's metrics; results.json (every number) is a plain output."""
    assert DVC["metrics"] == ["reports/metrics"]
    outs = [next(iter(m)) if isinstance(m, dict) else m for m in DVC["stages"]["report"]["metrics"]]
    assert outs == ["reports/metrics"]
    assert "reports/results.json" in DVC["stages"]["report"]["outs"]


def test_paths_live_in_dvc_yaml_not_in_params() -> None:
    """params.yaml owns numbers and names; the only path-like option is the user's dataset root."""
    flat: list[tuple[str, Any]] = []

    def walk(prefix: str, node: Any) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            else:
                flat.append((f"{prefix}{key}", value))

    walk("", PARAMS)
    pathy = [k for k, v in flat if isinstance(v, str) and "/" in v]
    assert pathy == []
    assert Path("data/raw").as_posix() in DVC["stages"]["prepare"]["cmd"]


def test_no_params_value_reaches_a_shell_command() -> None:
    """DVC runs a stage's cmd through a shell: a ${...} there would let a config name or seed run code
    (`x; rm -rf data`) under `dvc repro -s`. The stages read their config and seed from DVC_STAGE."""
    for name, body in stage_bodies().items():
        assert "${" not in body["cmd"], name


def outs_of(body: dict[str, Any]) -> list[str]:
    entries = [*body.get("outs", []), *body.get("metrics", []), *body.get("plots", [])]
    return [next(iter(e)) if isinstance(e, dict) else e for e in entries]


def test_every_stage_runs_after_validate_and_nothing_is_left_uncached() -> None:
    """validate checks the whole params.yaml before DVC removes any other stage's outputs (only ``code``,
    which reads no params, may run before it); every output is cached, so a failed stage can put back what
    DVC removed (pipeline/io/dvc_cache.py)."""
    bodies = stage_bodies()
    assert bodies["validate"]["deps"][0] == "params.yaml" and outs_of(bodies["validate"]) == ["data/validate"]
    for name, body in bodies.items():
        if name not in ("validate", "code"):
            assert "data/validate" in body["deps"], name
        entries = [*body.get("outs", []), *body.get("metrics", []), *body.get("plots", [])]
        for entry in entries:
            assert not isinstance(entry, dict) or next(iter(entry.values())).get("cache", True), (name, entry)


def test_a_templated_output_path_ends_in_a_fixed_name() -> None:
    """Whatever a config name or seed holds (`..`, `.`, `a/b`, `/abs`, ``), the output path DVC removes
    under `dvc repro -s` ends in a component no name can make `.` or `..`: a per-config folder ends in
    ".d", a member's file in a fixed suffix."""
    for name, body in stage_bodies().items():
        for out in outs_of(body):
            if "${" in out:
                tail = out.rsplit("/", 1)[-1]
                assert tail.endswith((".d", ".safetensors", ".json", ".csv")), (name, out)


def test_no_declared_dependency_is_an_empty_file() -> None:
    """DVC warns "'<file>' is empty" for an empty dependency every time it checks a stage (hundreds of
    lines in a full `dvc repro`)."""
    for name, body in stage_bodies().items():
        for dep in body.get("deps", []):
            path = REPO / dep
            if "${" not in dep and path.is_file():
                assert path.stat().st_size > 0, (name, dep)


def test_the_saliency_reference_declares_exactly_what_it_is_made_with() -> None:
    """Changing ``saliency.examples`` (drawn per config) must not recompute the dense reference."""
    from pipeline.config import SaliencyParams
    from pipeline.saliency.population import made_with

    declared = DVC["stages"]["saliency_reference"]["params"]
    assert declared == ["population", "runtime", *(f"saliency.{key}" for key in made_with(SaliencyParams()))]


def test_each_artifact_is_the_output_folder_of_its_population_stage() -> None:
    """`dvc artifacts get <repo> <name>` fetches a whole population: the folder a stage writes with
    ``--out``, and every output that stage writes under data/ lies inside it (train's history table is a
    report, not part of the population)."""
    expected = {"dense-population": "train", "compressed-populations": "compress"}
    artifacts = LOADED[""]["artifacts"]
    assert set(artifacts) == set(expected)
    for name, stage_name in expected.items():
        path, stage = artifacts[name]["path"], DVC["stages"][stage_name]
        argv = shlex.split(stage["cmd"])
        assert argv[argv.index("--out") + 1] == path, name
        data_outs = [str(out) for out in stage["outs"] if str(out).startswith("data/")]
        assert data_outs and all(out.startswith(f"{path}/") for out in data_outs), name
        assert artifacts[name]["type"] == "model" and artifacts[name]["desc"]
