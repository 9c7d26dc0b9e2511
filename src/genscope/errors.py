"""One error vocabulary for the library and the CLI.

- ``InputError``: what the user gave cannot be used (an argument, a path, an option, a manifest, records
  without a needed column, a model name that does not exist). The CLI prints it as one line and exits 2.
- ``RunError``: the run itself failed (a worker that cannot start, a model that cannot be fetched). Exit 1.
- ``CodedError``: one file, or one part of one file, defeated a reader or a signal. It carries a
  machine-readable ``code`` and becomes an error row or column; it never ends a run.
"""

from __future__ import annotations


class GenscopeError(Exception):
    """Every error genscope raises on purpose."""


class InputError(GenscopeError, ValueError):
    """The user's input cannot be used: one line for the user, exit code 2."""


class RunError(GenscopeError, RuntimeError):
    """The run failed as a whole, not because of one file: exit code 1."""


class CodedError(GenscopeError):
    """A per-file failure: ``code`` is machine-readable (``metadata.bad_crc``), ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
