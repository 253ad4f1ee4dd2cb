"""One exception hierarchy for officemine: catch `OfficemineError` to catch them all.

Every error officemine raises on purpose is defined here, each with what it means in one line.
The CLI turns any of them into one ``error: …`` line and exit code 2. Errors that a caller
might reasonably catch as a built-in kind also derive from it (a `ChoiceError` is a
`ValueError`, a `NotFoundError` a `KeyError`), so code written against the built-ins keeps
working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")


class OfficemineError(Exception):
    """Base class of every error officemine raises on purpose."""


# --- what the caller asked for -----------------------------------------------------------------

class InputError(OfficemineError, ValueError):
    """An argument has a value the function cannot take (malformed date, number out of range)."""


class WrongTypeError(InputError, TypeError):
    """An argument is the wrong kind of object (a path where a key object is expected)."""


class ChoiceError(InputError):
    """A closed choice got a value outside it; the message lists the allowed values."""

    def __init__(self, name: str, value: object, allowed: Iterable[object]) -> None:
        self.name, self.value, self.allowed = name, value, tuple(allowed)
        shown = [str(a) for a in self.allowed]
        hint = difflib.get_close_matches(str(value), shown, n=1, cutoff=0.6)
        super().__init__(f"{name} must be one of {', '.join(shown)}, not {value!r}"
                         + (f" (did you mean {hint[0]!r}?)" if hint else ""))

    @classmethod
    def check(cls, name: str, value: _T, allowed: Iterable[object]) -> _T:
        """`value` if it is one of `allowed`; otherwise raise the error that lists them.

        >>> ChoiceError.check("lang", "zh", ("zh", "en"))
        'zh'
        """
        allowed = tuple(allowed)
        try:
            ok = value in allowed
        except TypeError:           # an unhashable value against a set-like `allowed`
            ok = False
        if not ok:
            raise cls(name, value, allowed)
        return value


class NotFoundError(OfficemineError, KeyError):
    """A name looked up in a result or a ledger is not there (a scenario, an overdue case)."""

    def __str__(self) -> str:          # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class NotSupportedError(OfficemineError):
    """What was asked is not available where it was asked yet (a part of the review on Spark)."""


class DependencyError(OfficemineError):
    """An optional dependency a feature needs is not installed (e.g. pyspark for Spark)."""


# --- the data --------------------------------------------------------------------------------

class SourceError(OfficemineError):
    """A source file cannot be read at all (missing, wrong encoding, not the format it claims).

    Carries where it happened so the message can name file, row and column.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.file, self.row, self.column = file, row, column
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            ) if part
        )
        super().__init__(f"{message} ({where})" if where else message)


class ColumnGuessError(SourceError):
    """Headers could not be matched to canonical columns: missing or ambiguous; lists the candidates."""


class LogFormatError(OfficemineError, ValueError):
    """A stored log (or its metadata) is not a valid officemine Parquet log."""


class NoDataError(OfficemineError):
    """The log, or the part of it asked for, holds nothing the analysis can work on."""


class DiscoveryError(OfficemineError, ValueError):
    """A discovery cannot run as asked: unknown process type, empty scope, bad setting."""


class ExpressionError(OfficemineError, ValueError):
    """A `when` expression uses something the language does not allow (scenario and
    procedure validation turn it into one of their problems)."""


class ModelSizeError(OfficemineError, ValueError):
    """A procedure's model reaches more states than the checker explores (validation
    reports it as a problem of the procedure)."""


class SpecError(OfficemineError, ValueError):
    """A synthetic-office spec or redesign is inconsistent; the message lists every problem."""


class PseudonymKeyError(OfficemineError):
    """A pseudonym key cannot be read or stored, is too short, or others can read its file."""


class PseudonymCollisionError(OfficemineError):
    """Two different names got the same pseudonym, which would merge them in the log."""


class LedgerError(OfficemineError):
    """A ledger cannot be used as asked: not a ledger, newer than this officemine, busy, or a
    run that would go back in time."""


class OutputError(OfficemineError):
    """An output cannot be written: an unwritable or missing folder, a folder where a file
    belongs, or a target that is one of the run's inputs."""


# --- settings ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One problem of a settings file: a code (``unknown-key``, ``invalid``…), the place
    (``mapping.toml: [calendar].hours``) and what is wrong."""

    code: str
    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


class SettingsError(OfficemineError, ValueError):
    """A settings file or model is invalid; holds every `Problem` found, and its message
    lists them all.

    Given one text it is a plain error with that message; given a list (of `Problem`, or of
    texts, which become problems of code ``invalid``) it says ``<what> has N problem(s):``
    followed by one line per problem.
    """

    #: how the message names what is wrong ("mapping", "scenario"…)
    what = "settings"

    def __init__(self, problems: str | Iterable[Problem | str], *, source: str | None = None,
                 label: str | None = None) -> None:
        self.source = source
        if isinstance(problems, str):
            self.problems = [Problem("invalid", source or "", problems)]
            super().__init__(problems)
            return
        self.problems = [p if isinstance(p, Problem) else Problem("invalid", "", str(p))
                         for p in problems]
        head = label or (f"{self.what} {source}" if source else self.what)
        super().__init__(f"{head} has {len(self.problems)} problem(s):\n  - "
                         + "\n  - ".join(map(str, self.problems)))

    @property
    def messages(self) -> list[str]:
        """Each problem as one line (place and message)."""
        return [str(p) for p in self.problems]


class MappingError(SettingsError):
    """A mapping file (TOML) is malformed or refers to columns/values that do not exist."""

    what = "mapping"


class CalendarError(SettingsError):
    """A working calendar is misconfigured (bad office hours, unreadable day file)."""

    what = "calendar"


class ReportConfigError(SettingsError):
    """A report settings file is malformed; the message lists every problem."""

    what = "report settings"


class SLAError(SettingsError):
    """An SLA file or model is invalid; the message lists every problem."""

    what = "SLA"


class ScenarioError(SettingsError):
    """A scenario is malformed or does not fit the log; the message lists every problem."""

    what = "scenario"

    def __init__(self, problems: str | Sequence[Problem | str], *, name: str | None = None,
                 source: str | None = None) -> None:
        self.name = name
        where = f" ({source})" if source else ""
        label = f"scenario {name!r}{where}" if name else f"scenario{where}"
        super().__init__([problems] if isinstance(problems, str) else problems,
                         source=source, label=label)


class ProcedureError(SettingsError):
    """A procedure file is malformed or does not fit the log; the message lists every problem."""

    what = "procedures"

    def __init__(self, problems: str | Sequence[Problem | str], *,
                 source: str | None = None) -> None:
        label = f"procedures ({source})" if source else "procedures"
        super().__init__([problems] if isinstance(problems, str) else problems,
                         source=source, label=label)


class NotifySettingsError(SettingsError):
    """A notification setting or the people file is missing or invalid; lists every problem."""

    what = "notification settings"
