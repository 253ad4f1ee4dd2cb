"""The import report: what was read, what was accepted, what was set aside and why."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field

import pandas as pd

from officemine.base.errors import LogFormatError
from officemine.log.result import Provenance, Result, provenance
from officemine.base.choices import Lang
from officemine.base.errors import OfficemineError
from officemine.base.text import Said, in_lang, joined, label, say, word


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
    #: what the import assumed or did, and what may be wrong: sentences held as codes and
    #: parameters (`officemine.base.text.Said`, read as their English words)
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
            rows.append((f"set aside: {reason}", count,
                         word("set_aside_reason", reason, "en")))
        return pd.DataFrame(rows, columns=["rows", "count", "meaning"])

    def to_dict(self) -> dict:
        """The report; ``notes`` and ``warnings`` in English words, as always, and
        ``said`` holding each of them as its catalogue key and parameters (for a reader of
        another language; a note from before notes were codes has none)."""
        data = asdict(self)
        data["notes"], data["warnings"] = list(self.notes), list(self.warnings)
        data["balanced"] = self.balanced
        data["said"] = {name: [s.to_dict() if isinstance(s, Said) else None for s in texts]
                        for name, texts in (("notes", self.notes), ("warnings", self.warnings))}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        """A report from `to_dict` output; every field is type-checked (a stored log's
        metadata is untrusted), raising ValueError that lists the fields that are wrong."""
        if not isinstance(data, dict):
            raise LogFormatError(f"expected an object, not {type(data).__name__}")
        said = data.get("said")
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
        for name in ("notes", "warnings"):
            data[name] = _said_again(data[name], (said or {}).get(name) if
                                     isinstance(said, dict) else None)
        return cls(**data)

    def lines(self, lang: Lang = "en", *, field_names: bool = False) -> list[str]:
        """The accounting, the assumptions and the warnings in `lang`, one line each (the
        review's data-quality page, the report command). field_names: name the columns,
        outcomes and set-aside reasons by their codes, as a mapping file does (`str`, for
        the import and validate commands) instead of in words."""
        ind = "  " if lang == "en" else ""
        name = (lambda field: field) if field_names else (lambda field: label(field, lang))
        outcome = (lambda code: code) if field_names else (lambda code: word("outcome", code,
                                                                             lang))
        lines = [say("import.head", lang, source=self.source_file, format=self.format),
                 ind + say("import.rows", lang, read=self.rows_read, accepted=self.rows_accepted,
                           aside=self.rows_set_aside,
                           unbalanced="" if self.balanced else say("import.unbalanced", lang))]
        for reason, count in sorted(self.set_aside_by_reason.items(), key=lambda kv: -kv[1]):
            lines.append("    " + say("import.aside_code" if field_names else
                                      "import.aside_reason", lang, reason=reason, count=count,
                                      meaning=word("set_aside_reason", reason, lang)))
        if self.set_aside_file:
            lines.append(ind + say("import.aside_file", lang, file=self.set_aside_file))
        lines += [
            ind + say("import.cases", lang, cases=self.cases, open=self.open_cases,
                      out_of_order=self.out_of_order_cases),
            ind + say("import.arrivals", lang, recorded=self.arrivals_recorded,
                      inferred=self.arrivals_inferred, pending=self.pending_items),
            ind + say("import.timezone", lang, tz=self.timezone),
            ind + say("import.columns", lang, columns=say("list.comma", lang).join(
                say("import.column", lang, field=name(k), source=v)
                for k, v in self.columns_used.items())),
            ind + say("import.outcomes", lang, outcomes=say("list.comma", lang).join(
                f"{outcome(k)} {v:,}" for k, v in
                sorted(self.outcome_counts.items(), key=lambda kv: -kv[1]))),
        ]
        if self.instances is not None:
            links = self.links_by_rule or {}
            by_rule = joined((say("import.by_rule", lang, rule=word("link_rule", k, lang), n=v)
                              for k, v in links.items() if v), lang)
            lines.append(ind + say(
                "import.instances", lang, instances=self.instances, cases=self.cases,
                linked=sum(links.values()),
                by_rule=say("import.by_rules", lang, rules=by_rule) if by_rule else "",
                ambiguous=say("import.ambiguous", lang, n=self.ambiguous_links)
                if self.ambiguous_links else ""))
        if self.rejections_as_returns is not None:
            lines.append(ind + say("import.rejections_as_returns", lang,
                                   n=self.rejections_as_returns))
        if self.unknown_outcome_words:
            shown = say("list.comma", lang).join(
                f"{w!r} ×{n}" for w, n in list(self.unknown_outcome_words.items())[:10])
            lines.append(ind + say("import.unknown_words", lang, words=shown))
        lines += [ind + say("import.note", lang, text=in_lang(n, lang)) for n in self.notes]
        lines += [ind + say("import.warning", lang, text=in_lang(w, lang))
                  for w in self.warnings]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines("en", field_names=True))

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


def _said_again(texts: tuple, said: object) -> tuple:
    """Stored notes (or warnings) as `Said` again where the metadata keeps their codes; a
    text whose code is missing, unknown or does not say the same is kept as it is."""
    if not isinstance(said, list) or len(said) != len(texts):
        return texts
    out = []
    for text, coded in zip(texts, said):
        try:
            again = Said.from_dict(coded) if isinstance(coded, dict) else None
        except (OfficemineError, KeyError, TypeError, ValueError, IndexError):
            again = None           # a code unknown here, parameters that do not fit it
        out.append(again if again is not None and str(again) == text else text)
    return tuple(out)


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
