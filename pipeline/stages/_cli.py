"""What every stage entry point shares: logging, one-line errors with a non-zero exit, and putting back
the outputs ``dvc repro`` removed when the stage then fails (:mod:`pipeline.io.dvc_cache`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from pipeline.errors import USER_ERRORS, ConfigError
from pipeline.progress import setup_logging

log = logging.getLogger("pipeline")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    return p


def add_item_args(p: argparse.ArgumentParser, *, config: bool = False, seed: bool = False) -> None:
    """``--config`` and/or ``--seed``: the item of a templated stage, its config (``predict@<config>``),
    its seed (``train@<seed>``: a member) or both (``compress@<config>-<seed>``: a cell).

    Under DVC they default to the stage's own name (``train@<seed>``, ``compress@<config>-<seed>``,
    ``predict@<config>``), so that no params value is ever written into a shell command line: the command
    passes folders, and the stage asks each folder's owner (pipeline/io/) for the config's or seed's files.
    """
    if config:
        p.add_argument("--config", help="the compression config (default: from the DVC stage's name)")
    if seed:
        p.add_argument("--seed", type=int, help="the member's seed (default: from the DVC stage's name)")


def _dvc_item() -> str:
    """The item of the DVC stage running this process: ``0`` of ``train@0``, ``dense-0`` of
    ``families/compress/dvc.yaml:compress@dense-0``; a ConfigError when not run by DVC."""
    stage = os.environ.get("DVC_STAGE", "")
    _, sep, name = stage.partition("dvc.yaml:")
    _, at, item = (name if sep else stage).partition("@")
    if not at:
        raise ConfigError("--config/--seed: not given, and not run by DVC as a per-config or member stage")
    return item


def item_of(args: argparse.Namespace) -> tuple[str | None, int | None]:
    """(config, seed) this stage makes: the ``--config``/``--seed`` arguments, or else its DVC stage name.

    Call it after the params are validated: the names it returns are then known to be safe (the config
    name rule), and a name params.yaml does not define is a ConfigError of the stage that looks it up.
    """
    config, seed = getattr(args, "config", None), getattr(args, "seed", None)
    wants_config, wants_seed = hasattr(args, "config"), hasattr(args, "seed")
    if (wants_config and config is None) or (wants_seed and seed is None):
        item = _dvc_item()
        if wants_config and wants_seed:  # compress@<config>-<seed>: config names hold no "-"
            config, _, seed_text = item.rpartition("-")
        elif wants_config:
            config = item
        else:
            seed_text = item
        if wants_seed:
            try:
                seed = int(seed_text)
            except ValueError:
                raise ConfigError(f"population.seeds: {seed_text!r} is not an integer seed") from None
    return config, seed


def resolve_item(args: argparse.Namespace) -> None:
    """Set ``args.config``/``args.seed`` (:func:`item_of`); call it once the params are validated."""
    config, seed = item_of(args)
    if hasattr(args, "config"):
        args.config = config
    if hasattr(args, "seed"):
        args.seed = seed


def _clean_scratch() -> None:
    """Remove what killed stages left in the project's scratch area (pipeline/io/scratch.py) on start."""
    from pathlib import Path

    from pipeline.io.scratch import SCRATCH, clean

    root = Path(os.environ.get("DVC_ROOT") or ".")
    if (root / ".dvc").is_dir():
        for path in clean(root / SCRATCH):
            log.debug("removed %s, left by a stage that was killed", path)


def _put_back_outputs() -> None:
    """Restore what DVC removed before this failed stage started; never hides the stage's own error."""
    from pipeline.io.dvc_cache import restore_removed_outputs

    try:
        restored = restore_removed_outputs()
    except Exception as err:  # the stage's error is the one to report
        log.warning("could not restore the stage's previous outputs: %s", err)
        return
    for path in restored:
        log.debug("restored the previous %s from DVC's cache", path)


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Call ``main(args)``; a user error prints ``error: <message>`` and exits with status 2. On any
    failure the outputs DVC removed for this stage are restored first."""
    setup_logging()
    _clean_scratch()
    try:
        main(args)
    except USER_ERRORS as err:
        log.debug("user error", exc_info=True)
        _put_back_outputs()
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except BaseException:
        _put_back_outputs()
        raise
