"""WeCom (企业微信) approval requests, as returned by "获取审批申请详情" (getapprovaldetail).

``POST /cgi-bin/oa/getapprovaldetail`` answers ``info`` with sp_no, sp_name, sp_status,
template_id, apply_time (epoch seconds), applyer {userid, partyid}, ``sp_record`` (one entry
per approval step: sp_status, approverattr 1 或签 / 2 会签, details [approver {userid},
speech, sp_status, sptime (epoch seconds, 0 while pending), media_id]), notifyer [{userid}],
comments [commentUserInfo {userid}, commenttime, commentcontent, commentid], apply_data.

The application is a submit at node 发起; every approver detail with a time is an action;
comments are events. WeCom names no steps and records no arrival times: steps are named
审批节点1, 审批节点2, … (rename them with ``[[label_rules]]`` on the ``label`` column) and
arrivals are left to the normaliser to infer. Codes and choices: docs/sources/apis.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from officemine.importing._jsonsource import (ReaderState, api_events, aside, count_phrase,
                                              epoch, first, in_time_order, instances_in,
                                              local_naive, mapped_code, mapping_notes,
                                              pick_title, read_json_records, text)
from officemine.importing.mapping import Mapping
from officemine.importing.raw import RawEvents
from officemine.log.schema import TERMINAL, C
from officemine.base.text import Said

MARKERS = ("sp_record",)

#: approver detail sp_status -> outcomes (13 is two actions at once)
DETAIL_OUTCOMES: dict[int, tuple[str, ...]] = {
    2: ("approve",),                    # 已同意
    3: ("reject",),                     # 已驳回: the request ends
    4: ("transfer",),                   # 已转审
    11: ("return",),                    # 已退回
    12: ("add_approver",),              # 已加签
    13: ("add_approver", "approve"),    # 已同意并加签
    14: ("approve",),                   # 已办理 (a handling step)
    15: ("transfer",),                  # 已转交
}
DETAIL_LABELS = {1: "审批中", 2: "已同意", 3: "已驳回", 4: "已转审", 11: "已退回", 12: "已加签",
                 13: "已同意并加签", 14: "已办理", 15: "已转交"}
SP_STATUS_LABELS = {1: "审批中", 2: "已通过", 3: "已驳回", 4: "已撤销", 6: "通过后撤销",
                    7: "已删除", 10: "已支付"}
APPROVER_ATTR = {1: "或签", 2: "会签"}
APPROVED, WITHDRAWN = (2, 10), (4, 6, 7)


def read_wecom(path: Path, mapping: Mapping) -> RawEvents:
    """Read a WeCom approval export (JSON array, object with a list, or JSON Lines)."""
    source = read_json_records(path, MARKERS, what="WeCom", encoding=mapping.encoding)
    found, set_aside = instances_in(
        path, source, MARKERS, not_one="not a WeCom approval request (no sp_record)",
        none="no WeCom approval request found (records need sp_record)")
    state = _State(mapping)
    rows: list[dict] = []
    for ref, instance, _ in found:
        rows.extend(_instance_events(ref, instance, state))
    set_aside += state.asides

    notes = [Said("import.wecom", layout=source.layout, n=len(found)),
             Said("import.wecom_no_steps"), Said("import.wecom_no_arrivals")]
    if state.open_tasks:
        notes.append(Said("import.wecom_open_tasks", n=len(state.open_tasks),
                          counts=count_phrase(Counter(state.open_tasks))))
    notes += state.counted("wecom", "notified", "archived", "withdrawn")
    notes += state.amount_notes()
    notes += mapping_notes(mapping, "WeCom")
    columns_used = {
        C.case_id: "sp_no", C.node: "sp_record position (审批节点N)",
        C.outcome: "sp_record.details.sp_status", C.resource: "details.approver.userid",
        C.acted_at: "details.sptime (apply_time for the submit)", C.comment: "details.speech",
        C.process_type: "sp_name", C.amount: "apply_data Money control (金额…)",
        C.applicant: "applyer.userid", C.applicant_dept: "applyer.partyid",
        C.title: "apply_data control 标题/主题",
    }
    return api_events(path, "wecom", rows, set_aside, extra=("approver_attr", "notifyer"),
                      columns_used=columns_used, notes=notes)


class _State(ReaderState):
    def __init__(self, mapping: Mapping) -> None:
        super().__init__(mapping)
        self.notified = self.archived = self.withdrawn = 0
        self.open_tasks: list[str] = []


def _code(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _instance_events(ref: str, inst: dict, state: _State) -> list[dict]:
    sp_status = _code(inst.get("sp_status"))
    applyer = inst.get("applyer") if isinstance(inst.get("applyer"), dict) else {}
    notifyer = [text(n.get("userid")) for n in inst.get("notifyer") or [] if isinstance(n, dict)]
    notifyer = [n for n in notifyer if n]
    state.notified += bool(notifyer)
    sp_no = text(inst.get("sp_no"))
    attributes = {
        C.case_id: sp_no, C.process_type: text(inst.get("sp_name")),
        C.applicant: text(applyer.get("userid")), C.applicant_dept: text(applyer.get("partyid")),
        C.amount: state.amount(_form_fields(inst), ref), C.title: pick_title(_form_fields(inst)),
        "serial_number": sp_no,
        "notifyer": ",".join(notifyer) or None,
    }
    rows = [{**attributes, C.node: "发起", C.outcome: "submit",
             C.resource: attributes[C.applicant], C.acted_at: epoch(inst.get("apply_time"), "s"),
             C.source_row: f"{ref}: apply_time", "api_action": "apply"}]

    for k, step in enumerate(inst.get("sp_record") or [], start=1):
        where_step = f"{ref}: sp_record[{k - 1}]"
        if not isinstance(step, dict):
            state.asides.append(aside(where_step, "approval step is not a JSON object"))
            continue
        node = text(first([step], "node_name", "name")) or f"审批节点{k}"
        attr = APPROVER_ATTR.get(_code(step.get("approverattr")))
        for j, detail in enumerate(step.get("details") or []):
            where = f"{where_step}.details[{j}]"
            if not isinstance(detail, dict):
                state.asides.append(aside(where, "approver detail is not a JSON object"))
                continue
            code = _code(detail.get("sp_status"))
            acted = epoch(detail.get("sptime"), "s")
            approver = detail.get("approver") if isinstance(detail.get("approver"), dict) else {}
            if code == 1 or (code is None and acted is None):
                # not acted on: waiting (an open item) or never needed (或签 peer, case ended)
                if acted is None and sp_status == 1 and _code(step.get("sp_status")) == 1:
                    state.open_tasks.append(node)
                continue
            unknown = f"sp_status {code}"
            outcomes = DETAIL_OUTCOMES.get(code) or (mapped_code(unknown, state.mapping)
                                                     or unknown,)
            for n, outcome in enumerate(outcomes):
                rows.append({**attributes, C.node: node, C.outcome: outcome,
                             C.resource: text(approver.get("userid")), C.acted_at: acted,
                             C.comment: text(detail.get("speech")),
                             C.source_row: where + (f" ({outcome})" if len(outcomes) > 1 else ""),
                             "api_action": f"{code} {DETAIL_LABELS.get(code, '')}".strip(),
                             "approver_attr": attr})

    for i, comment in enumerate(inst.get("comments") or []):
        if not isinstance(comment, dict):
            continue
        who = comment.get("commentUserInfo") if isinstance(comment.get("commentUserInfo"),
                                                           dict) else {}
        rows.append({**attributes, C.node: "评论", C.outcome: "comment",
                     C.resource: text(who.get("userid")),
                     C.acted_at: epoch(comment.get("commenttime"), "s"),
                     C.comment: text(comment.get("commentcontent")),
                     C.source_row: f"{ref}: comments[{i}]", "api_action": "comment"})

    if not any(r[C.outcome] in TERMINAL for r in rows):
        label = SP_STATUS_LABELS.get(sp_status, "")
        if sp_status in APPROVED:
            times = [r[C.acted_at] for r in rows if local_naive(r[C.acted_at]) is not None
                     and r[C.outcome] != "comment"]
            if times:
                state.archived += 1
                rows.append({**attributes, C.node: "结束", C.outcome: "archive",
                             C.acted_at: max(times, key=local_naive),
                             C.source_row: f"{ref}: sp_status {sp_status} {label} (no end time; "
                                           "time of the last action)",
                             "api_action": f"sp_status {sp_status} {label}"})
        elif sp_status in WITHDRAWN:
            state.withdrawn += 1
            rows.append({**attributes, C.node: "发起", C.outcome: "withdraw",
                         C.resource: attributes[C.applicant], C.acted_at: None,
                         C.source_row: f"{ref}: sp_status {sp_status} {label} (no time recorded)",
                         "api_action": f"sp_status {sp_status} {label}"})
    return in_time_order(rows)


def _form_fields(inst: dict) -> list[tuple[str, object, bool]]:
    """The form's controls as (name, value, is a money control)."""
    fields = []
    contents = (inst.get("apply_data") or {}).get("contents") if isinstance(
        inst.get("apply_data"), dict) else None
    for control in contents or []:
        if not isinstance(control, dict):
            continue
        titles = [t for t in control.get("title") or [] if isinstance(t, dict)]
        zh = next((t for t in titles if t.get("lang") == "zh_CN"), titles[0] if titles else {})
        value = control.get("value") if isinstance(control.get("value"), dict) else {}
        fields.append((text(zh.get("text")) or "",
                       first([value], "new_money", "new_number", "text"),
                       control.get("control") == "Money"))
    return fields
