"""Compare every output file of two runs of the study, file by file, from their dvc.lock files.

    python scripts/compare_outputs.py OLD_REPO NEW_REPO [--map 'REGEX=>REPLACEMENT' ...]

Each repository's lock files (dvc.lock and families/*/dvc.lock, or the older stages/*/dvc.lock) give the
MD5 of every output; a folder output is expanded through its ``.dir`` listing in that repository's DVC
cache, so the comparison is per file. ``--map`` rewrites an old path into the new layout (a regular
expression and its replacement, applied in order) for outputs that moved on purpose. Checkpoints
(``*.safetensors``) whose bytes differ are compared once more by their tensors alone, so that a change of
metadata is told apart from a change of weights. Prints one line per differing or unmatched file and a
summary; exits 1 when any tensor or any other file differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import yaml


def lock_files(repo: Path) -> list[Path]:
    found = [
        repo / "dvc.lock",
        *sorted(repo.glob("families/*/dvc.lock")),
        *sorted(repo.glob("stages/*/dvc.lock")),
    ]
    return [p for p in found if p.is_file()]


def cache_file(repo: Path, md5: str) -> Path:
    return repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def outputs(repo: Path) -> dict[str, str]:
    """Every output file of the repository's lock files -> its MD5 (folders expanded)."""
    files: dict[str, str] = {}
    for lock in lock_files(repo):
        for stage in (yaml.safe_load(lock.read_text()) or {}).get("stages", {}).values():
            for out in stage.get("outs", []):
                path, md5 = out["path"], out["md5"]
                if lock.parent != repo:  # a family file's paths are relative to its wdir, the root
                    path = str(Path(path))
                if md5.endswith(".dir"):
                    for entry in json.loads(cache_file(repo, md5).read_text()):
                        files[f"{path}/{entry['relpath']}"] = entry["md5"]
                else:
                    files[path] = md5
    return files


def tensors_digest(path: Path) -> str:
    """SHA-256 over the tensors of a safetensors file, in name order (its metadata left out)."""
    from safetensors.numpy import load_file

    digest = hashlib.sha256()
    for name, array in sorted(load_file(str(path)).items()):
        digest.update(name.encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--map", action="append", default=[], help="REGEX=>REPLACEMENT for an old path")
    args = p.parse_args()
    rules = [(re.compile(rule.split("=>")[0]), rule.split("=>")[1]) for rule in args.map]
    old, new = outputs(args.old), outputs(args.new)
    moved: dict[str, str] = {}
    for path, md5 in old.items():
        for pattern, replacement in rules:
            path = pattern.sub(replacement, path)
        moved.setdefault(path, md5)
    same, metadata_only, differ = 0, [], []
    for path in sorted(set(moved) & set(new)):
        if moved[path] == new[path]:
            same += 1
        elif path.endswith(".safetensors") and tensors_digest(
            cache_file(args.old, moved[path])
        ) == tensors_digest(cache_file(args.new, new[path])):
            metadata_only.append(path)
        else:
            differ.append(path)
    for path in differ:
        print(f"DIFFERS      {path}")
    for path in sorted(set(moved) - set(new)):
        print(f"ONLY BEFORE  {path}")
    for path in sorted(set(new) - set(moved)):
        print(f"ONLY AFTER   {path}")
    gone, added = len(set(moved) - set(new)), len(set(new) - set(moved))
    print(
        f"{len(old)} files before, {len(new)} after; {same} identical, {len(metadata_only)} checkpoints "
        f"with identical tensors and new metadata, {len(differ)} differ, {gone} only before, "
        f"{added} only after"
    )
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
