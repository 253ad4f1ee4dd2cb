"""Reading officemine's settings files (mappings, calendars, SLAs, scenarios, report settings).

Every settings file is TOML read as UTF-8, and a file that cannot be read or parsed gets the
same two messages whatever it holds; each caller raises them as its own error class.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path


def read_toml(path: str | Path, what: str, error: Callable[[str], Exception]) -> dict:
    """The TOML file at `path` as a dict; `error(message)` is raised when it cannot be read
    (missing, unreadable) or is not valid TOML. `what` names the file in the message, e.g.
    "mapping file"."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise error(f"cannot read {what} {path}: {err.strerror or err}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise error(f"{what} {path} is not valid TOML: {err}") from None
