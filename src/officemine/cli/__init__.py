"""The `officemine` command: a thin shell over the library, one module per command group.

Each command is one library call plus turning `OfficemineError` into a clear message and
exit code 2. Long steps show a spinner on the terminal (stderr), never in piped output.
"""

from __future__ import annotations

from officemine.cli._common import app

# Command modules register themselves on `app` when imported.
from officemine.cli import importing as _importing  # noqa: E402,F401
from officemine.cli import discover as _discover  # noqa: E402,F401
from officemine.cli import necessity as _necessity  # noqa: E402,F401
from officemine.cli import report as _report  # noqa: E402,F401
from officemine.cli import simulate as _simulate  # noqa: E402,F401
from officemine.cli import supervise as _supervise  # noqa: E402,F401
from officemine.cli import conformance as _conformance  # noqa: E402,F401
from officemine.cli import schema as _schema  # noqa: E402,F401


def main() -> None:  # console entry for `python -m officemine`
    app(prog_name="officemine")


__all__ = ["app", "main"]
