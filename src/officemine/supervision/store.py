"""The ledger's database: an SQLite file (standard library `sqlite3`) with a schema version and
migrations.

Why SQLite rather than files renamed into place (`officemine.base.atomic`): the ledger is updated a
little every week and read item by item, and SQLite's own atomic commit (a rollback journal,
``synchronous = FULL``) gives what a run needs: every change of a run in one transaction, so a
run that fails or is killed leaves the file as it was (the journal is rolled back the next
time the file is opened).

The schema's version is kept in the ``meta`` table (``schema_version``). Opening a ledger of an
older version migrates it, in one transaction, through each step of `MIGRATIONS`; a ledger of
a newer version (written by a newer officemine) is refused rather than misread. A read-only
ledger (the ``officemine ledger`` command, ``--dry-run``) is copied into memory and migrated
there: the file is not touched.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from officemine.base.errors import LedgerError

__all__ = ["LedgerError", "SCHEMA_VERSION", "MIGRATIONS", "connect", "transaction",
           "schema_version"]

APPLICATION = "officemine supervision ledger"


#: Version 1: runs, items (一事一档) and each week's state of every item.
_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY,
    week TEXT NOT NULL UNIQUE,
    as_of TEXT NOT NULL,
    as_of_explicit INTEGER NOT NULL,
    log_end TEXT,
    log_events INTEGER NOT NULL,
    log_cases INTEGER NOT NULL,
    log_source TEXT,
    calendar TEXT NOT NULL,
    sla TEXT NOT NULL,
    opened INTEGER NOT NULL,
    reopened INTEGER NOT NULL,
    carried INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    open_after INTEGER NOT NULL,
    notes TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    officemine TEXT NOT NULL
);
CREATE TABLE items (
    item_id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL UNIQUE,
    process_type TEXT,
    title TEXT,
    applicant TEXT,
    applicant_dept TEXT,
    submitted_at TEXT,
    start_basis TEXT,
    sla_days REAL NOT NULL,
    due_at TEXT,
    opened_run INTEGER NOT NULL REFERENCES runs (run_id),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_at TEXT,
    closed_run INTEGER REFERENCES runs (run_id),
    close_status TEXT,
    days_to_close REAL,
    reopened INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE states (
    run_id INTEGER NOT NULL REFERENCES runs (run_id),
    item_id INTEGER NOT NULL REFERENCES items (item_id),
    state TEXT NOT NULL CHECK (state IN ('new', 'reopened', 'carried', 'unseen', 'closed')),
    weeks_on_ledger INTEGER NOT NULL,
    current_node TEXT,
    current_step TEXT,
    node_basis TEXT,
    responsible TEXT,
    responsible_dept TEXT,
    held_since TEXT,
    working_days_open REAL,
    days_overdue REAL,
    reminders_in_log INTEGER,
    last_action TEXT,
    last_action_at TEXT,
    closed_at TEXT,
    close_status TEXT,
    days_to_close REAL,
    PRIMARY KEY (run_id, item_id)
);
CREATE INDEX states_item ON states (item_id);
"""

#: Version 2: the reminders pushed to where people work (deliveries per channel, and which
#: items each addressed to whom).
_V2 = """
CREATE TABLE deliveries (
    delivery_id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (run_id),
    channel TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('run', 'resend')),
    status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts INTEGER NOT NULL,
    error TEXT,
    sent_at TEXT NOT NULL,
    recipients TEXT NOT NULL
);
CREATE INDEX deliveries_channel ON deliveries (channel, sent_at);
CREATE TABLE reminders (
    delivery_id INTEGER NOT NULL REFERENCES deliveries (delivery_id),
    item_id INTEGER NOT NULL REFERENCES items (item_id),
    person TEXT NOT NULL,
    PRIMARY KEY (delivery_id, item_id, person)
);
"""

#: Version 3: the calendar a run used, described in English too (the digest in either
#: language says which working days it counted; runs recorded before keep the Chinese one).
_V3 = """
ALTER TABLE runs ADD COLUMN calendar_en TEXT;
"""

#: version -> the SQL that brings a ledger of the version before it to this one.
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3}
SCHEMA_VERSION = max(MIGRATIONS)


def connect(path: str | Path | None, *, in_memory: bool = False,
            create: bool = True) -> sqlite3.Connection:
    """An open ledger at its current schema version.

    path None: a new, empty ledger in memory. in_memory: the file is read (never written:
    opened read-only) and copied into memory, then migrated there. create: make the file when
    it does not exist (else `LedgerError`). The connection runs in autocommit mode: changes
    happen inside `transaction` blocks only.
    """
    if path is None:
        con = _new_connection(":memory:")
        _migrate(con, where="memory")
        return con
    path = Path(path)
    if path.is_dir():
        raise LedgerError(f"{path} is a folder, not a ledger file")
    exists = path.exists()
    if not exists and (in_memory or not create):
        if in_memory and create:       # a dry run on a ledger not made yet
            return connect(None)
        raise LedgerError(f"no ledger at {path}")
    if exists:
        _check_header(path, allow_empty=create and not in_memory)
    if in_memory:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        con = _new_connection(":memory:")
        try:
            source.backup(con)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"cannot read the ledger {path}: {exc}") from None
        finally:
            source.close()
        _migrate(con, where=str(path))
        return con
    try:
        con = _new_connection(str(path))
        con.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open the ledger {path}: {exc}") from None
    _migrate(con, where=str(path))
    return con


def _new_connection(target: str) -> sqlite3.Connection:
    con = sqlite3.connect(target, isolation_level=None, timeout=30.0)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA foreign_keys = ON")
    return con


def _check_header(path: Path, allow_empty: bool) -> None:
    """An existing file must be an SQLite database; an empty one (a first run killed before
    its schema was committed) is made a ledger when it is opened for writing."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise LedgerError(f"cannot read the ledger {path}: {exc.strerror or exc}") from None
    if not head and not allow_empty:
        raise LedgerError(f"{path} is empty: not an officemine ledger")
    if head and head != b"SQLite format 3\x00":
        raise LedgerError(f"{path} is not an officemine ledger (not an SQLite database)")


def schema_version(con: sqlite3.Connection) -> int:
    """The ledger's schema version (0 for an empty database)."""
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"not an officemine ledger: {exc}") from None
    if not tables:
        return 0
    if "meta" not in tables:
        raise LedgerError("an SQLite database, but not an officemine ledger (no meta table)")
    row = con.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
    version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != APPLICATION or version is None:
        raise LedgerError("an SQLite database, but not an officemine ledger")
    try:
        return int(version[0])
    except ValueError:
        raise LedgerError(f"the ledger's schema version {version[0]!r} is not a number") from None


def _migrate(con: sqlite3.Connection, where: str) -> None:
    version = schema_version(con)
    if version > SCHEMA_VERSION:
        raise LedgerError(f"the ledger {where} has schema version {version}, newer than this "
                          f"officemine reads ({SCHEMA_VERSION}): upgrade officemine")
    if version == SCHEMA_VERSION:
        return
    with transaction(con, where):
        version = schema_version(con)        # another process may have migrated meanwhile
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[step]):
                con.execute(statement)
            if step == 1:
                con.execute("INSERT INTO meta VALUES ('application', ?)", (APPLICATION,))
                con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
            else:
                con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                            (str(step),))


def _statements(script: str) -> list[str]:
    """The statements of a migration, run one by one inside the caller's transaction
    (`executescript` would commit first)."""
    return [s.strip() for s in script.split(";") if s.strip()]


@contextmanager
def transaction(con: sqlite3.Connection, where: str = "the ledger") -> Iterator[None]:
    """One write transaction: every change inside commits together or not at all.

    ``BEGIN IMMEDIATE`` takes the write lock at once, so two runs on one ledger do not
    interleave: the second waits (up to 30 s) and then fails with a clear message."""
    try:
        con.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise LedgerError(f"{where} is busy: another run is updating it; try again when "
                              "it has finished") from None
        raise LedgerError(f"cannot write {where}: {exc}") from None
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except sqlite3.Error as exc:
        con.execute("ROLLBACK")
        raise LedgerError(f"cannot write {where}: {exc}") from None
