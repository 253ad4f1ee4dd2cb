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
from pathlib import Path

from officemine.errors import OfficemineError
from officemine.tomlfile import read_toml

_KEYS = {"organisation", "necessity_months", "redesign", "sla", "calendar",
         "pseudonym_key_file", "description", "procedures"}


class ReportConfigError(OfficemineError):
    """A report settings file is malformed; the message lists every problem."""


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
        path = Path(path)
        data = read_toml(path, "report settings file", ReportConfigError)
        problems = [f"unknown key {k!r} (allowed: {', '.join(sorted(_KEYS))})"
                    for k in sorted(set(data) - _KEYS - {"pseudonym_key"})]
        if "pseudonym_key" in data:
            problems.append("pseudonym_key: a key written in the settings is not secret; put it "
                            "in a file readable only by you and name that file with "
                            "pseudonym_key_file (or set OFFICEMINE_PSEUDONYM_KEY)")
        redesigns = []
        for i, item in enumerate(data.get("redesign", []), start=1):
            try:
                date = item["date"] if isinstance(item["date"], dt.date) else \
                    dt.date.fromisoformat(str(item["date"]))
                redesigns.append(Redesign(date, str(item.get("name", f"改革 {i}")),
                                          item.get("process_type")))
            except (KeyError, ValueError, TypeError):
                problems.append(f"[[redesign]] #{i}: needs date = \"YYYY-MM-DD\"")
        months = data.get("necessity_months", 6)
        if not isinstance(months, int) or not 1 <= months <= 36:
            problems.append("necessity_months must be a whole number of months, 1–36")
        base = path.parent
        paths = {}
        for key in ("sla", "calendar", "pseudonym_key_file", "procedures"):
            if key in data:
                if not isinstance(data[key], str):
                    problems.append(f"{key} must be a file path in quotes")
                    continue
                p = (base / data[key]).resolve()
                if not p.exists():
                    problems.append(f"{key} file not found: {p}")
                paths[key] = p
        if problems:
            raise ReportConfigError(f"{path} has {len(problems)} problem(s):\n  - "
                                    + "\n  - ".join(problems))
        return cls(organisation=str(data.get("organisation", "")), necessity_months=months,
                   redesigns=tuple(redesigns), sla_path=paths.get("sla"),
                   calendar_path=paths.get("calendar"),
                   pseudonym_key_file=paths.get("pseudonym_key_file"),
                   procedures_path=paths.get("procedures"), path=path)
