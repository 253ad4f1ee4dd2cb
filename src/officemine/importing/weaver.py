"""Weaver (泛微) e-cology: the workflow tables an office exports from the database as CSV.

The events are the rows of ``workflow_requestlog`` (one per operation: LOGTYPE, OPERATEDATE +
OPERATETIME, OPERATOR, NODEID, REMARK). Companion tables in the same folder, when present,
turn ids into names and add what the log lacks:

==========================  ==========================================================
``workflow_currentoperator``  RECEIVEDATE + RECEIVETIME: when each person got the item;
                              ISREMARK: items received and not yet acted on (pending rows)
``workflow_nodebase``         NODENAME, ISSTART, ISEND
``workflow_base``             WORKFLOWNAME → process_type
``workflow_requestbase``      REQUESTNAME → title, CREATER → applicant, REQUESTLEVEL →
                              urgency, CURRENTNODETYPE = 3: the request is archived
``HrmResource``               LASTNAME, DEPARTMENTID of the operators and applicants
``HrmDepartment``             DEPARTMENTNAME
``formtable_main_N``          the form of each request (one table per form, one row per
                              request, joined by REQUESTID): amount, and urgency, title,
                              applicant where requestbase lacks them (`FORM_FIELD_NAMES`)
==========================  ==========================================================

Column names are the database's, in any letter case; each file may be GBK, GB18030 or UTF-8
with or without BOM (read by `tabular.read_table`). The LOGTYPE codes and the choices made
for each are in `LOGTYPE_OUTCOMES` and docs/sources/weaver.md. Work items of unfinished
requests that were received and not acted on at export become pending rows (arrival, no
action); see `PENDING_ISREMARK`.

>>> raw = read_weaver(Path("tests/data/weaver/export"), Mapping())   # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from officemine.base.errors import ColumnGuessError, SourceError
from officemine.importing.mapping import Mapping
from officemine.importing.raw import SOURCE_ROW, TEXT, RawEvents, extra_name, set_aside_rows
from officemine.importing.tabular import HEADER_SYNONYMS, read_table
from officemine.importing.timeparse import combine_date_time, parse_times
from officemine.log.schema import C, SOURCE_FIELDS, normalize_word
from officemine.base.text import Said, label

#: LOGTYPE code -> (label Weaver shows, canonical outcome). Codes as documented for the
#: ``workflow_requestlog.logtype`` column (签字类型); see docs/sources/weaver.md for sources.
LOGTYPE_OUTCOMES: dict[str, tuple[str, str]] = {
    "0": ("批准", "approve"),
    # A draft saved at a node: neither a decision nor a hand-over. Weaver keeps one such row
    # per person and node, overwritten by each save.
    "1": ("保存", "other"),
    # At the start node the applicant (re)submits; at a 处理 (processing) node 提交 is that
    # node's way of passing the request on, so it is an approve there (see _submit_outcomes).
    "2": ("提交", "submit"),
    "3": ("退回", "return"),
    # Reopening a finished request: no canonical counterpart. One customised system labels
    # code 4 "归档" instead; the schema documentation says 重新打开.
    "4": ("重新打开", "other"),
    # The applicant deleted the request: it ends without a decision.
    "5": ("删除", "withdraw"),
    "6": ("激活", "other"),
    # 转发 sends the request to others to read and annotate (they reply with 批注); the
    # request does not wait for them, so it is a non-blocking cc, not a transfer.
    "7": ("转发", "cc"),
    "9": ("批注", "comment"),
    # 意见征询 asks another person for an opinion before deciding: an added approver who must
    # answer; the answer (b) is that person's comment.
    "a": ("意见征询", "add_approver"),
    "b": ("意见征询回复", "comment"),
    "e": ("强制归档", "archive"),
    "h": ("转办", "transfer"),
    # An administrator moved the request to another node (流程干预): not a decision.
    "i": ("干预", "other"),
    # The transferee's feedback to whoever transferred the item; that person still decides.
    "j": ("转办反馈", "comment"),
    "s": ("督办", "remind"),
    "t": ("抄送", "cc"),
}
#: Codes after which the request sits at DESTNODEID (used to time archive events).
_MOVING = frozenset({"0", "2", "3", "4", "5", "6", "e", "i", "j"})
_TERMINAL_CODES = frozenset({"e", "5"})
#: workflow_requestbase.REQUESTLEVEL (请求级别)
REQUEST_LEVELS = {"0": "正常", "1": "重要", "2": "紧急"}
#: workflow_currentoperator.ISREMARK codes of an item still waiting for its person, and the
#: outcome its pending row carries (None: a blocking item, outcome empty). e-cology's own
#: to-do query lists 待办 as isremark 0 (未操作; takisremark empty or 0), 1, 5 and 7, and 抄送
#: as 8 (不需提交) and 9 (需提交); 2 (已操作) and 4 (归档) are done. Copies and 转发 (1: sent
#: to read and annotate) do not hold the request up, so their pending rows are cc, like the
#: LOGTYPE codes t and 7. Code 7 is not taken (its meaning is not documented to us).
PENDING_ISREMARK: dict[str, str | None] = {"0": None, "5": None, "1": "cc", "8": "cc", "9": "cc"}
#: LOGTYPE codes after which the person still holds the item at that node (a saved draft, a
#: forward or an opinion request sent, a reminder): they do not settle a pending receipt.
_KEEPS_ITEM = frozenset({"1", "7", "a", "s"})

LOG_TABLE = "workflow_requestlog"
COMPANIONS = ("workflow_currentoperator", "workflow_nodebase", "workflow_base",
              "workflow_requestbase", "hrmresource", "hrmdepartment")
_REQUIRED = {
    LOG_TABLE: ("requestid", "nodeid", "logtype", "operatedate", "operator"),
    "workflow_currentoperator": ("requestid", "nodeid", "userid", "receivedate"),
    "workflow_nodebase": ("id", "nodename"),
    "workflow_base": ("id", "workflowname"),
    "workflow_requestbase": ("requestid",),
    "hrmresource": ("id", "lastname"),
    "hrmdepartment": ("id", "departmentname"),
}
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")

#: Weaver's per-form tables (表单): one per form, one row per request, keyed by REQUESTID. A
#: detail table (明细表, formtable_main_N_dtM) holds a form's line items, several per request.
_FORM_NAME = re.compile(r"^formtable_main_\d+$", re.I)
_FORM_DETAIL_NAME = re.compile(r"^formtable_main_\d+_dt\d+$", re.I)
#: The form's key column: the database name, or its label in an export with Chinese headers.
_FORM_KEYS = ("requestid", "request id", "请求id")
#: Case attributes a form can give (each form field is used for one of them at most).
FORM_ATTRIBUTES = (C.amount, C.urgency, C.title, C.applicant, C.applicant_dept)
#: Database names e-cology form designers commonly give these fields (pinyin and its
#: initials), recognised besides the tabular importer's header synonyms (`HEADER_SYNONYMS`).
#: Only unambiguous ones: hj (合计 or 缓急?), bt (标题 or 补贴?) and zt (主题 or 状态?) are not.
FORM_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    C.amount: ("jine", "je", "zje", "bxje", "bxzje", "hjje", "sqje", "htje", "fkje", "jkje",
               "cgje", "money"),
    C.urgency: ("jjcd", "hjcd", "jinjichengdu"),
    C.title: ("biaoti",),
    C.applicant: ("sqr", "shenqingren"),
    C.applicant_dept: ("sqbm", "shenqingbumen"),
}
#: workflow_requestbase column that gives each attribute: a form field is guessed only for
#: attributes the export's requestbase does not give (a mapping may still name one).
_REQUESTBASE_GIVES = {C.urgency: "requestlevel", C.title: "requestname", C.applicant: "creater",
                      C.applicant_dept: "creater"}
_LOG_NAME = re.compile(r"^workflow_requestlog(?:[ _\-.(][^/\\]*)?\.(?:csv|tsv|txt)$", re.I)

# REMARK is HTML written by the sign-opinion editor; mobile clients append a signature line.
_HTML_BLOCK = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
_HTML_BREAK = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*(?:p|div|li|tr|h\d)\s*>", re.I)
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>]*>")
_CLIENT_SIGNATURE = re.compile(r"\s*来自\s*[\w\- ]{0,20}?(?:客户端|移动端|手机端|手机版)\s*$")


def read_weaver(path: Path, mapping: Mapping) -> RawEvents:
    """Read a Weaver export: a folder holding workflow_requestlog.csv, or that file itself.

    Companion tables are taken from the same folder (file names in any case). Each log row is
    one event; rows that cannot be split go to set-aside. Requests the export shows as
    archived get one `archive` event each, because Weaver writes no log row when a request
    reaches its archive node.
    """
    path = Path(path)
    log_path, companion_paths, form_paths, detail_paths = _locate(path)
    notes: list[str] = []
    frame, aside, info = read_table(log_path, mapping)
    log = _lower_headers(frame, log_path)
    _require(log, LOG_TABLE, log_path)
    label = log_path.stem
    notes.append(Said("import.weaver_encoding", file=log_path.name, encoding=info["encoding"]))
    if info["empty_rows"]:
        notes.append(Said("import.weaver_empty_lines", file=log_path.name,
                          n=info["empty_rows"]))

    tables, labels, missing = _read_companions(companion_paths, notes)
    requests = tables.get("workflow_requestbase")
    guess = {C.amount} | {canon for canon, column in _REQUESTBASE_GIVES.items()
                          if requests is None or column not in requests}
    forms = _Forms(form_paths, detail_paths, mapping, guess)

    log = log.reset_index(drop=True)
    n = len(log)
    case = _ids(log["requestid"])
    node_id = _ids(log["nodeid"])
    code = log["logtype"].astype("string").str.strip().str.lower()
    operator = _ids(log["operator"])
    acted = (combine_date_time(log["operatedate"], log["operatetime"]) if "operatetime" in log
             else log["operatedate"])
    acted = pd.Series(acted, index=log.index, dtype="string")
    # Naive ordering times (the zone does not matter for comparing): used to pick the first
    # submit, the receipt before each action and the action that archived a request.
    order_time, _ = parse_times(acted, "UTC")

    names = _Names(tables)
    out, columns_used = _canonical_columns(log, case, node_id, code, operator, acted, order_time,
                                           names, tables, mapping, notes)

    _trace_columns(out, log, code, node_id, operator, names, label)

    _apply_mapping_columns(out, log, mapping, log_path, columns_used, notes,
                           forms.named)

    archive, archive_note = _archive_events(out, log, case, code, node_id, order_time, names,
                                            tables, labels, label)
    notes.append(archive_note)
    pending = pd.DataFrame()
    if "workflow_currentoperator" in tables:
        finished = _finished_requests(case, code, archive, tables)
        pending, pending_notes = _pending_items(
            tables["workflow_currentoperator"], labels["workflow_currentoperator"], out, case,
            node_id, operator, code, order_time, finished, names)
        notes.extend(pending_notes)
    extra = [frame for frame in (archive, pending) if len(frame)]
    if extra:
        out = pd.concat([out, *extra], ignore_index=True)
    if forms.paths:
        forms.join(out, names, columns_used, notes)
    else:
        notes.extend(forms.notes)

    if not form_paths:
        missing.append("formtable_main_N (the forms: no amount)")
    if missing:
        notes.append(Said("import.weaver_missing", tables=", ".join(missing)))
    aside = aside.assign(source_row=label + " row " + aside["source_row"].astype("string"))
    return RawEvents(frame=out, source_file=str(log_path), format="weaver",
                     rows_read=n + len(aside) + len(archive) + len(pending),
                     set_aside=set_aside_rows(aside.to_dict("records")),
                     columns_used=columns_used, notes=notes, outcomes_canonical=True)


# --- canonical columns -----------------------------------------------------------------------

def _canonical_columns(log: pd.DataFrame, case: pd.Series, node_id: pd.Series, code: pd.Series,
                       operator: pd.Series, acted: pd.Series, order_time: pd.Series,
                       names: _Names, tables: dict[str, pd.DataFrame], mapping: Mapping,
                       notes: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The canonical columns of each request-log row (ids turned into names by the companion
    tables present), and the source of each; notes what could not be named."""
    columns_used: dict[str, str] = {C.case_id: "REQUESTID"}

    out = pd.DataFrame(index=log.index)
    out[C.case_id] = case

    out[C.node] = names.node(node_id)
    columns_used[C.node] = ("NODEID → workflow_nodebase.NODENAME" if names.has_nodes
                            else "NODEID (as 节点<id>)")
    if not names.has_nodes:
        notes.append(Said("import.weaver_no_nodebase"))
    elif (unknown := names.unknown_nodes(node_id)):
        notes.append(Said("import.weaver_unknown_nodes", n=len(unknown),
                          ids=", ".join(unknown[:10])))

    out[C.outcome], code_note = _outcomes(code, case, node_id, order_time, names, mapping)
    columns_used[C.outcome] = "LOGTYPE (Weaver code table)"
    notes.append(code_note)

    out[C.resource] = names.person(operator)
    columns_used[C.resource] = ("OPERATOR → HrmResource.LASTNAME" if names.has_people
                                else "OPERATOR (user id)")
    if names.has_people and (unknown := names.unknown_people(operator)):
        notes.append(Said("import.weaver_unknown_people", n=len(unknown),
                          ids=", ".join(unknown[:10]),
                          admin=Said("import.weaver_admin") if "1" in unknown else ""))
    elif not names.has_people:
        notes.append(Said("import.weaver_no_people"))

    dept_id = _ids(log["operatordept"]) if "operatordept" in log else \
        pd.Series(pd.NA, index=log.index, dtype="string")
    dept_id = dept_id.mask(dept_id.isin(["0", "-1"]))
    dept_id = dept_id.fillna(names.person_dept(operator))
    if dept_id.notna().any():
        out[C.dept] = names.dept(dept_id)
        source = "OPERATORDEPT" if "operatordept" in log else "HrmResource.DEPARTMENTID"
        columns_used[C.dept] = source + (" → HrmDepartment.DEPARTMENTNAME" if names.has_depts
                                         else " (department id)")

    out[C.arrived_at] = pd.Series(pd.NA, index=log.index, dtype="string")
    if "workflow_currentoperator" in tables:
        arrived, matched = _arrivals(tables["workflow_currentoperator"], case, node_id,
                                     operator, order_time)
        out[C.arrived_at] = arrived
        columns_used[C.arrived_at] = "workflow_currentoperator.RECEIVEDATE + RECEIVETIME"
        notes.append(Said("import.weaver_arrivals", matched=matched, total=len(log)))
    else:
        notes.append(Said("import.weaver_no_arrivals"))

    out[C.acted_at] = acted
    columns_used[C.acted_at] = ("OPERATEDATE + OPERATETIME" if "operatetime" in log
                                else "OPERATEDATE")
    if "remark" in log:
        out[C.comment] = clean_remark(log["remark"])
        columns_used[C.comment] = "REMARK (HTML removed)"

    _case_attributes(out, log, case, names, tables, columns_used)
    return out, columns_used


def _trace_columns(out: pd.DataFrame, log: pd.DataFrame, code: pd.Series, node_id: pd.Series,
                   operator: pd.Series, names: _Names, label: str) -> None:
    """Weaver fields kept beside the canonical columns, for tracing an event back."""
    out["weaver_logtype"] = code
    out["weaver_nodeid"] = node_id
    out["weaver_operator"] = operator
    if "destnodeid" in log:
        dest = _ids(log["destnodeid"]).mask(lambda s: s.isin(["0", "-1"]))
        out["weaver_destnode"] = names.node(dest).where(dest.notna())
    if "receivedpersons" in log:
        out["weaver_receivedpersons"] = log["receivedpersons"].astype("string")
    if "logid" in log:
        out["weaver_logid"] = _ids(log["logid"])
    out[SOURCE_ROW] = label + " row " + log[SOURCE_ROW].astype("string")


# --- files -----------------------------------------------------------------------------------

def _locate(path: Path) -> tuple[Path, dict[str, Path], dict[str, Path], list[Path]]:
    """The request log, the companion tables and the form tables beside it, and the form
    detail tables (not read); names are compared case-insensitively."""
    if path.is_dir():
        logs = sorted(p for p in path.iterdir() if p.is_file() and _LOG_NAME.match(p.name))
        if not logs:
            raise SourceError("no workflow_requestlog.csv in the folder (the Weaver request "
                              "log export)", file=str(path))
        exact = [p for p in logs if p.stem.lower() == LOG_TABLE]
        if len(exact) == 1:
            log_path = exact[0]
        elif len(logs) == 1:
            log_path = logs[0]
        else:
            raise SourceError("more than one request log in the folder ("
                              + ", ".join(p.name for p in logs) + "); import one file, or "
                              "keep one per folder", file=str(path))
        folder = path
    else:
        log_path, folder = path, path.parent
    companions: dict[str, Path] = {}
    forms: dict[str, Path] = {}
    details: list[Path] = []
    for p in sorted(folder.iterdir()):
        stem = p.stem.lower()
        if not (p.is_file() and p.suffix.lower() in _TEXT_SUFFIXES):
            continue
        found = companions if stem in COMPANIONS else forms if _FORM_NAME.match(stem) else None
        if found is None:
            if _FORM_DETAIL_NAME.match(stem):
                details.append(p)
            continue
        if stem in found:
            raise SourceError(f"two files for table {stem}: {found[stem].name} and {p.name}",
                              file=str(folder))
        found[stem] = p
    return log_path, companions, forms, details


def _lower_headers(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    lowered = {c: (c if c == SOURCE_ROW else c.strip().lower()) for c in frame.columns}
    seen: dict[str, str] = {}
    for original, low in lowered.items():
        if low in seen:
            raise SourceError(f"columns {seen[low]!r} and {original!r} differ only in case",
                              file=str(path), row=1, column=original)
        seen[low] = original
    return frame.rename(columns=lowered)


def _require(frame: pd.DataFrame, table: str, path: Path) -> None:
    missing = [c.upper() for c in _REQUIRED[table] if c not in frame]
    if missing:
        found = [c.upper() for c in frame.columns if c != SOURCE_ROW]
        raise ColumnGuessError(f"{path.name} is not a Weaver {table} export: column(s) "
                               f"{', '.join(missing)} missing; found {found}",
                               file=str(path), row=1, column=missing[0])


def _read_companion(path: Path, table: str) -> tuple[pd.DataFrame, int]:
    # Companions are detected on their own: an export mixes encodings (GBK from Excel, UTF-8
    # with BOM from a database client), so the log's declared encoding is not applied here.
    frame, aside, _ = read_table(path, Mapping())
    frame = _lower_headers(frame, path)
    _require(frame, table, path)
    return frame, len(aside)


def _read_companions(paths: dict[str, Path], notes: list[str]
                     ) -> tuple[dict[str, pd.DataFrame], dict[str, str], list[str]]:
    """The companion tables found (by table name), their file stems (for source rows), and
    the names of those missing; notes which were used."""
    tables: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    for name, table_path in paths.items():
        tables[name], skipped = _read_companion(table_path, name)
        labels[name] = table_path.stem
        if skipped:
            notes.append(Said("import.weaver_malformed", file=table_path.name, n=skipped))
    used = [paths[n].name for n in COMPANIONS if n in tables]
    missing = [n for n in COMPANIONS if n not in tables]
    notes.append(Said("import.weaver_companions", tables=", ".join(used) if used else
                      Said("import.none")))
    return tables, labels, missing


# --- values ----------------------------------------------------------------------------------

def _ids(values: pd.Series) -> pd.Series:
    """Database ids as text: trimmed, without the ``.0`` a spreadsheet adds, empty = missing."""
    s = values.astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    return s.mask(s.eq(""))


def clean_remark(values: pd.Series) -> pd.Series:
    """Plain text of Weaver's HTML sign opinions (REMARK): tags and entities removed.

    ``<p>同意</p>`` → ``同意``; ``<br>``, ``&lt;br&gt;`` and paragraph ends become line
    breaks; images (handwritten signatures) vanish; a trailing "来自iPhone客户端" line that
    mobile clients append is dropped. Empty results are missing values.
    """
    s = values.astype("string")
    for _ in range(2):  # the second pass handles markup that was stored escaped (&lt;br&gt;)
        s = s.str.replace(_HTML_BLOCK, "", regex=True)
        s = s.str.replace(_HTML_BREAK, "\n", regex=True)
        s = s.str.replace(_HTML_TAG, "", regex=True)
        s = s.map(html.unescape, na_action="ignore").astype("string")
    s = s.str.replace("\xa0", " ", regex=False).str.replace("\u3000", " ", regex=False)
    s = s.str.replace(r"[ \t\r\f\v]+", " ", regex=True)
    s = s.str.replace(r" *\n *", "\n", regex=True).str.replace(r"\n{2,}", "\n", regex=True)
    s = s.str.strip().str.replace(_CLIENT_SIGNATURE, "", regex=True).str.strip()
    return s.mask(s.eq(""))


class _Names:
    """Id → name lookups from the companion tables that are present."""

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        nodes = tables.get("workflow_nodebase")
        self.has_nodes = nodes is not None
        self.node_names = _lookup(nodes, "id", "nodename")
        self.start_nodes = _flag(nodes, "isstart")
        self.end_nodes = _flag(nodes, "isend")
        people = tables.get("hrmresource")
        self.has_people = people is not None
        self.person_names = _lookup(people, "id", "lastname")
        self.person_depts = _lookup(people, "id", "departmentid", ids=True)
        depts = tables.get("hrmdepartment")
        self.has_depts = depts is not None
        self.dept_names = _lookup(depts, "id", "departmentname")
        self.workflow_names = _lookup(tables.get("workflow_base"), "id", "workflowname")

    def node(self, ids: pd.Series) -> pd.Series:
        return ids.map(self.node_names).astype("string").fillna("节点" + ids)

    def unknown_nodes(self, ids: pd.Series) -> list[str]:
        return sorted(set(ids.dropna()) - set(self.node_names))

    def person(self, ids: pd.Series) -> pd.Series:
        return ids.map(self.person_names).astype("string").fillna(ids)

    def unknown_people(self, ids: pd.Series) -> list[str]:
        return sorted(set(ids.dropna()) - set(self.person_names))

    def person_dept(self, ids: pd.Series) -> pd.Series:
        return ids.map(self.person_depts).astype("string")

    def dept(self, ids: pd.Series) -> pd.Series:
        return ids.map(self.dept_names).astype("string").fillna(ids)


def _lookup(table: pd.DataFrame | None, key: str, value: str, ids: bool = False) -> dict:
    if table is None or value not in table:
        return {}
    keys, values = _ids(table[key]), table[value].astype("string").str.strip()
    if ids:
        values = _ids(values)
    pairs = pd.DataFrame({"k": keys, "v": values}).dropna().drop_duplicates("k")
    return dict(zip(pairs["k"], pairs["v"]))


def _flag(table: pd.DataFrame | None, column: str) -> dict[str, bool] | None:
    if table is None or column not in table:
        return None
    return dict(zip(_ids(table["id"]), table[column].astype("string").str.strip().eq("1")))


# --- outcomes --------------------------------------------------------------------------------

def _outcomes(code: pd.Series, case: pd.Series, node: pd.Series, order_time: pd.Series,
              names: _Names, mapping: Mapping) -> tuple[pd.Series, str]:
    """Canonical outcome per row; codes not in the table stay raw (→ unknown_outcome)."""
    table = {c: outcome for c, (_, outcome) in LOGTYPE_OUTCOMES.items()}
    table.update(mapping.outcomes)  # a mapping's [outcomes] "x" = "…" adds or overrides codes
    outcome = code.map(table).astype("string")
    if "2" not in mapping.outcomes:
        at_start = _at_start_node(code, case, node, order_time, names)
        outcome = outcome.mask((code == "2") & ~at_start, "approve")
    unknown = code[outcome.isna() & code.notna()]
    outcome = outcome.fillna(code)  # raw code: the normaliser sets it aside as unknown_outcome
    counts = code.value_counts()
    shown = ", ".join(f"{c} {LOGTYPE_OUTCOMES[c][0]}→{table[c]} ×{counts[c]}"
                      for c in sorted(counts.index) if c in LOGTYPE_OUTCOMES)
    extra = sorted(set(mapping.outcomes) & set(counts.index))
    note = Said("import.weaver_codes", codes=shown, unknown=Said(
        "import.weaver_unknown_codes", codes=", ".join(
            f"{c!r} ×{k}" for c, k in unknown.value_counts().items())) if len(unknown) else "",
        mapped=Said("import.weaver_mapped_codes", codes=", ".join(
            f"{c}→{mapping.outcomes[c]}" for c in extra)) if extra else "")
    return outcome, note


def _at_start_node(code: pd.Series, case: pd.Series, node: pd.Series, order_time: pd.Series,
                   names: _Names) -> pd.Series:
    """True where the row's node is the request's start node.

    workflow_nodebase.ISSTART says so when present; otherwise (or for nodes it lacks) the
    start node is the node of the request's first 提交.
    """
    known = pd.Series(pd.NA, index=node.index, dtype="boolean")
    if names.start_nodes is not None:
        known = node.map(names.start_nodes).astype("boolean")
    first = pd.DataFrame({"case": case, "node": node, "t": order_time,
                          "pos": np.arange(len(node))})[code.eq("2").fillna(False).to_numpy()]
    first = first.sort_values(["t", "pos"], na_position="last").drop_duplicates("case")
    start_of_case = dict(zip(first["case"], first["node"]))
    guessed = node.eq(case.map(start_of_case)).fillna(False)
    return known.fillna(guessed).astype(bool)


# --- arrivals --------------------------------------------------------------------------------

def _arrivals(operators: pd.DataFrame, case: pd.Series, node: pd.Series, person: pd.Series,
              order_time: pd.Series) -> tuple[pd.Series, int]:
    """The latest RECEIVEDATE + RECEIVETIME of the same (request, node, person) at or before
    each action, as text (the import time zone then applies)."""
    received = _received(operators)
    recv_time, _ = parse_times(received.reset_index(drop=True), "UTC")
    right = pd.DataFrame({
        "key": (_ids(operators["requestid"]) + "|" + _ids(operators["nodeid"]) + "|"
                + _ids(operators["userid"])).astype(object).to_numpy(),
        "t_recv": recv_time.to_numpy(), "received": received.astype(object).to_numpy(),
    }).dropna(subset=["key", "t_recv"]).sort_values("t_recv", kind="stable")
    left = pd.DataFrame({
        "key": (case + "|" + node + "|" + person).astype(object).to_numpy(),
        "t": order_time.to_numpy(), "pos": np.arange(len(case)),
    }).dropna(subset=["key", "t"]).sort_values("t", kind="stable")
    out = pd.Series(pd.NA, index=case.index, dtype="string")
    if left.empty or right.empty:
        return out, 0
    matched = pd.merge_asof(left, right, left_on="t", right_on="t_recv", by="key",
                            direction="backward").dropna(subset=["received"])
    out.iloc[matched["pos"].to_numpy()] = matched["received"].to_numpy()
    return out, len(matched)


def _received(operators: pd.DataFrame) -> pd.Series:
    """RECEIVEDATE + RECEIVETIME of each work item, as text."""
    received = (combine_date_time(operators["receivedate"], operators["receivetime"])
                if "receivetime" in operators else operators["receivedate"])
    return pd.Series(received, index=operators.index, dtype="string")


# --- pending work items ----------------------------------------------------------------------

def _finished_requests(case: pd.Series, code: pd.Series, archive: pd.DataFrame,
                       tables: dict[str, pd.DataFrame]) -> set[str]:
    """Requests the export shows as finished: archived (CURRENTNODETYPE 3, or an archive
    event derived from ISEND), force-archived (e) or deleted (5). Nothing waits in them."""
    finished = set(case[code.isin(_TERMINAL_CODES).fillna(False)].dropna())
    if len(archive):
        finished |= set(archive[C.case_id].dropna())
    requests = tables.get("workflow_requestbase")
    if requests is not None and "currentnodetype" in requests:
        done = _ids(requests["currentnodetype"]).eq("3").fillna(False)
        finished |= set(_ids(requests["requestid"])[done].dropna())
    return finished


def _pending_items(operators: pd.DataFrame, label: str, out: pd.DataFrame, case: pd.Series,
                   node: pd.Series, person: pd.Series, code: pd.Series,
                   order_time: pd.Series, finished: set[str],
                   names: _Names) -> tuple[pd.DataFrame, list[str]]:
    """A pending row per work item received and not acted on at export.

    An item is pending when its ISREMARK is in `PENDING_ISREMARK` (not takisremark -2, which
    e-cology lists as done; not iscomplete 1; not an older receipt, islasttimes 0), its
    request is in the request log and not finished, and the log holds no operation by the
    same person at the same node at or after the receipt that settles it (any LOGTYPE but
    `_KEEPS_ITEM`). Arrival = RECEIVEDATE + RECEIVETIME; no action, outcome empty (cc for
    copies). Case attributes are those of the request's log rows.
    """
    if "isremark" not in operators:
        return pd.DataFrame(), ["workflow_currentoperator has no ISREMARK column: items still "
                                "waiting at export cannot be told apart, none are read as "
                                "pending"]
    ops = operators.reset_index(drop=True)
    isremark = ops["isremark"].astype("string").str.strip().str.lower()
    rid, nid, uid = _ids(ops["requestid"]), _ids(ops["nodeid"]), _ids(ops["userid"])
    received = _received(ops)
    recv_time, _ = parse_times(received, "UTC")

    waiting = isremark.isin(list(PENDING_ISREMARK)).fillna(False)
    for column, done_value in (("takisremark", "-2"), ("iscomplete", "1"),
                               ("islasttimes", "0")):
        if column in ops:
            waiting &= ~_ids(ops[column]).eq(done_value).fillna(False)
    in_log = rid.isin(set(case.dropna())).fillna(False)
    request_done = rid.isin(finished).fillna(False)
    # the latest operation of each (request, node, person) that settles an item
    settles = ~code.isin(_KEEPS_ITEM).fillna(False) & order_time.notna()
    last_op = (pd.DataFrame({"key": (case + "|" + node + "|" + person)[settles],
                             "t": order_time[settles]})
               .dropna().groupby("key")["t"].max())
    key = rid + "|" + nid + "|" + uid
    acted = pd.Series(key.map(last_op).to_numpy(), index=ops.index) >= recv_time
    acted = acted.fillna(False).astype(bool)

    pending = waiting & in_log & ~request_done & ~acted
    outcome = isremark.map(PENDING_ISREMARK).astype("string")
    frame = pd.DataFrame({
        C.case_id: rid, C.node: names.node(nid), C.outcome: outcome,
        C.resource: names.person(uid), C.arrived_at: received,
        "weaver_nodeid": nid, "weaver_operator": uid,
        SOURCE_ROW: label + " row " + ops[SOURCE_ROW].astype("string"),
    })[pending.to_numpy()]
    dept_id = names.person_dept(uid[pending])
    if dept_id.notna().any():
        frame[C.dept] = names.dept(dept_id)
    first_row = out.drop_duplicates(C.case_id).set_index(C.case_id)
    for column in (C.process_type, C.title, C.applicant, C.applicant_dept, C.urgency):
        if column in first_row:
            frame[column] = frame[C.case_id].map(first_row[column]).astype("string")
    frame = frame.reset_index(drop=True).astype("string")

    notes = []
    if len(frame):
        kinds = isremark[pending].value_counts()
        shown = ", ".join(f"ISREMARK {k} ×{v}" for k, v in sorted(kinds.items()))
        copies = int(outcome[pending].notna().sum())
        notes.append(Said("import.weaver_pending", n=len(frame), kinds=shown,
                          copies=Said("import.weaver_copies", n=copies) if copies else ""))
    skipped = {
        "weaver_skip_finished": waiting & in_log & request_done,
        "weaver_skip_settled": waiting & in_log & ~request_done & acted,
        "weaver_skip_unknown": waiting & ~in_log,
    }
    parts = [Said(f"import.{why}", n=int(mask.sum())) for why, mask in skipped.items()
             if mask.any()]
    if parts:
        notes.append(Said("import.weaver_not_pending", parts=parts))
    return frame, notes


# --- case attributes -------------------------------------------------------------------------

def _case_attributes(out: pd.DataFrame, log: pd.DataFrame, case: pd.Series, names: _Names,
                     tables: dict[str, pd.DataFrame], columns_used: dict[str, str]) -> None:
    requests = tables.get("workflow_requestbase")
    if requests is not None:
        requests = requests.assign(_rid=_ids(requests["requestid"])).dropna(subset=["_rid"])
        requests = requests.drop_duplicates("_rid").set_index("_rid")

    workflow = _ids(log["workflowid"]) if "workflowid" in log else \
        pd.Series(pd.NA, index=log.index, dtype="string")
    if requests is not None and "workflowid" in requests:
        workflow = workflow.fillna(case.map(_ids(requests["workflowid"])).astype("string"))
    if workflow.notna().any():
        out[C.process_type] = workflow.map(names.workflow_names).astype("string").fillna(
            "工作流" + workflow)
        columns_used[C.process_type] = ("WORKFLOWID → workflow_base.WORKFLOWNAME"
                                        if names.workflow_names else "WORKFLOWID (as 工作流<id>)")
    if requests is None:
        return
    if "requestname" in requests:
        out[C.title] = case.map(requests["requestname"].astype("string")).astype("string")
        columns_used[C.title] = "workflow_requestbase.REQUESTNAME"
    if "creater" in requests:
        creator = case.map(_ids(requests["creater"])).astype("string")
        out[C.applicant] = names.person(creator)
        columns_used[C.applicant] = "workflow_requestbase.CREATER" + (
            " → HrmResource.LASTNAME" if names.has_people else "")
        creator_dept = names.person_dept(creator)
        if creator_dept.notna().any():
            out[C.applicant_dept] = names.dept(creator_dept)
            columns_used[C.applicant_dept] = "CREATER → HrmResource.DEPARTMENTID" + (
                " → HrmDepartment.DEPARTMENTNAME" if names.has_depts else "")
    if "requestlevel" in requests:
        level = case.map(_ids(requests["requestlevel"])).astype("string")
        out[C.urgency] = level.map(REQUEST_LEVELS).astype("string").fillna(level)
        columns_used[C.urgency] = "workflow_requestbase.REQUESTLEVEL (0 正常, 1 重要, 2 紧急)"


def _apply_mapping_columns(out: pd.DataFrame, log: pd.DataFrame, mapping: Mapping, path: Path,
                           columns_used: dict[str, str], notes: list[str],
                           in_forms: set[str]) -> None:
    """A mapping's [columns] name request-log columns to use instead (e.g. comment = "REMARK1");
    a comment column is still cleaned of HTML. Attributes `in_forms` come from the form
    tables (`_Forms`) instead."""
    for canon, sources in mapping.columns.items():
        if canon not in SOURCE_FIELDS or canon in in_forms:
            continue
        lowered = [s.strip().lower() for s in sources]
        missing = [s for s, low in zip(sources, lowered) if low not in log]
        if missing:
            found = [c for c in log.columns if c != SOURCE_ROW]
            forms = " nor in any form table (formtable_main_N)" if canon in FORM_ATTRIBUTES \
                else ""
            raise ColumnGuessError(f"the mapping names column(s) {missing} for {canon}, but "
                                   f"{path.name} has: {found}{forms}", file=str(path),
                                   column=missing[0])
        values = (combine_date_time(log[lowered[0]], log[lowered[1]]) if len(lowered) == 2
                  else log[lowered[0]])
        out[canon] = pd.Series(values, index=log.index, dtype="string")
        if canon == C.comment:
            out[canon] = clean_remark(out[canon])
        columns_used[canon] = " + ".join(sources) + " (mapping)"
        notes.append(Said("import.weaver_mapped_column", column=canon,
                          column_zh=label(canon, "zh"), sources=" + ".join(sources)))


# --- form tables -----------------------------------------------------------------------------

class _Forms:
    """The form values of every request, from all formtable_main_N tables read together.

    `values` has one row per request id (its index) and the columns ``named:<attribute>``
    (a field the mapping names: it wins over workflow_requestbase), ``guessed:<attribute>``
    (a field recognised by its name: it fills what requestbase does not give),
    ``keep:<field>`` (a field the mapping asks to keep) and ``source`` (file and row).
    """

    def __init__(self, paths: dict[str, Path], details: list[Path], mapping: Mapping,
                 guess: set[str]) -> None:
        self.paths = paths
        self.notes: list[str] = []
        #: attribute -> ("formtable_main_12.bxje", named by the mapping?) per form
        self.used: dict[str, list[tuple[str, bool]]] = {}
        keep = list(mapping.form_fields)
        link = [mapping.linking.field, *mapping.linking.match]
        keep += [f for f in link if f and f not in SOURCE_FIELDS and f not in keep]
        named = {canon: cols[0].strip().lower() for canon, cols in mapping.columns.items()
                 if canon in FORM_ATTRIBUTES and len(cols) == 1}
        parts, fields = [], {}
        for stem in sorted(paths):
            part, fields[stem] = self._read(paths[stem], named, guess, keep)
            parts.append(part)
        #: attributes the mapping names and some form has
        self.named = {canon for canon, used in self.used.items() if any(n for _, n in used)}
        present = {h.lower() for have in fields.values() for h in have}
        self.kept = [f for f in keep if f.strip().lower() in present]
        missing = [f for f in mapping.form_fields if f not in self.kept]
        if missing:
            shown = "; ".join(f"{stem}: {', '.join(have)}" for stem, have in fields.items())
            raise ColumnGuessError(f"the mapping's form_fields names {missing}, which no form "
                                   f"table has ({shown or 'there is no formtable_main_N'})",
                                   file=mapping.path, column=missing[0])
        values = (pd.concat(parts, ignore_index=True) if parts
                  else pd.DataFrame({"_rid": [], "_form": [], "_row": []}))
        self.values = self._one_row_per_request(values.astype(TEXT))
        if details:
            self.notes.append(Said("import.weaver_details",
                                   files=", ".join(p.name for p in details)))

    def _read(self, path: Path, named: dict[str, str], guess: set[str],
              keep: list[str]) -> tuple[pd.DataFrame, list[str]]:
        """One form table: request id, table, row and the fields used; and its fields."""
        frame, aside, _ = read_table(path, Mapping())
        original = {c.strip().lower(): c for c in frame.columns if c != SOURCE_ROW}
        form = _lower_headers(frame, path)
        keys = [c for c in original if normalize_word(c) in {normalize_word(k) for k in _FORM_KEYS}]
        if len(keys) != 1:
            raise ColumnGuessError(
                f"{path.name} is not a Weaver form table export: "
                + ("no REQUESTID column" if not keys else
                   f"more than one request id column ({', '.join(original[k] for k in keys)})")
                + f"; found {list(original.values())}", file=str(path), row=1,
                column=original[keys[1]] if keys else "REQUESTID")
        key = keys[0]
        part = pd.DataFrame({"_rid": _ids(form[key]), "_form": path.stem.lower(),
                             "_row": form[SOURCE_ROW].astype("string")})
        taken = {key}
        chosen: dict[str, tuple[str, bool]] = {}
        for canon, field in named.items():          # the mapping's names first
            if field in form and field not in taken:
                chosen[canon] = (field, True)
                taken.add(field)
        for canon in FORM_ATTRIBUTES:
            if canon in chosen or canon not in guess:
                continue
            synonyms = {normalize_word(s) for s in (*HEADER_SYNONYMS[canon],
                                                   *FORM_FIELD_NAMES[canon])}
            found = [c for c in original if c not in taken and normalize_word(c) in synonyms]
            if len(found) > 1:
                shown = [original[c] for c in found]
                raise ColumnGuessError(
                    f"more than one field of {path.name} could be {canon}: {shown}; say which "
                    f"in a mapping, e.g. [columns] {canon} = \"{shown[0]}\"",
                    file=str(path), row=1, column=shown[0])
            if found:
                chosen[canon] = (found[0], False)
                taken.add(found[0])
        for canon, (field, by_mapping) in chosen.items():
            part[("named:" if by_mapping else "guessed:") + canon] = form[field]
            self.used.setdefault(canon, []).append((f"{path.stem}.{original[field]}", by_mapping))
        for field in keep:
            if field.strip().lower() in form:
                part["keep:" + field] = form[field.strip().lower()]
        if len(aside):
            rows = ", ".join(aside["source_row"].astype(str).head(10))
            self.notes.append(Said("import.weaver_form_malformed", file=path.name,
                                   n=len(aside), rows=rows))
        return part, [original[c] for c in original if c != key]

    def _one_row_per_request(self, values: pd.DataFrame) -> pd.DataFrame:
        """Rows by request id; a row without one is noted, a request with two rows refused."""
        stems = {stem: path.stem for stem, path in self.paths.items()}
        values = values.assign(source=values["_form"].map(stems).astype("string") + " row "
                               + values["_row"])
        no_id = values["_rid"].isna()
        if no_id.any():
            self.notes.append(Said("import.weaver_form_no_id", n=int(no_id.sum()),
                                   rows=", ".join(values.loc[no_id, "source"].head(10))))
            values = values[~no_id.to_numpy()]
        repeated = values["_rid"].duplicated(keep=False)
        if repeated.any():
            first = values.loc[repeated, "_rid"].iloc[0]
            rows = values[(values["_rid"] == first).to_numpy()]
            others = int(values.loc[repeated, "_rid"].nunique()) - 1
            second = rows.iloc[1]
            raise SourceError(
                f"request {first} has {len(rows)} form rows ({', '.join(rows['source'])})"
                + (f", and {others} more requests have several" if others else "")
                + ": a form table holds one row per request. Export each formtable_main_N "
                "once, without joining its detail tables (formtable_main_N_dtM)",
                file=str(self.paths[second["_form"]]), row=int(second["_row"]),
                column="REQUESTID")
        return values.drop(columns=["_form", "_row"]).set_index("_rid")

    def join(self, out: pd.DataFrame, names: "_Names", columns_used: dict[str, str],
             notes: list[str]) -> None:
        """Add each row's form values by its request id: values are worked on once per
        request, then spread to the rows."""
        codes, requests = pd.factorize(out[C.case_id])
        where = pd.Index(self.values.index).get_indexer(requests)
        pos = np.where(codes >= 0, where[codes] if len(where) else -1, -1)

        def take(values: pd.Series) -> pd.Series:
            return pd.Series(values.array.take(pos, allow_fill=True), index=out.index,
                             dtype=TEXT)

        for canon in FORM_ATTRIBUTES:
            tiers = {}
            for tier in ("named", "guessed"):
                value = self.values.get(f"{tier}:{canon}")
                if value is not None and canon == C.applicant:   # a browse field: user ids
                    value = names.person(_ids(value))
                elif value is not None and canon == C.applicant_dept:
                    value = names.dept(_ids(value))
                if canon == C.applicant_dept and f"{tier}:{C.applicant}" in self.values:
                    # where the form gives no department: the applicant's HrmResource
                    # department, as for CREATER
                    own = names.dept(names.person_dept(_ids(self.values[f"{tier}:{C.applicant}"])))
                    value = own if value is None else value.fillna(own)
                if value is not None:
                    tiers[tier] = take(value.astype(TEXT))
            if not tiers:
                continue
            value = out[canon] if canon in out else pd.Series(pd.NA, index=out.index,
                                                              dtype="string")
            if "named" in tiers:
                value = tiers["named"].fillna(value)
            if "guessed" in tiers:
                value = value.fillna(tiers["guessed"])
            out[canon] = value.astype("string")
            shown = ", ".join(f + (" (mapping)" if by_mapping else "")
                              for f, by_mapping in self.used.get(canon, []))
            if canon == C.applicant_dept and C.applicant in self.used:
                shown += (", else " if shown else "") + "the applicant's HrmResource.DEPARTMENTID"
            before = columns_used.get(canon)
            columns_used[canon] = shown + " (by REQUESTID)" + (
                f"; else {before}" if before and "named" in tiers else "")
        for field in self.kept:
            out[extra_name(field, out.columns)] = take(self.values["keep:" + field])
        out["weaver_form"] = take(self.values["source"])

        n_requests = len(requests)
        with_form = int((where >= 0).sum())
        stems = ", ".join(self.paths[stem].stem for stem in sorted(self.paths))
        without = requests[where < 0]
        notes.append(Said("import.weaver_forms", tables=len(self.paths), stems=stems,
                          with_form=with_form, requests=n_requests, without=Said(
                              "import.weaver_without_form", n=len(without),
                              ids=", ".join(map(str, without[:10]))
                              + (", …" if len(without) > 10 else "")) if len(without) else ""))
        unused = len(self.values) - with_form
        if unused:
            notes.append(Said("import.weaver_unused_forms", n=unused))
        if self.kept:
            notes.append(Said("import.weaver_kept_fields", fields=", ".join(self.kept)))
        notes.extend(self.notes)


# --- archive events --------------------------------------------------------------------------

def _archive_events(out: pd.DataFrame, log: pd.DataFrame, case: pd.Series, code: pd.Series,
                    node: pd.Series, order_time: pd.Series, names: _Names,
                    tables: dict[str, pd.DataFrame], labels: dict[str, str],
                    log_label: str) -> tuple[pd.DataFrame, str]:
    """One `archive` event per request the export shows as finished at its archive node.

    Weaver writes no request-log row when a request reaches the archive node (归档): the last
    approver's row only points there through DESTNODEID. Without an event the request would
    count as open. Finished = workflow_requestbase.CURRENTNODETYPE is 3 (归档), else (no
    requestbase) the last moving action's DESTNODEID is a workflow_nodebase ISEND node.
    Requests already ended by 强制归档 (e) or 删除 (5) get nothing added.
    """
    dest = _ids(log["destnodeid"]) if "destnodeid" in log else \
        pd.Series(pd.NA, index=log.index, dtype="string")
    moving = pd.DataFrame({"case": case, "code": code, "dest": dest, "t": order_time,
                           "pos": np.arange(len(case))})
    moving = moving[code.isin(_MOVING).fillna(False).to_numpy() & order_time.notna().to_numpy()]
    last = moving.sort_values(["t", "pos"]).drop_duplicates("case", keep="last").set_index("case")

    requests = tables.get("workflow_requestbase")
    end_nodes = {k for k, v in (names.end_nodes or {}).items() if v}
    if requests is not None and "currentnodetype" in requests:
        requests = requests.assign(_rid=_ids(requests["requestid"])).drop_duplicates("_rid")
        finished = requests[_ids(requests["currentnodetype"]).eq("3").fillna(False)]
        finished = finished[finished["_rid"].isin(set(case.dropna()))].set_index("_rid")
        basis, from_requests = Said("import.weaver_basis_requests"), True
    elif end_nodes:
        finished_ids = last.index[last["dest"].isin(end_nodes).fillna(False)]
        finished = pd.DataFrame(index=finished_ids)
        basis = Said("import.weaver_basis_nodes")
        from_requests = False
    else:
        return pd.DataFrame(), Said("import.weaver_no_end")

    finished = finished[~finished.index.isin(last.index[last["code"].isin(_TERMINAL_CODES)])]
    ids = pd.Index(finished.index, dtype="string")
    moved = last.reindex(ids)
    has_move = moved["pos"].notna()
    pos = moved["pos"].fillna(-1).astype("int64").to_numpy()
    acted = pd.Series(out[C.acted_at].to_numpy()[pos], index=ids, dtype="string").where(has_move)
    if "lastoperatedate" in finished:  # no dated move in the log: the request's last operation
        fallback = pd.Series(combine_date_time(finished["lastoperatedate"],
                                               finished.get("lastoperatetime",
                                                            pd.Series(pd.NA, index=ids))),
                             index=ids, dtype="string")
        acted = acted.fillna(fallback)
    node_id = (_ids(finished["currentnodeid"]).reindex(ids) if "currentnodeid" in finished
               else pd.Series(pd.NA, index=ids, dtype="string"))
    node_id = node_id.fillna(moved["dest"].astype("string"))
    if from_requests:
        source = labels["workflow_requestbase"] + " row " + finished[SOURCE_ROW].astype("string")
    else:
        source = (log_label + " row " + pd.Series(log[SOURCE_ROW].to_numpy()[pos], index=ids,
                                                  dtype="string")
                  + " (DESTNODEID " + moved["dest"].astype("string") + " is an end node)")
    events = pd.DataFrame({
        C.case_id: ids, C.node: names.node(node_id).fillna("归档"), C.outcome: "archive",
        C.acted_at: acted, "weaver_nodeid": node_id, SOURCE_ROW: source.reindex(ids),
    }, index=ids)
    first_row = out.drop_duplicates(C.case_id).set_index(C.case_id)
    for column in (C.process_type, C.title, C.applicant, C.applicant_dept, C.urgency):
        if column in first_row:
            events[column] = first_row[column].reindex(ids)
    events = events[events[C.acted_at].notna()]  # no time at all: the request stays open
    events = events.reindex(columns=out.columns).reset_index(drop=True).astype("string")
    return events, Said("import.weaver_archives", n=len(events), basis=basis)
