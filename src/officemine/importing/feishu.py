"""Feishu / Lark (飞书) approval instances, as returned by approval v4 "获取单个审批实例详情".

``GET /open-apis/approval/v4/instances/:instance_id`` answers ``data`` with approval_name,
instance_code, serial_number, status, user_id/open_id, department_id, start_time, end_time,
form (a JSON string), ``task_list`` (id, user_id, status, node_id, node_name, custom_node_id,
type, start_time, end_time), ``comment_list`` and ``timeline`` (type, create_time, user_id,
open_id, user_id_list, cc_user_list, comment, ext, node_key, task_id). All times are
millisecond epochs written as strings; ``"0"`` means "not yet".

Timeline entries are the events; a task-bound entry takes its node and its arrival time from
the task (``task_id``, else the same person's task ending then). Comments are events too. A
task still PENDING in a PENDING instance is a pending work item: a row with the task's
start_time as arrival and no action yet. Codes and choices are documented in
docs/sources/apis.md.
"""

from __future__ import annotations

from pathlib import Path

from officemine.importing._jsonsource import (EVENT_NODES, PREVIOUS_INSTANCE, ReaderState,
                                              Task, api_events, as_dict, as_list, aside, epoch,
                                              first, in_time_order, instances_in, local_naive,
                                              mapped_code, mapping_notes, match_task,
                                              matched_note, pending_notes, pick_title,
                                              read_json_records, text)
from officemine.importing.mapping import Mapping
from officemine.importing.raw import RawEvents
from officemine.log.schema import TERMINAL, C
from officemine.base.text import Said

MARKERS = ("timeline", "task_list")

TIMELINE_OUTCOME: dict[str, str] = {
    "START": "submit",                    # 审批开始
    "PASS": "approve",                    # 通过
    "REJECT": "reject",                   # 拒绝: the instance ends
    "AUTO_PASS": "auto_approve",          # 自动通过
    "AUTO_REJECT": "reject",              # 自动拒绝
    "REMOVE_REPEAT": "auto_approve",      # 去重: an approver who already approved is skipped
    "TRANSFER": "transfer",               # 转交
    "ADD_APPROVER_BEFORE": "add_approver",  # 前加签
    "ADD_APPROVER": "add_approver",       # 并加签
    "ADD_APPROVER_AFTER": "add_approver",   # 后加签
    "DELETE_APPROVER": "other",           # 减签: no outcome of its own in the vocabulary
    "ROLLBACK_SELECTED": "return",        # 指定回退
    "ROLLBACK": "return",                 # 全部回退
    "CANCEL": "withdraw",                 # 撤回
    "DELETE": "withdraw",                 # 删除
    "CC": "cc",                           # 抄送
}
#: timeline types bound to no task: their node is fixed
UNBOUND = frozenset({"START", "CANCEL", "DELETE", "CC"})
#: entries that do not end the actor's task (the adder still decides later)
NOT_ENDING = frozenset({"ADD_APPROVER_BEFORE", "ADD_APPROVER", "ADD_APPROVER_AFTER", "CC",
                        "DELETE_APPROVER"})


def read_feishu(path: Path, mapping: Mapping) -> RawEvents:
    """Read a Feishu/Lark approval export (JSON array, object with a list, or JSON Lines)."""
    source = read_json_records(path, MARKERS, what="Feishu/Lark", encoding=mapping.encoding)
    found, set_aside = instances_in(
        path, source, MARKERS,
        not_one="not a Feishu/Lark approval instance (no timeline / task_list)",
        none="no Feishu/Lark approval instance found (records need timeline or task_list)")
    state = _State(mapping)
    rows: list[dict] = []
    for ref, instance, envelopes in found:
        rows.extend(_instance_events(ref, instance, envelopes, state))
    set_aside += state.asides

    notes = [Said("import.feishu", layout=source.layout, n=len(found))]
    notes.append(matched_note(state.matched, state.decisions, "task_actions", "start_time"))
    if state.open_id_used:
        notes.append(Said("import.feishu_open_id", n=state.open_id_used))
    notes += pending_notes(state.pending, "start_time")
    notes += state.counted("feishu", "stale_open", "ends_added")
    notes += state.amount_notes()
    notes += state.counted("feishu", "modifies")
    notes += mapping_notes(mapping, "Feishu/Lark")
    columns_used = {
        C.case_id: "instance_code", C.node: "task_list.node_name of the entry's task",
        C.outcome: "timeline.type", C.resource: "timeline.user_id (else open_id)",
        C.arrived_at: "task_list.start_time of the entry's task (pending rows: of the open task)",
        C.acted_at: "timeline.create_time", C.comment: "timeline.comment",
        C.process_type: "approval_name", C.amount: "form 金额/报销金额/合同金额… or amount widget",
        C.title: "form widget 标题/主题",
        C.applicant: "user_id (else open_id)", C.applicant_dept: "department_id",
    }
    return api_events(path, "feishu", rows, set_aside,
                      extra=("task_id", "target_users", PREVIOUS_INSTANCE),
                      columns_used=columns_used, notes=notes, link_field=PREVIOUS_INSTANCE)


class _State(ReaderState):
    def __init__(self, mapping: Mapping) -> None:
        super().__init__(mapping)
        self.decisions = self.matched = self.open_id_used = self.ends_added = 0
        self.modifies = 0                   # instances naming the one they modify
        self.pending: list[str] = []        # node of each pending row
        self.stale_open = 0                 # PENDING tasks of an instance no longer PENDING


def _person(obj: dict, state: _State) -> str | None:
    user = text(obj.get("user_id"))
    if user is None and text(obj.get("open_id")):
        state.open_id_used += 1
        return text(obj.get("open_id"))
    return user


def _instance_events(ref: str, inst: dict, envelopes: list[dict], state: _State) -> list[dict]:
    scope = [inst, *reversed(envelopes)]
    serial = text(inst.get("serial_number"))
    attributes = {
        C.case_id: text(first(scope, "instance_code", "instance_id")) or serial,
        C.process_type: text(first(scope, "approval_name", "definition_name")),
        C.applicant: text(inst.get("user_id")) or text(inst.get("open_id")),
        C.applicant_dept: text(inst.get("department_id")),
        C.amount: state.amount(_form_fields(inst), ref), C.title: pick_title(_form_fields(inst)),
        "serial_number": serial,
        # an approved instance that is changed is re-approved as a new instance naming it; a
        # revocation (reverted_instance_code) undoes the request instead: not linked
        PREVIOUS_INSTANCE: text(inst.get("modified_instance_code")),
    }
    state.modifies += attributes[PREVIOUS_INSTANCE] is not None
    listed = [(i, t) for i, t in enumerate(inst.get("task_list") or []) if isinstance(t, dict)]
    tasks = [_task(t) for _, t in listed]
    node_names = {key: t.node for t in tasks if t.node
                  for key in (t.activity, t.task_id) if key}
    node_names.update({text(t.get("custom_node_id")): text(t.get("node_name"))
                       for t in inst.get("task_list") or [] if isinstance(t, dict)
                       and text(t.get("custom_node_id")) and text(t.get("node_name"))})

    rows: list[dict] = []
    for i, entry in enumerate(inst.get("timeline") or []):
        where = f"{ref}: timeline[{i}]"
        if not isinstance(entry, dict):
            state.asides.append(aside(where, f"timeline entry is a JSON "
                                             f"{type(entry).__name__}, not an object"))
            continue
        kind = (text(entry.get("type")) or "").upper()
        created = entry.get("create_time")
        user = _person(entry, state)
        ext = as_dict(entry.get("ext"))
        outcome = TIMELINE_OUTCOME.get(kind) or mapped_code(kind, state.mapping) or kind
        row = {**attributes, C.outcome: outcome,
               C.resource: user, C.acted_at: epoch(created, "ms"),
               C.comment: text(entry.get("comment")), C.source_row: where, "api_action": kind,
               "target_users": _targets(entry, ext)}
        node = EVENT_NODES.get(outcome) if kind in UNBOUND or kind not in TIMELINE_OUTCOME \
            else None
        if node is None:
            state.decisions += 1
            task = match_task(tasks, user=user, at=local_naive(epoch(created, "ms")),
                              task_id=text(entry.get("task_id")),
                              consume=kind not in NOT_ENDING)
            if task is not None:
                state.matched += 1
                row[C.arrived_at] = task.created
                row["task_id"] = task.task_id
            node_key = text(entry.get("node_key"))
            node = (task.node if task and task.node else None) or node_names.get(node_key) \
                or node_key or (kind if kind not in TIMELINE_OUTCOME else None)
        row[C.node] = node
        rows.append(row)

    for i, comment in enumerate(inst.get("comment_list") or []):
        if not isinstance(comment, dict):
            continue
        rows.append({**attributes, C.node: "评论", C.outcome: "comment",
                     C.resource: _person(comment, state),
                     C.acted_at: epoch(comment.get("create_time"), "ms"),
                     C.comment: text(comment.get("comment")),
                     C.source_row: f"{ref}: comment_list[{i}]", "api_action": "COMMENT"})

    status = (text(inst.get("status")) or "").upper()
    end = _end_event(ref, inst, status, attributes, rows)
    if end is not None:
        state.ends_added += 1
        rows.append(end)
    running = status == "PENDING" and not any(r.get(C.outcome) in TERMINAL for r in rows)
    # a task still PENDING that no timeline entry ended: an item waiting at export, kept as a
    # pending row (arrival = start_time, no action yet; its wait is right-censored)
    for (index, data), task in zip(listed, tasks):
        if (task.status or "").upper() != "PENDING" or task.finished_cmp is not None \
                or task.used:
            continue
        if not running:
            state.stale_open += 1
            continue
        user = task.user
        if user and not text(data.get("user_id")):
            state.open_id_used += 1
        node = task.node or node_names.get(task.activity or "") or task.activity
        rows.append({**attributes, C.node: node, C.outcome: None, C.resource: user,
                     C.arrived_at: task.created, C.source_row: f"{ref}: task_list[{index}]",
                     "api_action": "task PENDING", "task_id": task.task_id})
        state.pending.append(node or "?")
    return in_time_order(rows)


def _task(t: dict) -> Task:
    start = epoch(t.get("start_time"), "ms")
    end = epoch(t.get("end_time"), "ms")
    return Task(task_id=text(t.get("id")), user=text(t.get("user_id")) or text(t.get("open_id")),
                activity=text(t.get("node_id")),
                node=text(t.get("node_name")) or text(t.get("custom_node_id")),
                status=text(t.get("status")), created=start, created_cmp=local_naive(start),
                finished_cmp=local_naive(end))


def _targets(entry: dict, ext: dict) -> str | None:
    """Who a transfer, an added approver or a copy went to (when the entry says)."""
    people = [text(u.get("user_id")) or text(u.get("open_id"))
              for u in entry.get("cc_user_list") or [] if isinstance(u, dict)]
    people += [text(u) for u in as_list(entry.get("user_id_list"))]
    if not people:
        people = [text(u) for u in as_list(ext.get("user_id_list"))] or [text(ext.get("user_id"))]
    people = [p for p in people if p]
    return ",".join(dict.fromkeys(people)) or None


def _end_event(ref: str, inst: dict, status: str, attributes: dict,
               rows: list[dict]) -> dict | None:
    if any(r.get(C.outcome) in TERMINAL for r in rows):
        return None
    outcome = {"APPROVED": "archive", "CANCELED": "withdraw", "DELETED": "withdraw"}.get(status)
    end = epoch(inst.get("end_time"), "ms")
    if outcome is None or end is None:
        return None
    return {**attributes, C.node: "结束", C.outcome: outcome, C.acted_at: end,
            C.source_row: f"{ref}: end_time (status {status})", "api_action": f"status {status}"}


def _form_fields(inst: dict) -> list[tuple[str, object, bool]]:
    """The form's widgets as (name, value, is an amount widget)."""
    return [(text(widget.get("name")) or "", widget.get("value"),
             (text(widget.get("type")) or "").lower() == "amount")
            for widget in as_list(inst.get("form")) if isinstance(widget, dict)]
