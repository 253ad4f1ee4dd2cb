"""DingTalk (钉钉) approval instances, as returned by "获取单个审批实例详情".

Both shapes are read, also mixed in one file:

* workflow 1.0 ``GET /v1.0/workflow/processInstances``: ``result`` with ``operationRecords``
  (userId, date, type, result, remark, showName, activityId) and ``tasks`` (taskId, userId,
  status, result, createTime, finishTime, activityId); times are UTC to the minute
  (``2025-03-05T01:05Z``).
* the older ``topapi/processinstance/get``: ``process_instance`` with ``operation_records``
  (userid, date, operation_type, operation_result, remark) and ``tasks`` (taskid, userid,
  task_status, task_result, create_time, finish_time, activity_id); times are local
  (``2025-03-05 09:05:00``, Beijing time) without a zone.

Operation records are the events; each decision is matched to the task it ended (same
person, task finished at the record's time) so its arrival time is recorded, not guessed.
A task still RUNNING (or PAUSED) in a running instance is a pending work item: a row with the
task's createTime as arrival and no action yet. Codes and choices are documented in
docs/sources/apis.md.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from officemine.importing._jsonsource import (EVENT_NODES, PREVIOUS_INSTANCE, ReaderState,
                                              Task, api_events, aside, count_phrase, first,
                                              in_time_order, instances_in, local_naive,
                                              mapped_code, mapping_notes, match_task,
                                              matched_note, pending_notes, pick_title,
                                              read_json_records, text, utc_iso)
from officemine.importing.mapping import Mapping
from officemine.importing.raw import RawEvents
from officemine.log.schema import TERMINAL, C
from officemine.base.text import Said

MARKERS = ("operationRecords", "operation_records")

#: operation type -> outcome, where the type alone decides
TYPE_OUTCOME: dict[str, str] = {
    "START_PROCESS_INSTANCE": "submit",
    "TERMINATE_PROCESS_INSTANCE": "withdraw",     # 终止(撤销)流程实例
    "FINISH_PROCESS_INSTANCE": "archive",         # 结束流程实例
    "ADD_REMARK": "comment",                      # 添加评论
    "PROCESS_CC": "cc",                           # 抄送
    "REDIRECT_TASK": "transfer",                  # 转交任务
    "REDIRECT_PROCESS": "return",                 # 审批退回
    "APPEND_TASK_BEFORE": "add_approver",         # 前加签
    "APPEND_TASK_AFTER": "add_approver",          # 后加签
}
#: executing a task: the result decides
EXECUTE_TYPES = ("EXECUTE_TASK_NORMAL", "EXECUTE_TASK_AGENT", "EXECUTE_TASK_AUTO")
RESULT_OUTCOME: dict[str, str] = {"AGREE": "approve", "REFUSE": "reject",
                                  "REDIRECTED": "transfer"}
#: outcomes that end (or add to) someone's task: matched to a task for the arrival time
TASK_OUTCOMES = frozenset({"approve", "reject", "transfer", "return", "add_approver",
                           "auto_approve", "other"})
#: task statuses of an item that reached its person and waits for them: a pending work item
PENDING_TASK_STATUSES = frozenset({"RUNNING", "PAUSED"})
#: NEW (未启动): the task exists but has not been started, so the item has not reached the
#: person yet (e.g. a later approver of a sequential step): not pending, only counted
NOT_STARTED_STATUSES = frozenset({"NEW"})
#: instance statuses after which no task can still be waiting
ENDED_STATUSES = frozenset({"COMPLETED", "TERMINATED", "CANCELED"})
_TITLE_PROCESS = re.compile(r"^.+?提交的(.+)$")


def read_dingtalk(path: Path, mapping: Mapping) -> RawEvents:
    """Read a DingTalk approval export (JSON array, object with a list, or JSON Lines)."""
    source = read_json_records(path, MARKERS, what="DingTalk", encoding=mapping.encoding)
    found, set_aside = instances_in(
        path, source, MARKERS,
        not_one="not a DingTalk approval instance (no operationRecords / operation_records)",
        none="no DingTalk approval instance found (records need operationRecords or "
             "operation_records)")
    state = _State(mapping)
    # an activity's name (showName) is learnt from any instance of the file: a task still
    # waiting at a node nobody has acted on yet in its own instance gets its name too
    for _, instance, _ in found:
        for rec in instance.get("operationRecords") or []:
            if isinstance(rec, dict) and text(rec.get("activityId")) and text(rec.get("showName")):
                state.names.setdefault(text(rec["activityId"]), text(rec["showName"]))
    rows: list[dict] = []
    for ref, instance, envelopes in found:
        rows.extend(_instance_events(ref, instance, envelopes, state))
    set_aside += state.asides

    notes = [Said("import.dingtalk", layout=source.layout, n=len(found), v1=state.v1,
                  topapi=state.topapi)]
    if state.v1:
        notes.append(Said("import.dingtalk_v1_times"))
    if state.topapi:
        notes.append(Said("import.dingtalk_topapi_times"))
    if state.case_from_business_id:
        notes.append(Said("import.dingtalk_business_id", n=state.case_from_business_id))
    notes += state.counted("dingtalk", "process_from_title")
    notes.append(matched_note(state.matched, state.decisions, "decisions", "createTime"))
    notes += state.counted("dingtalk", "node_from_user")
    notes += pending_notes(state.pending, "createTime")
    if state.not_started:
        notes.append(Said("import.dingtalk_not_started", n=len(state.not_started),
                          counts=count_phrase(Counter(state.not_started))))
    notes += state.counted("dingtalk", "stale_open", "ends_added")
    notes += state.amount_notes()
    notes += state.counted("dingtalk", "modifies", "revokes")
    notes += mapping_notes(mapping, "DingTalk")

    columns_used = {
        C.case_id: "processInstanceId (else businessId)",
        C.node: "operationRecords.showName (else the task's activityId)",
        C.outcome: "operationRecords.type + result",
        C.resource: "operationRecords.userId",
        C.arrived_at: "tasks.createTime of the matched task (pending rows: of the open task)",
        C.acted_at: "operationRecords.date",
        C.comment: "operationRecords.remark",
        C.process_type: "processName (else from title)",
        C.amount: "formComponentValues 金额/报销金额/合同金额…",
        C.applicant: "originatorUserId",
        C.applicant_dept: "originatorDeptName (else originatorDeptId)",
        C.title: "form field 标题/主题 (else title)",
    }
    return api_events(path, "dingtalk", rows, set_aside, extra=("task_id", PREVIOUS_INSTANCE),
                      columns_used=columns_used, notes=notes, link_field=PREVIOUS_INSTANCE)


class _State(ReaderState):
    """Counts across instances, for the notes."""

    def __init__(self, mapping: Mapping) -> None:
        super().__init__(mapping)
        self.v1 = self.topapi = 0
        self.decisions = self.matched = 0
        self.case_from_business_id = self.process_from_title = self.ends_added = 0
        self.node_from_user = 0
        self.pending: list[str] = []        # node of each pending row
        self.not_started: list[str] = []    # node of each task NEW at export
        self.stale_open = 0                 # tasks still open in an instance that has ended
        self.names: dict[str, str] = {}   # activityId -> showName
        self.modifies = self.revokes = 0    # instances with bizAction MODIFY / REVOKE


def _instance_events(ref: str, inst: dict, envelopes: list[dict], state: _State) -> list[dict]:
    v1 = "operationRecords" in inst
    state.v1 += v1
    state.topapi += not v1
    records_key = "operationRecords" if v1 else "operation_records"
    records = inst.get(records_key) or []
    scope = [inst, *reversed(envelopes)]

    business_id = text(first([inst], "businessId", "business_id"))
    case_id = text(first(scope, "processInstanceId", "process_instance_id", "instanceId"))
    if case_id is None and business_id is not None:
        case_id = business_id
        state.case_from_business_id += 1
    title = text(inst.get("title"))
    process_type = text(first(scope, "processName", "process_name", "processTemplateName",
                              "templateName"))
    named = _TITLE_PROCESS.match(title) if process_type is None and title else None
    if named:
        process_type = named.group(1).strip()
        state.process_from_title += 1
    # the instance title is generated ("<who>提交的<approval>"); a form field 标题 is the
    # request's own, and tells attempts of one request from other requests of the person
    attributes = {
        C.case_id: case_id, C.title: pick_title(_form_fields(inst)) or title,
        C.process_type: process_type,
        C.applicant: text(first([inst], "originatorUserId", "originator_userid")),
        C.applicant_dept: text(first([inst], "originatorDeptName", "originator_dept_name",
                                     "originatorDeptId", "originator_dept_id")),
        C.amount: state.amount(_form_fields(inst), ref), "serial_number": business_id,
        PREVIOUS_INSTANCE: _modified_instance(inst, state),
    }

    names = state.names  # a record's showName names its activity; tasks carry only the id
    listed = [(i, t) for i, t in enumerate(inst.get("tasks") or []) if isinstance(t, dict)]
    tasks = [_task(t, names) for _, t in listed]

    rows: list[dict] = []
    for i, rec in enumerate(records):
        where = f"{ref}: {records_key}[{i}]"
        if not isinstance(rec, dict):
            state.asides.append(aside(where, f"operation record is a JSON "
                                             f"{type(rec).__name__}, not an object"))
            continue
        kind = (text(first([rec], "type", "operation_type")) or "").upper()
        result = (text(first([rec], "result", "operation_result")) or "").upper()
        outcome, action = _outcome(kind, result)
        known = outcome != kind
        if not known:  # a type this reader does not know: the mapping may name it
            outcome = mapped_code(kind, state.mapping) or outcome
        user = text(first([rec], "userId", "userid"))
        date = first([rec], "date")
        activity = text(rec.get("activityId"))
        row = {**attributes, C.outcome: outcome, C.resource: user, C.acted_at: utc_iso(date),
               C.comment: text(first([rec], "remark")), C.source_row: where,
               "api_action": action}
        node = EVENT_NODES.get(outcome)
        if outcome in TASK_OUTCOMES or outcome not in EVENT_NODES:
            state.decisions += 1
            task = match_task(tasks, user=user, at=local_naive(date), activity=activity,
                              consume=outcome != "add_approver")
            if task is not None:
                state.matched += 1
                row[C.arrived_at] = task.created
                row["task_id"] = task.task_id
            node = (text(rec.get("showName")) or names.get(activity) or activity
                    or (task.node if task else None))
            if node is None and not known:
                node = kind
            elif node is None and user:  # older topapi exports name no activity at all
                node = f"审批人 {user}"
                state.node_from_user += 1
        row[C.node] = node
        rows.append(row)

    end = _end_event(ref, inst, attributes, rows)
    if end is not None:
        state.ends_added += 1
        rows.append(end)
    ended = ((text(inst.get("status")) or "").upper() in ENDED_STATUSES
             or any(r.get(C.outcome) in TERMINAL for r in rows))
    rows += _pending_rows(ref, [i for i, _ in listed], tasks, attributes, ended, state)
    return in_time_order(rows)


def _pending_rows(ref: str, positions: list[int], tasks: list[Task], attributes: dict,
                  ended: bool, state: _State) -> list[dict]:
    """A row per task that reached its person and was not acted on at export.

    Arrival = the task's createTime, no action time and no outcome: the normaliser keeps it as
    a pending item whose wait so far is right-censored. The node is named as for decisions.
    A task the records already ended (matched and consumed) is not pending, whatever its
    status says; open tasks of an ended instance are inconsistent and only counted.
    """
    rows = []
    for index, task in zip(positions, tasks):
        status = (task.status or "").upper()
        if task.finished_cmp is not None or task.used:
            continue
        if status in NOT_STARTED_STATUSES:
            state.not_started.append(task.node or "?")
            continue
        if status not in PENDING_TASK_STATUSES:
            continue
        if ended:
            state.stale_open += 1
            continue
        node = task.node or (f"审批人 {task.user}" if task.user else None)
        rows.append({**attributes, C.node: node, C.outcome: None, C.resource: task.user,
                     C.arrived_at: task.created, C.source_row: f"{ref}: tasks[{index}]",
                     "api_action": f"task {status}", "task_id": task.task_id})
        state.pending.append(node or "?")
    return rows


def _outcome(kind: str, result: str) -> tuple[str, str]:
    """(outcome, raw action) for a record; an unknown type is passed on raw, to be mapped."""
    action = f"{kind}/{result}" if result else kind
    if kind in EXECUTE_TYPES:
        if kind == "EXECUTE_TASK_AUTO" and result != "REFUSE":
            return "auto_approve", action
        # executed without a recorded result (NONE): a step was done, its decision unknown
        return RESULT_OUTCOME.get(result, "other"), action
    if kind in TYPE_OUTCOME:
        return TYPE_OUTCOME[kind], action
    return kind or "", action


def _task(t: dict, names: dict) -> Task:
    activity = text(first([t], "activityId", "activity_id"))
    created = first([t], "createTime", "create_time")
    return Task(task_id=text(first([t], "taskId", "taskid")),
                user=text(first([t], "userId", "userid")), activity=activity,
                node=names.get(activity) or activity,
                status=text(first([t], "status", "task_status")),
                created=utc_iso(created), created_cmp=local_naive(created),
                finished_cmp=local_naive(first([t], "finishTime", "finish_time")))


def _end_event(ref: str, inst: dict, attributes: dict, rows: list[dict]) -> dict | None:
    """An instance the API reports as ended, but whose records hold no end: add the end."""
    if any(r.get(C.outcome) in TERMINAL for r in rows):
        return None
    status = (text(inst.get("status")) or "").upper()
    result = (text(inst.get("result")) or "").lower()
    finish = first([inst], "finishTime", "finish_time")
    if status == "COMPLETED" and result == "agree":
        outcome = "archive"
    elif status in ("TERMINATED", "CANCELED"):
        outcome = "withdraw"
    else:
        return None
    if finish is None:
        return None
    return {**attributes, C.node: "结束", C.outcome: outcome, C.acted_at: utc_iso(finish),
            C.source_row: f"{ref}: finishTime (status {status}, result {result or '-'})",
            "api_action": f"status {status}/{result or '-'}"}


def _modified_instance(inst: dict, state: _State) -> str | None:
    """The instance this one modifies: an approved instance that is changed is re-approved as a
    new instance (bizAction MODIFY) naming it in mainProcessInstanceId. A revocation (REVOKE)
    also names it, but undoes the request rather than continuing it: not linked."""
    action = (text(first([inst], "bizAction", "biz_action")) or "").upper()
    main = text(first([inst], "mainProcessInstanceId", "main_process_instance_id"))
    if main is None or action not in ("MODIFY", "REVOKE"):
        return None
    if action == "REVOKE":
        state.revokes += 1
        return None
    state.modifies += 1
    return main


def _form_fields(inst: dict) -> list[tuple[str, object, bool]]:
    """The form's components as (name, value, is a money field)."""
    return [(text(item.get("name")) or "", item.get("value"),
             (text(first([item], "componentType", "component_type")) or "") == "MoneyField")
            for item in inst.get("formComponentValues") or inst.get("form_component_values") or []
            if isinstance(item, dict)]
