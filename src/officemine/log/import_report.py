"""The import report: what was read, what was accepted, what was set aside and why."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field

import pandas as pd

from officemine.base.errors import LogFormatError
from officemine.log.schema import SET_ASIDE_REASONS
from officemine.log.result import Provenance, Result, provenance


@dataclass(frozen=True)
class ImportReport(Result):
    """Counts and assumptions of one import. `rows_read == rows_accepted + rows_set_aside`."""

    source_file: str
    format: str
    rows_read: int
    rows_accepted: int
    rows_set_aside: int
    set_aside_by_reason: dict[str, int]
    cases: int
    open_cases: int
    out_of_order_cases: int
    timezone: str
    arrivals_recorded: int
    arrivals_inferred: int
    pending_items: int
    columns_used: dict[str, str]
    outcome_counts: dict[str, int]
    unknown_outcome_words: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    set_aside_file: str | None = None
    # Linking attempts and counting returns (None: a report written before these were counted)
    #: the source's instances among the accepted rows (each becomes a case unless linked)
    instances: int | None = None
    #: instances linked into an earlier attempt's case, by rule ("field", "form")
    links_by_rule: dict[str, int] | None = None
    #: links where two earlier attempts could have been continued (the closest in time was
    #: taken), or an attempt two later instances could continue (the first took it)
    ambiguous_links: int | None = None
    #: rejections followed by a resubmission of the same request, counted as returns
    rejections_as_returns: int | None = None

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_set_aside

    @property
    def summary(self) -> pd.DataFrame:
        """The row accounting as a small table (one line per set-aside reason)."""
        rows = [("read", self.rows_read, ""), ("accepted", self.rows_accepted, "")]
        for reason, count in sorted(self.set_aside_by_reason.items(), key=lambda kv: -kv[1]):
            rows.append((f"set aside: {reason}", count, SET_ASIDE_REASONS.get(reason, "")))
        return pd.DataFrame(rows, columns=["rows", "count", "meaning"])

    def to_dict(self) -> dict:
        data = asdict(self)
        data["notes"], data["warnings"] = list(self.notes), list(self.warnings)
        data["balanced"] = self.balanced
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        """A report from `to_dict` output; every field is type-checked (a stored log's
        metadata is untrusted), raising ValueError that lists the fields that are wrong."""
        if not isinstance(data, dict):
            raise LogFormatError(f"expected an object, not {type(data).__name__}")
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["notes"] = tuple(data.get("notes", ()))
        data["warnings"] = tuple(data.get("warnings", ()))
        wrong = [name for name, kind in _FIELD_KINDS.items()
                 if name in data and not _is_kind(data[name], kind)]
        missing = [name for name, f in cls.__dataclass_fields__.items()
                   if name not in data and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if wrong or missing:
            raise LogFormatError("; ".join(
                ([f"wrong type: {', '.join(wrong)}"] if wrong else [])
                + ([f"missing: {', '.join(missing)}"] if missing else [])))
        return cls(**data)

    def __str__(self) -> str:
        lines = [
            f"Import of {self.source_file} ({self.format})",
            f"  rows read {self.rows_read:,} = accepted {self.rows_accepted:,} "
            f"+ set aside {self.rows_set_aside:,}" + ("" if self.balanced else "  (UNBALANCED!)"),
        ]
        for reason, count in sorted(self.set_aside_by_reason.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {reason:<22} {count:>8,}  {SET_ASIDE_REASONS.get(reason, '')}")
        if self.set_aside_file:
            lines.append(f"  set-aside rows written to {self.set_aside_file}")
        lines += [
            f"  cases {self.cases:,} (open at the end of the log: {self.open_cases:,}); "
            f"cases with events out of time order in the source: {self.out_of_order_cases:,}",
            f"  arrival times: recorded {self.arrivals_recorded:,}, inferred from the previous "
            f"action {self.arrivals_inferred:,}; work items pending at export "
            f"{self.pending_items:,}",
            f"  times in {self.timezone}",
            "  columns: " + ", ".join(f"{k} ← {v}" for k, v in self.columns_used.items()),
            "  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in
                                       sorted(self.outcome_counts.items(), key=lambda kv: -kv[1])),
        ]
        if self.instances is not None:
            links = self.links_by_rule or {}
            linked = sum(links.values())
            by_rule = ", ".join(f"{_RULE_NAMES.get(k, k)} {v:,}" for k, v in links.items() if v)
            lines.append(f"  instances {self.instances:,} → cases {self.cases:,}: "
                         f"{linked:,} linked into an earlier attempt's case"
                         + (f" ({by_rule})" if by_rule else "")
                         + (f"; {self.ambiguous_links:,} ambiguous (the closest attempt in time "
                            "was taken)" if self.ambiguous_links else ""))
        if self.rejections_as_returns is not None:
            lines.append(f"  rejections followed by a resubmission, counted as returns (退回): "
                         f"{self.rejections_as_returns:,}")
        if self.unknown_outcome_words:
            words = ", ".join(f"{w!r} ×{n}" for w, n in list(self.unknown_outcome_words.items())[:10])
            lines.append(f"  unknown outcome words (add them under [outcomes] in a mapping): {words}")
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        head, *rest = str(self).splitlines()
        return "\n".join([f"<ImportReport: {head}>", *rest])

    def _html_heading(self) -> list[str]:
        return str(self).splitlines()

    @property
    def provenance(self) -> Provenance:
        return provenance(source=self.source_file,
                          scope=f"{self.rows_accepted:,} of {self.rows_read:,} rows accepted, "
                                f"{self.cases:,} cases")


# What each field holds, for `ImportReport.from_dict`.
_FIELD_KINDS: dict[str, str] = {
    "source_file": "str", "format": "str", "timezone": "str", "set_aside_file": "str?",
    "rows_read": "int", "rows_accepted": "int", "rows_set_aside": "int", "cases": "int",
    "open_cases": "int", "out_of_order_cases": "int", "arrivals_recorded": "int",
    "arrivals_inferred": "int", "pending_items": "int",
    "set_aside_by_reason": "counts", "outcome_counts": "counts",
    "unknown_outcome_words": "counts", "columns_used": "names",
    "notes": "texts", "warnings": "texts",
    "instances": "int?", "links_by_rule": "counts?", "ambiguous_links": "int?",
    "rejections_as_returns": "int?",
}
#: how `str(report)` names each linking rule
_RULE_NAMES = {"field": "by the link field", "form": "by originator, process and form values"}


def _is_kind(value: object, kind: str) -> bool:
    count = (lambda v: type(v) is int and v >= 0)
    if kind == "str":
        return isinstance(value, str)
    if kind.endswith("?"):
        return value is None or _is_kind(value, kind[:-1])
    if kind == "int":
        return count(value)
    if kind == "counts":
        return isinstance(value, dict) and all(
            isinstance(k, str) and count(v) for k, v in value.items())
    if kind == "names":
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    return all(isinstance(v, str) for v in value)          # texts (already a tuple)
