"""Stable pseudonyms for the people in a log, so reports can be shared without names.

A person's pseudonym is a keyed hash of their name: the same person gets the same pseudonym
in every report made with the same key (month after month), different keys give unlinkable
pseudonyms, and nothing leaves the machine. Names are replaced in the person columns and
wherever they appear inside free text (titles, comments).
"""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd
import pyarrow as pa

from officemine.eventlog import EventLog
from officemine.schema import C

PERSON_COLUMNS = (C.resource, C.applicant)
TEXT_COLUMNS = (C.title, C.comment)
DEFAULT_KEY = "officemine"
#: names the system writes for itself are not people
NOT_PEOPLE = frozenset({"系统", "system", "SYSTEM", "STAFF MEMBER", "自动", "admin"})


def pseudonym(name: str, key: str = DEFAULT_KEY, prefix: str = "人员") -> str:
    """``人员-3F9A2C``: six hex digits of HMAC-SHA256(key, name)."""
    digest = hmac.new(key.encode("utf-8"), name.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:6].upper()}"


def pseudonymize(log: EventLog, key: str = DEFAULT_KEY, prefix: str = "人员") -> EventLog:
    """A copy of `log` with every person replaced by a stable pseudonym.

    People are the values of the resource and applicant columns (and any extra columns named
    like them); their names are also replaced inside titles and comments.
    """
    df = log.to_pandas()
    person_cols = [c for c in df.columns if c in PERSON_COLUMNS or c.endswith(("_resource",))]
    names = pd.unique(pd.concat([df[c].dropna().astype(str) for c in person_cols]))
    names = [n for n in names if n.strip() and n not in NOT_PEOPLE]
    table = {n: pseudonym(n, key, prefix) for n in names}
    for column in person_cols:
        df[column] = df[column].map(lambda v: table.get(v, v) if isinstance(v, str) else v)
    if table:
        # longest first, so 王小明 is replaced before 王小
        pattern = re.compile("|".join(re.escape(n) for n in sorted(table, key=len, reverse=True)))
        for column in TEXT_COLUMNS:
            if column in df:
                df[column] = df[column].str.replace(pattern, lambda m: table[m.group(0)],
                                                    regex=True)
    table_arrow = pa.Table.from_pandas(df, schema=log.to_arrow().schema, preserve_index=False)
    return EventLog(table_arrow, timezone=log.timezone, report=log.report, mapping=log.mapping,
                    path=None, calendar=log.calendar)
