"""Rewrite each stage's ``pipeline/`` deps in the dvc.yaml files to exactly the files its entry module
imports (followed through the package, as ``tests/test_dependencies.py`` checks them).

    python scripts/sync_deps.py          # rewrite in place, print what changed
    python scripts/sync_deps.py --check  # exit 1 when a file would change

Only the ``- pipeline/...`` lines of a stage's ``deps`` are touched: comments, the data deps, params and
outs stay as written. Run it after moving code between modules; the dependency test then passes.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.import_closure import closure  # noqa: E402  (the test's own follower of imports)

STAGE_LINE = re.compile(r"^  ([A-Za-z_][\w-]*):\s*$")  # a stage's name under `stages:`
DEP_LINE = re.compile(r"^(\s+)- pipeline/\S+\s*$")


def entry_files(path: Path) -> dict[str, list[str]]:
    """Stage name -> its sorted ``pipeline/`` import closure, for every stage of one dvc.yaml."""
    out = {}
    for name, body in (yaml.safe_load(path.read_text())["stages"] or {}).items():
        argv = shlex.split(body["cmd"])
        entry = REPO.joinpath(*argv[2].split(".")).with_suffix(".py")
        out[name] = sorted(closure(REPO, entry))
    return out


def rewrite(path: Path) -> str:
    """The text of ``path`` with every stage's ``pipeline/`` dep lines replaced by its closure."""
    wanted = entry_files(path)
    lines = path.read_text().splitlines(keepends=True)
    out: list[str] = []
    stage: str | None = None
    in_stages = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("stages:"):
            in_stages = True
        elif line[:1].strip() and not line.startswith("#"):
            in_stages = line.startswith("stages:")
        match = STAGE_LINE.match(line) if in_stages else None
        if match:
            stage = match.group(1)
        dep = DEP_LINE.match(line)
        if dep and stage in wanted:
            indent = dep.group(1)
            while i < len(lines) and DEP_LINE.match(lines[i]):
                i += 1
            out += [f"{indent}- {name}\n" for name in wanted.pop(stage)]
            continue
        out.append(line)
        i += 1
    return "".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file would change")
    args = p.parse_args()
    changed = []
    for path in [REPO / "dvc.yaml", *sorted(REPO.glob("families/*/dvc.yaml"))]:
        text = rewrite(path)
        if text != path.read_text():
            changed.append(path.relative_to(REPO))
            if not args.check:
                path.write_text(text)
    for path in changed:
        print(f"{'would change' if args.check else 'rewrote'} {path}")
    sys.exit(1 if args.check and changed else 0)


if __name__ == "__main__":
    main()
