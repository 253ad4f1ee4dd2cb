"""Report settings (TOML): who the report is for, when redesigns took effect, which SLA and
calendar to use. Every key is optional.

```toml
organisation = "示例单位办公室"
necessity_months = 6               # trailing months the necessity test looks at
[[redesign]]                       # before/after comparison (月度评估的改革前后对比)
date = "2025-07-01"
name = "费用报销取消综合办公室审核"
process_type = "费用报销"           # optional: compare only this process type
sla = "sla/default_sla.toml"       # relative to this file
calendar = "calendar.toml"         # relative to this file
procedures = "procedures.toml"     # standard procedures: 不合规率 and its page (relative)
pseudonym_key_file = "pseudonym.key"   # secret key of the pseudonyms (--pseudonymize),
                                       # relative to this file; readable by its owner only
```

The key itself never goes in this file (settings get shared and committed); without a key file
the key comes from ``OFFICEMINE_PSEUDONYM_KEY`` or is generated (see `officemine.privacy`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from officemine.base.errors import ReportConfigError
from officemine.base.settings import ListOf, Table, Value, json_schema, load

_TEXT = {"type": "string"}
_FILE = {"type": "string", "description": "a file path, relative to this file"}
#: The keys of a report settings file.
SPEC = Table({
    "organisation": Value(_TEXT, "who the report is for, on its cover"),
    "description": Value(_TEXT, "a note for the reader of the file"),
    "necessity_months": Value({"type": "integer", "minimum": 1, "maximum": 36},
                              "trailing months the necessity test looks at"),
    "redesign": ListOf(Table({
        "date": Value({"type": "string", "format": "date"}, "the day it took effect"),
        "name": Value(_TEXT, "what changed"),
        "process_type": Value(_TEXT, "compare only this process type"),
    }, description="a redesign, for the before/after comparison", required=("date",))),
    "sla": Value(_FILE, "service levels (an SLA file)"),
    "calendar": Value(_FILE, "the working calendar (a calendar file)"),
    "procedures": Value(_FILE, "standard procedures (TOML or BPMN)"),
    "pseudonym_key_file": Value(_FILE, "the secret key of the pseudonyms, readable by its "
                                       "owner only"),
}, refused={"pseudonym_key": "a key written in the settings is not secret; put it in a file "
                            "readable only by you and name that file with pseudonym_key_file "
                            "(or set OFFICEMINE_PSEUDONYM_KEY)"})


@dataclass(frozen=True)
class Redesign:
    """A change to the process that took effect on `date` (for the before/after page)."""

    date: dt.date
    name: str
    process_type: str | None = None


@dataclass(frozen=True)
class ReportConfig:
    organisation: str = ""
    necessity_months: int = 6
    redesigns: tuple[Redesign, ...] = ()
    sla_path: Path | None = None
    calendar_path: Path | None = None
    pseudonym_key_file: Path | None = None
    procedures_path: Path | None = None
    path: Path | None = field(default=None, compare=False)

    @classmethod
    def from_toml(cls, path: str | Path) -> "ReportConfig":
        """Read and check a report settings file; every problem is listed in one
        `ReportConfigError`."""
        path = Path(path)
        return cls._build(load(path, SPEC, error=ReportConfigError, what="report settings file"),
                          path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: str | Path = ".") -> "ReportConfig":
        """Report settings from the structure the file holds; paths in it are relative to
        `base`."""
        return cls._build(load(data, SPEC, error=ReportConfigError), None, Path(base))

    @classmethod
    def _build(cls, loaded, path: Path | None, base: Path | None = None) -> "ReportConfig":
        data, problems = loaded.data, loaded.problems
        redesigns = []
        for i, item in enumerate(data.get("redesign", []), start=1):
            try:
                date = item["date"] if isinstance(item["date"], dt.date) else \
                    dt.date.fromisoformat(str(item["date"]))
                redesigns.append(Redesign(date, str(item.get("name", f"改革 {i}")),
                                          item.get("process_type")))
            except (KeyError, ValueError, TypeError):
                problems.add('needs date = "YYYY-MM-DD"', "redesign", i, "date")
        months = data.get("necessity_months", 6)
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 36:
            problems.add("must be a whole number of months, 1–36", "necessity_months")
        base = path.parent if path is not None else base
        paths = {}
        for key in ("sla", "calendar", "pseudonym_key_file", "procedures"):
            if key in data:
                if not isinstance(data[key], str):
                    problems.add("must be a file path in quotes", key)
                    continue
                p = (base / data[key]).resolve()
                if not p.exists():
                    problems.add(f"file not found: {p}", key, code="missing-file")
                paths[key] = p
        loaded.raise_if_any(source=str(path) if path is not None else None)
        return cls(organisation=str(data.get("organisation", "")), necessity_months=months,
                   redesigns=tuple(redesigns), sla_path=paths.get("sla"),
                   calendar_path=paths.get("calendar"),
                   pseudonym_key_file=paths.get("pseudonym_key_file"),
                   procedures_path=paths.get("procedures"), path=path)

    @staticmethod
    def json_schema() -> dict:
        """The JSON schema of a report settings file (TOML maps onto it one to one)."""
        return json_schema(SPEC, title="officemine report settings (report.toml)")
