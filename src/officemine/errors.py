"""One exception hierarchy for officemine: catch `OfficemineError` to catch them all."""

from __future__ import annotations


class OfficemineError(Exception):
    """Base class of every error officemine raises on purpose."""


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


class MappingError(OfficemineError):
    """A mapping file (TOML) is malformed or refers to columns/values that do not exist."""


class CalendarError(OfficemineError):
    """A working calendar is misconfigured (bad office hours, unreadable day file)."""


class LogFormatError(OfficemineError):
    """A stored log is not a valid officemine Parquet log."""


class OutputError(OfficemineError):
    """An output cannot be written: an unwritable or missing folder, a folder where a file
    belongs, or a target that is one of the run's inputs."""
