"""The files of a package that a module runs when it is imported, found by reading the source with ``ast``.

Every ``import`` and ``from ... import`` counts wherever it stands (module level or inside a function: a
stage imports its heavy modules lazily, and they run all the same), except under ``if TYPE_CHECKING:``,
which never runs.  Importing ``a.b.c`` runs ``a/__init__.py``, ``a/b/__init__.py`` and ``a/b/c.py``;
``from a.b import c`` runs ``a/b/c.py`` too when ``c`` is a submodule.

The ``code`` stage (pipeline/stages/code.py) fingerprints each stage's closure, so that a stage depends on
one small file that changes exactly when a file it runs changes, instead of listing every such file in its
``deps`` (and in each of its ``dvc.lock`` entries).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


def module_file(root: Path, module: str) -> Path | None:
    """The file of a dotted module name under ``root`` (``a.b`` -> a/b.py or a/b/__init__.py), or None."""
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``node``, at any depth, except the body of ``if TYPE_CHECKING:``."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
        return
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for branch in node.orelse:
            yield from _import_nodes(branch)
        return
    for child in ast.iter_child_nodes(node):
        yield from _import_nodes(child)


def imported_modules(root: Path, path: Path) -> set[str]:
    """Dotted names of the modules that the statements of ``path`` import (any package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(root, path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:  # relative: from . import x, from ..a import b
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        names.add(base)
        names |= {f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}
    return names


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def closure(root: Path, entry: Path, package: str = "pipeline") -> set[str]:
    """Paths (relative to ``root``, posix) of every ``package`` file that running ``entry`` imports,
    ``entry`` and the ``__init__.py`` of each package on the way included."""
    seen: set[Path] = set()
    todo = [entry, *(module_file(root, m) for m in _with_parents(module_name(root, entry))[:-1])]
    while todo:
        path = todo.pop()
        if path is None or path in seen:
            continue
        seen.add(path)
        for name in imported_modules(root, path):
            if name.split(".")[0] != package:
                continue
            # ``from a import b`` names ``a.b``: a submodule, or just an attribute (then no file)
            todo.extend(module_file(root, m) for m in _with_parents(name))
    return {path.relative_to(root).as_posix() for path in seen}
