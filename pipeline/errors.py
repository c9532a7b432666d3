"""The errors a user can cause (a bad params value, a missing or damaged input file), in one leaf module.

Every stage entry point reports these in one line, without a traceback, and exits non-zero
(:mod:`pipeline.stages._cli`). This module imports nothing of the project, so a stage's dependency
closure does not grow by catching them.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A bad value in params.yaml; the message is one line naming the key and what is allowed."""


class DatasetUnavailable(RuntimeError):
    """The dataset's files are neither on disk nor downloadable; the message says how to get them."""


class DatasetCorrupt(RuntimeError):
    """The dataset's files are there but do not match their checksum or expected shape."""


class PredictionsMismatch(ValueError):
    """Prediction tables that cannot be compared: different examples, labels or classes."""


class InputCorrupt(RuntimeError):
    """An input file is truncated, garbled or altered; the message names the file and what is wrong."""


USER_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    DatasetUnavailable,
    DatasetCorrupt,
    PredictionsMismatch,
    InputCorrupt,
)
