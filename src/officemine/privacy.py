"""Pseudonyms for the people in a log, so a report can be shared without their names.

A person's pseudonym is HMAC-SHA256 of their name under a secret key, written ``人员-7f3a9c2e41b0``
(48 bits): the same person gets the same pseudonym in every report made with the same key, so
month-to-month reports stay comparable; without the key nobody can compute the pseudonym of a
name on a staff list, and pseudonyms made under two keys cannot be linked. There is no
built-in key. It comes, first found first, from a key file given with ``--pseudonym-key``, the
environment variable ``OFFICEMINE_PSEUDONYM_KEY``, the report settings' ``pseudonym_key_file``,
or the key stored in ``~/.config/officemine/pseudonym.key`` (``$OFFICEMINE_CONFIG_DIR`` if set),
which is generated on first use, readable by its owner only.

People are the values of the person columns: resource, applicant, every extra column whose
header names people (抄送人, 代理人, cc, delegate …) and every extra column whose values are
mostly known names. Their names are then replaced wherever they occur in any text the log
carries: titles, comments, node names (DingTalk calls a node with no name ``审批人 <name>``),
departments, case ids, the source file name, the import report (unknown outcome words, notes,
warnings) and the set-aside rows. The work is per distinct value, never per row.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.base.errors import PseudonymCollisionError, PseudonymKeyError, WrongTypeError
from officemine.log.eventlog import EventLog
from officemine.log.import_report import ImportReport
from officemine.log.schema import C, normalize_word
from officemine.base.choices import Lang
from officemine.base.text import Said, joined, label, say, word

#: environment variable holding the key itself
KEY_ENV = "OFFICEMINE_PSEUDONYM_KEY"
#: environment variable naming the folder of the stored key (default ~/.config/officemine)
CONFIG_DIR_ENV = "OFFICEMINE_CONFIG_DIR"
KEY_FILE_NAME = "pseudonym.key"
#: shortest key accepted from a user: a shorter one could be guessed, and with it every name
MIN_KEY_CHARS = 16
#: hex digits of the HMAC in a pseudonym (48 bits: no collisions among any staff list)
DIGITS = 12

PERSON_COLUMNS = (C.resource, C.applicant)
#: columns with a closed vocabulary: never text from the source, never scanned
CODE_COLUMNS = frozenset({C.outcome, C.arrival_source, C.visit_source})
#: names the system writes for itself are not people (compared after `normalize_word`)
NOT_PEOPLE = frozenset(normalize_word(w) for w in (
    "系统", "system", "STAFF MEMBER", "自动", "admin", "管理员", "系统管理员", "机器人", "robot",
    "bot", "未知", "unknown", "无", "none", "null", "nan", "-", "—"))
#: headers of extra columns that hold people: Chinese headers ending so, or naming cc lists
_PERSON_HEADER_ENDS = ("人", "人员", "姓名", "人名", "者", "用户")
_PERSON_HEADERS = frozenset(normalize_word(w) for w in (
    "抄送", "抄送对象", "知会", "知会对象", "传阅", "传阅对象", "会签", "签收"))
#: words in English headers of extra columns that hold people
_PERSON_WORDS = frozenset((
    "cc", "bcc", "delegate", "delegator", "delegatee", "assignee", "assignees", "approver",
    "approvers", "reviewer", "reviewers", "operator", "handler", "agent", "proxy", "creator",
    "initiator", "applicant", "requester", "participant", "participants", "user", "userid",
    "username", "users", "owner", "person", "staff", "employee", "resource", "actor", "performer",
    "submitter", "notifyer", "notifier", "recipient", "recipients", "signer", "signatory"))
#: share of an extra column's distinct values that must be known names for it to hold people
PERSON_VALUE_SHARE = 0.5
#: separators between several people in one cell (抄送人: 张三、李四)
_SEPARATORS = re.compile(r"([,，、;；|/\n\t]+)")
_CJK = re.compile(r"[\u3400-\u9fff]")
#: distinct values of an extra column looked at to decide whether it holds people
_SAMPLE = 20_000

KeySource = Literal["file", "environment", "settings", "stored", "generated", "one-off"]


# --- the key ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PseudonymKey:
    """The secret behind the pseudonyms, and where it came from (a code, never a path: the
    path to a user's config folder can carry their name)."""

    secret: bytes = field(repr=False)
    source: KeySource
    #: where a key generated just now was stored (the CLI tells the user)
    stored_at: Path | None = field(default=None, compare=False)

    @classmethod
    def from_text(cls, text: str, source: KeySource, where: str) -> "PseudonymKey":
        """A key from user text; `where` names it in errors (a file, the variable)."""
        text = text.strip()
        if len(text) < MIN_KEY_CHARS:
            raise PseudonymKeyError(
                f"the pseudonym key in {where} is {'empty' if not text else 'too short'}: "
                f"use at least {MIN_KEY_CHARS} random characters (for example the output of "
                "`python -c \"import secrets; print(secrets.token_hex(32))\"`)")
        return cls(text.encode("utf-8"), source)

    @classmethod
    def one_off(cls) -> "PseudonymKey":
        """A random key kept in memory only: pseudonyms that match no other report."""
        return cls(secrets.token_hex(32).encode("ascii"), "one-off")

    @property
    def fingerprint(self) -> str:
        """Eight hex digits that tell keys apart without revealing them (two reports with
        the same fingerprint have comparable pseudonyms)."""
        return hmac.new(self.secret, b"officemine pseudonym key fingerprint",
                        hashlib.sha256).hexdigest()[:8]

    def pseudonym(self, name: str, prefix: str = "人员") -> str:
        """``人员-7f3a9c2e41b0``: the first 12 hex digits of HMAC-SHA256(key, name)."""
        digest = hmac.new(self.secret, name.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:DIGITS]}"


def key_file_location() -> Path:
    """Where the generated key is stored: ``$OFFICEMINE_CONFIG_DIR/pseudonym.key``, else the
    user's config folder (``$XDG_CONFIG_HOME`` or ``~/.config``; ``%APPDATA%`` on Windows)."""
    folder = os.environ.get(CONFIG_DIR_ENV)
    if folder:
        return Path(folder) / KEY_FILE_NAME
    if os.name == "nt" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "officemine" / KEY_FILE_NAME


def load_key(path: str | Path | None = None, *,
             settings_file: str | Path | None = None) -> PseudonymKey:
    """The pseudonym key, first found first: the key file `path` (``--pseudonym-key``), the
    environment variable ``OFFICEMINE_PSEUDONYM_KEY``, the key file `settings_file` named in
    the report settings, the stored key — generated and stored (owner-only) on first use."""
    if path is not None:
        return _read_key_file(Path(path), "file")
    if os.environ.get(KEY_ENV) is not None:
        return PseudonymKey.from_text(os.environ[KEY_ENV], "environment",
                                      f"the environment variable {KEY_ENV}")
    if settings_file is not None:
        return _read_key_file(Path(settings_file), "settings")
    stored = key_file_location()
    if stored.exists():
        return _read_key_file(stored, "stored")
    return _generate(stored)


def _read_key_file(path: Path, source: KeySource) -> PseudonymKey:
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes()
    except OSError as exc:
        raise PseudonymKeyError(f"cannot read the pseudonym key file {path}: "
                                f"{exc.strerror or exc}") from None
    if os.name == "posix" and mode & 0o077:
        raise PseudonymKeyError(
            f"the pseudonym key file {path} can be read by other users (mode "
            f"{mode & 0o777:o}); make it private with `chmod 600 {path}`")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PseudonymKeyError(f"the pseudonym key file {path} is not UTF-8 text") from None
    return PseudonymKey.from_text(text, source, str(path))


def _generate(path: Path) -> PseudonymKey:
    """A new random key, stored at `path` readable by its owner only. Written to a private
    temporary file and linked into place, so a key file is never seen half written and two
    first runs at once end with one key (the second reads the first's)."""
    text = secrets.token_hex(32)
    try:
        fresh = not path.parent.exists()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if fresh and os.name == "posix":
            path.parent.chmod(0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pseudonym-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:   # mkstemp: mode 0600
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return _read_key_file(path, "stored")
            except OSError:             # a file system without hard links
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(text + "\n")
        finally:
            os.unlink(tmp)
    except FileExistsError:
        return _read_key_file(path, "stored")
    except OSError as exc:
        raise PseudonymKeyError(
            f"no pseudonym key was given and none could be stored at {path}: "
            f"{exc.strerror or exc}; give one with --pseudonym-key FILE or {KEY_ENV}") from None
    return PseudonymKey(text.encode("ascii"), "generated", stored_at=path)


def pseudonym(name: str, key: PseudonymKey, prefix: str = "人员") -> str:
    """The pseudonym of one name under `key` (``人员-`` + 12 hex digits)."""
    return key.pseudonym(name, prefix)


# --- replacing names in text ------------------------------------------------------------------

def _scannable(name: str) -> bool:
    """Whether a name is looked for inside longer text: one character (a surname alone) or a
    short number would rewrite ordinary words and figures; such values are replaced only
    where they are a whole person cell."""
    return len(name) >= 2 and not (name.isdigit() and len(name) < 4)


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _trie_pattern(names: Iterable[str]) -> str:
    """One regular expression matching any of `names`, longest first, as a trie (names that
    share a surname share a branch), so Python's engine scans text for their first
    characters in C instead of trying each name at each position.

    Chinese text has no spaces, so a Chinese name is found anywhere; a name that starts or
    ends with a Latin letter or digit (Anna, a user id 10862) only where no other letter or
    digit touches it, so Anna is not found in Annabel nor 10862 in case 2108620."""
    trie: dict = {}
    for name in names:
        node = trie
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict, last: str) -> str:
        branches = [re.escape(ch) + build(child, ch) for ch, child in sorted(node.items()) if ch]
        if "" in node:               # a name ends here: after every longer one (greedy)
            branches.append("(?![0-9A-Za-z])" if _word_char(last) else "")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    # the start condition sits after the first character, so that every branch still starts
    # with a literal and the engine keeps its fast scan for first characters
    return "|".join(re.escape(ch) + ("(?<![0-9A-Za-z].)" if _word_char(ch) else "")
                    + build(child, ch) for ch, child in sorted(trie.items()))


def _re2_literal(text: str) -> str:
    """`text` as a literal in RE2 syntax (pyarrow's regular expressions), also inside a
    character class: ASCII punctuation is written as a code point."""
    return "".join(f"\\x{{{ord(ch):x}}}" if ch.isascii() and not ch.isalnum() else ch
                   for ch in text)


class Replacer:
    """Replaces a fixed set of person names by their pseudonyms, in any text."""

    def __init__(self, names: Iterable[str], key: PseudonymKey, prefix: str = "人员") -> None:
        self.table: dict[str, str] = {n: key.pseudonym(n, prefix) for n in names}
        if len(set(self.table.values())) < len(self.table):
            raise PseudonymCollisionError("two names got the same pseudonym (about 1 in 5 million "
                                  "for 10,000 names): use another key")
        scanned = [n for n in self.table if _scannable(n)]
        self._pattern = re.compile(_trie_pattern(scanned)) if scanned else None
        # the characters names start with, as one RE2 class: pyarrow finds the values that
        # may hold a name in C++ (an alternation of every name would make RE2 give up its
        # DFA and take a minute on a million values)
        self._first = ("[" + "".join(sorted({_re2_literal(n[0]) for n in scanned})) + "]"
                       if scanned else None)
        self._exact = pa.array(list(self.table), pa.large_string())

    def __repr__(self) -> str:        # never the names
        return f"<Replacer of {len(self.table):,} names>"

    def text(self, value: Any) -> Any:
        """`value` with every name in it replaced (non-text values unchanged)."""
        if not isinstance(value, str):
            return value
        whole = self.table.get(value.strip())
        if whole is not None:
            return whole
        if self._pattern is None:
            return value
        return self._pattern.sub(lambda m: self.table[m.group(0)], value)

    def person_cell(self, value: Any) -> Any:
        """A cell of a person column: each person in it (张三、李四) replaced, and any name
        left inside longer text."""
        if not isinstance(value, str):
            return value
        parts = _SEPARATORS.split(value)
        return "".join(p if i % 2 else self.text(p) for i, p in enumerate(parts))

    def settings(self, value: Any) -> Any:
        """Every text in nested dicts, lists and tuples replaced (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.settings(k): self.settings(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.settings(v) for v in value)
        return value

    def column(self, column: pa.ChunkedArray, person: bool = False) -> tuple[pa.ChunkedArray, int]:
        """A text column with names replaced, and how many distinct values changed.

        Per distinct value: pyarrow picks the values that are a name or hold a character a
        name starts with (in C++); only those are rewritten in Python, then the rows take
        their new values by index."""
        arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if pa.types.is_dictionary(arr.type):
            dictionary, indices = arr.dictionary, arr.indices
        else:
            encoded = pc.dictionary_encode(arr)
            dictionary, indices = encoded.dictionary, encoded.indices
        text_type = dictionary.type
        if not pa.types.is_large_string(text_type):
            dictionary = dictionary.cast(pa.large_string())
        mask = pc.is_in(pc.utf8_trim_whitespace(dictionary), value_set=self._exact)
        if person:
            mask = pc.or_(mask, pc.match_substring_regex(dictionary, _SEPARATORS.pattern))
        if self._first is not None:
            mask = pc.or_(mask, pc.match_substring_regex(dictionary, self._first))
        mask = pc.fill_null(mask, False)
        candidates = dictionary.filter(mask).to_pylist()
        rewrite = self.person_cell if person else self.text
        new = [rewrite(v) for v in candidates]
        changed = sum(a != b for a, b in zip(candidates, new))
        if not changed:
            return column, 0
        dictionary = pc.replace_with_mask(dictionary, mask, pa.array(new, pa.large_string()))
        out = dictionary.take(indices)
        if pa.types.is_dictionary(arr.type):
            out = pc.dictionary_encode(out).cast(arr.type)
        elif out.type != arr.type:
            out = out.cast(arr.type)
        return pa.chunked_array([out]), changed


# --- which columns hold people ----------------------------------------------------------------

def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or (
        hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t))


def is_person_header(header: str) -> bool:
    """Whether a column's header says it holds people (抄送人, 代理人, 经办人, cc, delegate …)."""
    word = normalize_word(header)
    if not word:
        return False
    if word in _PERSON_HEADERS or word.endswith(_PERSON_HEADER_ENDS):
        return True
    return any(token in _PERSON_WORDS for token in word.split())


def _people_in(value: str) -> list[str]:
    """The people in one cell: split at list separators (and at spaces between Chinese
    names, but not inside a Latin name such as 'Anna Lee')."""
    out = []
    for part in _SEPARATORS.split(value)[::2]:
        part = part.strip()
        if not part:
            continue
        if " " in part and _CJK.search(part):
            out += part.split()
        else:
            out.append(part)
    return out


def _distinct_text(table: pa.Table, column: str, limit: int | None = None) -> list[str]:
    values = pc.unique(table.column(column).combine_chunks())
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    values = values.drop_null()
    if limit is not None:
        values = values.slice(0, limit)
    return [v for v in values.to_pylist() if isinstance(v, str)]


# --- the result -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pseudonymization:
    """What pseudonymising a log did: the pseudonymised log, the columns whose values are
    people, how many names were replaced, and what text was scanned for them.

    `replacer` turns any other text (report settings, scenarios) the same way, so settings
    that name process types or nodes still match the pseudonymised log.
    """

    log: EventLog = field(repr=False)
    key_source: KeySource
    key_fingerprint: str
    prefix: str                              # pseudonyms are prefix-<12 hex digits>
    person_columns: tuple[str, ...]         # by name or header: resource, applicant, 抄送人 …
    person_columns_by_values: tuple[str, ...]   # extra columns whose values are mostly names
    names: int                               # distinct person names replaced
    scanned_columns: tuple[str, ...]         # every text column, scanned for the names
    changed_values: Mapping[str, int]        # column -> distinct values rewritten
    metadata: tuple[str, ...]                # import-report fields and rows scanned too
    replacer: Replacer = field(repr=False, compare=False)
    #: the files the original log came from (never rendered; writers must not overwrite them)
    sources: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def text(self, value: Any) -> Any:
        return self.replacer.text(value)

    def to_dict(self) -> dict:
        return {"key_source": self.key_source, "key_fingerprint": self.key_fingerprint,
                "method": f"{self.prefix}- and {DIGITS} hex digits of HMAC-SHA256(key, name)",
                "person_columns": list(self.person_columns),
                "person_columns_by_values": list(self.person_columns_by_values),
                "names": self.names, "scanned_columns": list(self.scanned_columns),
                "changed_values": dict(self.changed_values), "metadata": list(self.metadata)}

    @property
    def summary(self) -> pd.DataFrame:
        """One row per text column and import-report field: whether it holds people, and
        how many of its distinct values changed."""
        rows = [{"where": c,
                 "holds": ("people_by_values" if c in self.person_columns_by_values else
                           "people" if c in self.person_columns else "text"),
                 "distinct_values_changed": int(self.changed_values.get(c, 0))}
                for c in self.scanned_columns]
        rows += [{"where": f"import_report.{m}", "holds": "text",
                  "distinct_values_changed": None} for m in self.metadata]
        return pd.DataFrame(rows)

    def describe(self, lang: Lang = "en") -> str:
        """One paragraph for the report's data-quality notes."""
        columns = (lambda cols: joined((label(c, lang) for c in cols), lang))
        return say(
            "privacy.done", lang, names=self.names, people=columns(self.person_columns),
            by_values=(say("privacy.by_values", lang,
                           columns=columns(self.person_columns_by_values))
                       if self.person_columns_by_values else ""),
            prefix=self.prefix, digits=DIGITS, columns=len(self.scanned_columns),
            changed=sum(1 for c in self.scanned_columns if self.changed_values.get(c)),
            metadata=joined((word("import_report_field", m, lang) for m in self.metadata),
                            lang),
            source=word("key_source", self.key_source, lang), fingerprint=self.key_fingerprint)


# --- pseudonymising a log ---------------------------------------------------------------------

def pseudonymization(log: EventLog, key: PseudonymKey | None = None,
                     prefix: str = "人员") -> Pseudonymization:
    """Pseudonymise `log` (see the module docstring) and say what was done.

    key: default `load_key()` (generated and stored on first use).
    """
    key = key if key is not None else load_key()
    if not isinstance(key, PseudonymKey):
        raise WrongTypeError(f"key must be a PseudonymKey (load_key(), PseudonymKey.from_text(…)), "
                        f"not {type(key).__name__}")
    table = log.to_arrow()
    text_columns = [f.name for f in table.schema
                    if _is_text(f.type) and f.name not in CODE_COLUMNS]
    extra = set(log.extra_columns)
    by_header = [c for c in text_columns if c in PERSON_COLUMNS
                 or (c in extra and is_person_header(c))]
    names: set[str] = set()
    for column in by_header:
        for value in _distinct_text(table, column):
            names.update(_people_in(value))
    # roles and units, not people: a shared account named like a department, node or process
    roles = set()
    for column in (C.dept, C.applicant_dept, C.node, C.process_type):
        if column in table.column_names:
            roles.update(v.strip() for v in _distinct_text(table, column))
    names = {n for n in names if normalize_word(n) not in NOT_PEOPLE and n not in roles}
    by_values = []
    for column in text_columns:
        if column in by_header or column not in extra:
            continue
        cells = _distinct_text(table, column, _SAMPLE)
        tokens = {t for v in cells for t in _people_in(v)}
        if tokens and len(tokens & names) >= PERSON_VALUE_SHARE * len(tokens):
            by_values.append(column)
            names.update(t for t in tokens if normalize_word(t) not in NOT_PEOPLE
                         and t not in roles)
    replacer = Replacer(sorted(names), key, prefix)
    person = set(by_header) | set(by_values)
    changed: dict[str, int] = {}
    for column in text_columns:
        if column == C.source_file and not pa.types.is_dictionary(table.schema.field(column).type):
            # its directories could name the user: the file name only
            values = table.column(column)
            base = pc.replace_substring_regex(values, r"^.*[\\/]", "")
            table = table.set_column(table.schema.get_field_index(column),
                                     table.schema.field(column), base)
        new, n = replacer.column(table.column(column), person=column in person)
        if n:
            changed[column] = n
            table = table.set_column(table.schema.get_field_index(column),
                                     table.schema.field(column), new)
    report, metadata = _report(log.report, replacer)
    set_aside = _frame(log.set_aside, replacer)
    out = EventLog(table, timezone=log.timezone, report=report,
                   mapping=replacer.settings(log.mapping), set_aside=set_aside, path=None,
                   calendar=log.calendar,
                   # renamed case ids may sort differently: then order and visits are derived again
                   _derived=C.case_id not in changed)
    if set_aside is not None and len(set_aside):
        metadata += ("set_aside_rows",)
    return Pseudonymization(
        log=out, key_source=key.source, key_fingerprint=key.fingerprint, prefix=prefix,
        person_columns=tuple(by_header), person_columns_by_values=tuple(by_values),
        names=len(names), scanned_columns=tuple(text_columns), changed_values=changed,
        metadata=metadata, replacer=replacer,
        sources=tuple(str(s) for s in (log.path, *(
            (log.report.source_file, log.report.set_aside_file) if log.report else ()))
            if s))


def pseudonymize(log: EventLog, key: PseudonymKey | None = None,
                 prefix: str = "人员") -> EventLog:
    """A copy of `log` with every person replaced by a stable pseudonym, in every text.

    key: default `load_key()`. `pseudonymization` also says what was done.
    """
    return pseudonymization(log, key, prefix).log


def file_name(path: str) -> str:
    """The last part of a path written with / or \\ (directories can name the user)."""
    return re.split(r"[\\/]", path)[-1] or path


def _renamed(text: str, replacer: Replacer) -> str:
    """`text` with names replaced: a `Said` keeps its code, its parameters replaced."""
    if isinstance(text, Said):
        return Said(text.key, **{k: _renamed(v, replacer) if isinstance(v, str) else
                                 [_renamed(x, replacer) if isinstance(x, str) else x for x in v]
                                 if isinstance(v, list) else v
                                 for k, v in text.params.items()})
    return replacer.text(text)


def _report(report: ImportReport | None, replacer: Replacer) -> tuple[ImportReport | None,
                                                                      tuple[str, ...]]:
    """The import report with names replaced in every text it holds; the fields scanned."""
    if report is None:
        return None, ()
    data = report.to_dict()
    data["source_file"] = replacer.text(file_name(report.source_file))
    if report.set_aside_file:
        data["set_aside_file"] = replacer.text(file_name(report.set_aside_file))
    words: dict[str, int] = {}
    for said, count in report.unknown_outcome_words.items():
        new = replacer.text(said)
        words[new] = words.get(new, 0) + count
    data["unknown_outcome_words"] = words
    data["columns_used"] = replacer.settings(report.columns_used)
    notes = [_renamed(n, replacer) for n in report.notes]
    warnings = [_renamed(w, replacer) for w in report.warnings]
    data["notes"], data["warnings"] = [str(n) for n in notes], [str(w) for w in warnings]
    data["said"] = {"notes": [n.to_dict() if isinstance(n, Said) else None for n in notes],
                    "warnings": [w.to_dict() if isinstance(w, Said) else None for w in warnings]}
    return ImportReport.from_dict(data), ("source_file", "unknown_outcome_words",
                                          "columns_used", "notes", "warnings")


def _frame(frame: pd.DataFrame | None, replacer: Replacer) -> pd.DataFrame | None:
    """A copy of a DataFrame (the set-aside rows) with names replaced in its text columns."""
    if frame is None:
        return None
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or isinstance(frame[column].dtype, pd.StringDtype):
            values = frame[column]
            if column == C.source_file:
                values = values.map(file_name, na_action="ignore")
            distinct = pd.unique(values.dropna())
            lookup = {v: replacer.person_cell(v) for v in distinct}
            frame[column] = values.map(lookup, na_action="ignore").astype(frame[column].dtype)
    return frame


__all__ = ["PseudonymKey", "PseudonymKeyError", "Pseudonymization", "Replacer", "load_key",
           "key_file_location", "pseudonym", "pseudonymization", "pseudonymize",
           "is_person_header", "KEY_ENV", "CONFIG_DIR_ENV"]
