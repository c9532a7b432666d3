"""What every stage entry point shares: logging, and one-line errors with a non-zero exit."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from pipeline.errors import USER_ERRORS
from pipeline.progress import setup_logging


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    return p


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Call ``main(args)``; a user error prints ``error: <message>`` and exits with status 2."""
    setup_logging()
    try:
        main(args)
    except USER_ERRORS as err:
        logging.getLogger("pipeline").debug("user error", exc_info=True)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
