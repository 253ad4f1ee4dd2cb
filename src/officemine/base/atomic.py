"""How officemine writes files: every output goes through here.

* **Atomic.** A file is written beside its target under a hidden temporary name (same folder,
  so the rename cannot cross file systems), flushed to disk and renamed over the target with
  `os.replace`. A run killed at any moment leaves the previous file whole (and at worst a
  stray ``.NAME.officemine-XXXX.SUFFIX``); a failed write removes its temporary file.
* **Inputs are never outputs.** A target that is the same file as one of the run's inputs
  (given to the writer, or declared for a whole command with `protect`) is refused.
* **No formulas in spreadsheets.** A text cell that starts with ``= + - @`` (or a tab or a
  carriage return) would be run by Excel as a formula (CSV/formula injection): `safe_cell`
  writes it with a leading apostrophe; numbers, and text that is just a number, stay as they
  are. `write_csv` and the workbook writer both use it.

>>> from officemine.base.atomic import write_text
>>> with atomic_path("reports/table.html") as tmp:          # doctest: +SKIP
...     tmp.write_text("<table>…</table>", encoding="utf-8")
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd

from officemine.base.errors import OutputError

__all__ = ["atomic_path", "atomic_paths", "protect", "check_output", "write_text",
           "check_folder", "write_bytes", "write_csv", "csv_to", "remove", "safe_cell",
           "safe_frame",
           "FORMULA_START", "OutputError"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# text that is only a number ("-5", "+3.2", "1e-3"): a spreadsheet reads it as that number,
# never as a formula, so it stays as it is
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TEMP_MARK = ".officemine-"

_protected: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "officemine_protected_inputs", default=())


# --- inputs that must not be overwritten ------------------------------------------------------
@contextmanager
def protect(paths: Iterable[str | Path | None]) -> Iterator[None]:
    """Refuse, inside the block, every write whose target is one of `paths` (the inputs of a
    command: its source, mapping, settings …)."""
    extra = tuple(Path(p) for p in paths if p is not None and str(p) not in ("", "-"))
    token = _protected.set(_protected.get() + extra)
    try:
        yield
    finally:
        _protected.reset(token)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _check_not_input(target: Path, inputs: Iterable[str | Path | None]) -> None:
    for source in (*_protected.get(), *(Path(p) for p in inputs if p is not None)):
        if _same_file(target, source):
            named = "" if str(source) == str(target) else f" ({source})"
            raise OutputError(f"refusing to write {target}: it is an input of this "
                              f"run{named}; choose another output path")


def check_output(target: str | Path, inputs: Iterable[str | Path | None] = ()) -> Path:
    """Check, before a long run, that `target` can be written: not an input, not a folder,
    in a folder that exists or can be made, where files can be written (`check_folder`).
    Creates nothing. Returns `target`."""
    target = Path(target)
    _check_not_input(target, inputs)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder; give a file name")
    _check_folder(target.parent, target)
    return target


def check_folder(folder: str | Path) -> Path:
    """Check, before a long run, that files can be written into `folder` or, if it does not
    exist yet, into the folder it would be made in. Creates nothing (a probe file is
    written and removed there: permission bits do not tell about, say, a read-only mount)."""
    folder = Path(folder)
    _check_folder(folder, folder)
    return folder


def _check_folder(folder: Path, shown: Path) -> None:
    existing = _existing(folder)
    if not existing.is_dir():
        raise OutputError(f"cannot write {shown}: {existing} is a file, not a folder")
    _new_temp(existing / "probe", shown).unlink()


# --- atomic writes ---------------------------------------------------------------------------
@contextmanager
def atomic_paths(*targets: str | Path,
                 inputs: Iterable[str | Path | None] = ()) -> Iterator[list[Path]]:
    """Yield one temporary path per target (same folder, same suffix); when the block ends
    without error, flush each to disk and rename them over their targets, in order.

    A group of files (a report's PDF, JSON and workbook) is thus replaced together once every
    one of them is complete. On any error the temporary files are removed, and an `OSError`
    becomes an `OutputError` naming the file.
    """
    inputs = tuple(inputs)
    finals = [_final(Path(t), inputs) for t in targets]
    temps: list[Path] = []
    names: dict[Path, Path] = {}              # temporary file -> its target, for messages
    try:
        for final in finals:
            temps.append(_new_temp(final))
            names[temps[-1]] = final
        yield list(temps)
        for temp, final in zip(temps, finals):
            if not temp.exists():
                raise OutputError(f"nothing was written to {final}")
            _fsync(temp)
            if final.exists():                # keep the permissions of the file replaced
                os.chmod(temp, stat.S_IMODE(final.stat().st_mode))
        for i, (temp, final) in enumerate(zip(temps, finals)):
            os.replace(temp, final)
            temps[i] = final                 # committed: no longer ours to remove
        for folder in dict.fromkeys(f.parent for f in finals):
            _fsync_folder(folder)
    except OSError as exc:
        _remove(temps, finals)
        raise _output_error(exc, finals[0], names) from None
    except BaseException:
        _remove(temps, finals)
        raise


@contextmanager
def atomic_path(target: str | Path, inputs: Iterable[str | Path | None] = ()) -> Iterator[Path]:
    """`atomic_paths` for one file: yields the temporary path to write to."""
    with atomic_paths(target, inputs=inputs) as (temp,):
        yield temp


def write_bytes(path: str | Path, data: bytes,
                inputs: Iterable[str | Path | None] = ()) -> Path:
    with atomic_path(path, inputs) as temp:
        temp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8",
               inputs: Iterable[str | Path | None] = ()) -> Path:
    return write_bytes(path, text.encode(encoding), inputs)


def write_csv(frame: pd.DataFrame, path: str | Path,
              inputs: Iterable[str | Path | None] = ()) -> Path:
    """`frame` as a CSV for Excel (`csv_to`), written atomically."""
    with atomic_path(path, inputs) as temp:
        csv_to(frame, temp)
    return Path(path)


def csv_to(frame: pd.DataFrame, path: Path) -> None:
    """The one CSV format officemine writes: UTF-8 with BOM (Excel opens the Chinese right),
    no index, no cell that starts a formula (`safe_frame`). `path` is a temporary file of
    `atomic_path(s)`; use `write_csv` for a file on its own."""
    safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")


def remove(path: str | Path, inputs: Iterable[str | Path | None] = ()) -> None:
    """Remove an output file left by an earlier run, if there is one (never an input)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    _check_not_input(path, inputs)
    try:
        path.unlink()
    except OSError as exc:
        raise OutputError(f"cannot remove {path}: {exc.strerror or exc}") from None


def _final(target: Path, inputs: Sequence[str | Path | None]) -> Path:
    """The file the rename will replace: a symlink's destination, checked against the inputs."""
    _check_not_input(target, inputs)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder; give a file name")
    final = Path(os.path.realpath(target)) if target.is_symlink() else target
    _make_folder(final.parent, target)
    return final


def _make_folder(folder: Path, shown: Path) -> None:
    """Create `folder` (and its parents) for writing `shown`, the path named in errors."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"cannot write {shown}: {_existing(folder)} is a file, "
                          "not a folder") from None
    except OSError as exc:
        raise _output_error(exc, shown) from None


def _existing(folder: Path) -> Path:
    """`folder` or its nearest ancestor that exists (a file there blocks making the folder)."""
    return next(p for p in [folder, *folder.parents, Path(".")] if p.exists())


def _new_temp(final: Path, shown: Path | None = None) -> Path:
    """Create an empty, hidden file beside `final` (mode 0o666 less the umask, like any new
    file) whose name keeps the suffix: writers that choose a format by suffix still do."""
    # a name within the 255 bytes most file systems allow, whatever the target's length
    stem = final.stem.encode("utf-8")[:120].decode("utf-8", errors="ignore")
    suffix = final.suffix if len(final.suffix.encode("utf-8")) <= 32 else ""
    for _ in range(100):
        temp = final.with_name(f".{stem}{_TEMP_MARK}{secrets.token_hex(4)}{suffix}")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return temp
        except FileExistsError:
            continue
        except OSError as exc:
            raise _output_error(exc, shown or final, {temp: shown or final}) from None
    raise OutputError(f"cannot write {final}: no free temporary name in {final.parent}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible, nor needed, on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(temps: list[Path], finals: list[Path]) -> None:
    for temp in temps:
        if temp not in finals:
            try:
                temp.unlink()
            except OSError:
                pass


def _output_error(exc: OSError, target: Path,
                  names: dict[Path, Path] | None = None) -> OutputError:
    """`exc` as one line naming the output (not the temporary file the writer had open)."""
    where = Path(exc.filename) if getattr(exc, "filename", None) else None
    names = names or {}
    if where in names:
        target, where = names[where], None
    extra = f" ({where})" if where is not None and where != target else ""
    return OutputError(f"cannot write {target}: {exc.strerror or exc}{extra}")


# --- spreadsheet cells -----------------------------------------------------------------------
def safe_cell(value):
    """Escape text that a spreadsheet would take for a formula; leave numbers alone."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and \
            not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `safe_cell` applied to its column names and every text cell: one
    vectorised pass per text column; `frame` itself is not changed."""
    out = frame.copy(deep=False)
    for i, (_, column) in enumerate(frame.items()):
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype("object")
        elif not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        try:
            risky = column.str.startswith(FORMULA_START, na=False)
        except AttributeError:               # an object column holding no text
            continue
        if risky.any():
            risky &= ~column.str.fullmatch(_NUMBER.pattern, na=False)
            out.isetitem(i, column.mask(risky, "'" + column.astype("string")))
    out.columns = [safe_cell(c) for c in frame.columns]
    return out
