"""Service levels (限时办结时限): how many working days each process type may take.

An :class:`SLA` holds a default limit and per-process-type limits, in working days of the
working calendar (one working day = the calendar's office hours, 7 h by default). The monthly
KPIs measure the on-time rate (限时办结率) against it and the overdue ledger (督办清单) lists
open cases past it.

The built-in defaults (:meth:`SLA.default`) are embedded here, because an installed package
cannot rely on files at the repository root; ``sla/default_sla.toml`` in the repository is the
documented example that equals them (a test keeps the two in step) and the file to copy when
an office sets its own limits. They are defaults to adjust, not rules:

>>> sla = SLA.default()
>>> sla.limit("合同审批"), sla.limit("某个新流程")
(10.0, 5.0)
>>> SLA.from_dict({"limits": {"费用报销": 3}}).limit("费用报销")   # merged over the defaults
3.0
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from officemine.base.errors import SLAError
from officemine.base.settings import MapOf, Table, Value, json_schema, load
from officemine.base.choices import Lang
from officemine.base.text import joined, say

__all__ = ["SLA", "SLAError", "DEFAULT_LIMITS", "DEFAULT_LIMIT"]

#: Working days any process type not listed may take.
DEFAULT_LIMIT: float = 5.0
#: The name of officemine's own limits (`describe` says it in the reader's language).
DEFAULT_NAME = "officemine 默认时限"
#: Built-in per-process-type limits in working days: common 限时办结 practice in Chinese public
#: bodies and SOEs (see sla/default_sla.toml for where each figure comes from). Defaults to
#: adjust to the office's own 限时办结制度.
DEFAULT_LIMITS: Mapping[str, float] = MappingProxyType({
    "费用报销": 5.0,
    "合同审批": 10.0,
    "发文": 5.0,
    "收文": 3.0,
    "用印": 2.0,
    "会议申请": 2.0,
})
#: Longest limit accepted: a year of working days; anything longer is almost surely a typo
#: (hours or calendar days written as working days).
MAX_LIMIT = 250.0
_LIMIT = Value({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_LIMIT},
               "working days (one = the calendar's office hours)")
#: The keys of an SLA file.
SPEC = Table({
    "name": Value({"type": "string"}, "where the limits come from"),
    "limits": MapOf(_LIMIT, "process type = working days; 'default' for process types not "
                            "listed", fixed={"default": _LIMIT}),
})


@dataclass(frozen=True)
class SLA:
    """Working-day limits per process type, with a default for types not listed.

    default_limit:
        Working days a process type without its own entry may take.
    limits:
        Process type -> working days (positive; fractions allowed, 0.5 = half a day).
    name:
        Where the limits come from, shown next to every on-time rate.

    Construction validates everything and raises one :class:`SLAError` listing every problem.
    """

    default_limit: float = DEFAULT_LIMIT
    limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    name: str = DEFAULT_NAME

    def __post_init__(self) -> None:
        problems: list[str] = []
        default = _check_limit("default", self.default_limit, problems)
        clean: dict[str, float] = {}
        if not isinstance(self.limits, Mapping):
            problems.append(f"limits must be a table of process type = working days, "
                            f"not {type(self.limits).__name__}")
        else:
            for key, value in self.limits.items():
                if not isinstance(key, str) or not key.strip():
                    problems.append(f"process type {key!r} must be a non-empty string")
                    continue
                if key.strip() == "default":
                    problems.append("'default' is the fallback limit, not a process type "
                                    "(use default_limit)")
                    continue
                if key.strip() in clean:
                    problems.append(f"process type {key.strip()!r} is listed twice")
                    continue
                limit = _check_limit(key, value, problems)
                if limit is not None:
                    clean[key.strip()] = limit
        if not isinstance(self.name, str):
            problems.append(f"name must be a string, not {type(self.name).__name__}")
        if problems:
            raise SLAError(problems)
        object.__setattr__(self, "default_limit", default)
        object.__setattr__(self, "limits", MappingProxyType(dict(sorted(clean.items()))))

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def default(cls) -> SLA:
        """The built-in limits (equal to ``sla/default_sla.toml``): defaults to adjust."""
        return cls()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, merge: bool = True, base: SLA | None = None,
                  source: str = "") -> SLA:
        """Build from ``{"name": …, "limits": {"default": 5, "费用报销": 5, …}}``.

        merge: merge the data over `base` (default base: the built-in defaults), so process
        types it does not list keep their limit; ``merge=False`` keeps only what the data says
        (a missing ``limits.default`` is then `DEFAULT_LIMIT`). Every problem (unknown keys,
        non-numbers, non-positive or absurd limits) is listed in one :class:`SLAError`.
        """
        if not isinstance(data, Mapping):
            where = f"{source}: " if source else ""
            raise SLAError(f"{where}an SLA must be a table, not {type(data).__name__}")
        return cls._build(load(data, SPEC, error=SLAError, name=source or None), merge=merge,
                          base=base)

    @classmethod
    def from_toml(cls, path: str | Path, *, base: SLA | None = None,
                  merge: bool = True) -> SLA:
        """Read an SLA file: ``name = "…"`` and ``[limits]`` with ``default = 5``, ``费用报销 = 5``.

        By default the file is merged over the built-in defaults (process types it does not
        list keep their built-in limit); ``merge=False`` uses the file alone.
        """
        return cls._build(load(path, SPEC, error=SLAError, what="SLA file"), merge=merge,
                          base=base)

    @classmethod
    def _build(cls, loaded, *, merge: bool, base: SLA | None) -> SLA:
        """The SLA a loaded file (or dict) says, its values checked; every problem raised."""
        data, problems, source = loaded.data, loaded.problems, loaded.source or ""
        base = (base or cls.default()) if merge else None
        raw = data.get("limits", {})
        if not isinstance(raw, Mapping):
            problems.add("must be a table like `费用报销 = 5`", "limits")
            raw = {}
        limits = dict(base.limits) if base is not None else {}
        default = base.default_limit if base is not None else DEFAULT_LIMIT
        new = {k: v for k, v in raw.items() if k != "default"}
        limits.update(new)
        if "default" in raw:
            default = raw["default"]
        name = data.get("name")
        if name is None:
            name = (f"{source} (over {base.name})" if source and base is not None
                    else source or (base.name if base is not None else ""))
        try:
            sla = cls(default_limit=default, limits=limits, name=name)
        except SLAError as err:
            problems.extend(p.message for p in err.problems)
            sla = None
        loaded.raise_if_any(source=source or None)
        return sla

    # --- use ------------------------------------------------------------------------------------
    def limit(self, process_type: str | None) -> float:
        """Working days allowed for one process type (the default when it has no entry)."""
        if process_type is None:
            return self.default_limit
        return self.limits.get(str(process_type).strip(), self.default_limit)

    def limits_for(self, process_types: Any) -> np.ndarray:
        """Working-day limit of each element (vectorised over a Series/array of types)."""
        s = pd.Series(process_types, dtype="object")
        out = s.map(self.limits).astype(float)   # a dict lookup: types not listed give NaN
        return out.fillna(self.default_limit).to_numpy(dtype=float)

    def uses_default(self, process_types: Any) -> list[str]:
        """The process types among ``process_types`` that have no limit of their own."""
        seen = pd.Series(process_types, dtype="object").dropna().unique()
        return sorted(str(p) for p in seen if str(p) not in self.limits)

    # --- description ----------------------------------------------------------------------------
    def describe(self, lang: Lang = "zh") -> str:
        """One line: the source and every limit, to print next to an on-time rate (officemine's
        own default limits are named in `lang`; a file's name is its own)."""
        parts = [f"{k} {_num(v)}" for k, v in self.limits.items()]
        parts.append(say("sla.other", lang, days=_num(self.default_limit)))
        name = say("sla.default_name", lang) if self.name == DEFAULT_NAME else self.name
        return say("sla.describe", lang, head=f"{name}: " if name else "",
                   limits=joined(parts, lang))

    def to_dict(self) -> dict:
        return {"name": self.name, "unit": "working days",
                "limits": {"default": self.default_limit, **dict(self.limits)}}

    def to_toml(self) -> str:
        """The SLA as a TOML file `from_toml(..., merge=False)` reads back unchanged."""
        lines = [f"name = {json.dumps(self.name, ensure_ascii=False)}", "", "[limits]",
                 f"default = {_num(self.default_limit)}"]
        lines += [f"{json.dumps(k, ensure_ascii=False)} = {_num(v)}" for k, v in self.limits.items()]
        return "\n".join(lines) + "\n"

    @staticmethod
    def json_schema() -> dict:
        """JSON schema of an SLA file (for editors and documentation)."""
        return json_schema(SPEC, title="officemine SLA (限时办结时限)")

    def __repr__(self) -> str:
        return f"SLA({self.describe()})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SLA):
            return NotImplemented
        return (self.default_limit == other.default_limit
                and dict(self.limits) == dict(other.limits))

    def __hash__(self) -> int:
        return hash((self.default_limit, tuple(self.limits.items())))


def _check_limit(what: str, value: Any, problems: list[str]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        problems.append(f"{what}: limit must be a number of working days, not {value!r}")
        return None
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        problems.append(f"{what}: limit must be a positive number of working days, not {value:g}")
        return None
    if value > MAX_LIMIT:
        problems.append(f"{what}: {value:g} working days is more than a working year "
                        f"({MAX_LIMIT:g}); hours or calendar days written as working days?")
        return None
    return value


def _num(value: float) -> str:
    return f"{value:g}"
