"""Write the Weaver e-cology fixture exports in this folder (run once; the CSVs are committed).

The scenario: 8 requests of two workflows of a small company, exported the way an office
exports them from the e-cology database (one CSV per table, DB column names):

* 3001 费用报销, straight through, with a draft save (LOGTYPE 1) before the submit.
* 3002 费用报销, returned by 财务审核 (3), resubmitted, approved by 总经理 from the phone.
* 3003 费用报销, 财务审核 transferred (h, 转办) to 黄涛, who approves.
* 3004 费用报销, open: waiting at 财务审核 (currentoperator row ISREMARK 0 without an
  operation: a pending item) and copied to 刘洋, who has not read it yet (ISREMARK 8: a
  pending cc).
* 3005 发文, 督办 (s) by 吴刚 while 周强 reviews, 抄送 (t) read by 王芳, 编号用印 submits.
* 3006 发文, 转发 (7) to 赵敏, 批注 (9) by 赵敏, returned by 领导签发, resubmitted; a copy to
  王芳 at 编号用印 is still unread (ISREMARK 8) after the request was archived (not pending).
* 3007 发文, stuck at 领导签发, forced archive (e) by the system administrator (id 1).
* 3008 费用报销, one row with its date written day-first (2024-13-03, an export edited by
  hand) and one row with an unknown LOGTYPE ``x``.

workflow_requestlog.csv is GBK with upper-case headers (a SQL Server export opened in Excel
and saved as CSV); workflow_currentoperator.csv is UTF-8 with BOM and lower-case headers;
the other companions are UTF-8 or GBK. ``log_only/`` holds the request log alone.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).parent

# --- master data ---------------------------------------------------------------------------
DEPARTMENTS = [(11, "CWB", "财务部"), (12, "XZB", "行政办公室"), (13, "SCB", "市场部"),
               (14, "YFZX", "研发中心"), (15, "ZJB", "总经理办公室")]
PEOPLE = [  # id, loginid, lastname, departmentid, workcode
    (201, "zhangwei", "张伟", 13, "A0201"), (202, "wangfang", "王芳", 13, "A0202"),
    (203, "lina", "李娜", 11, "A0203"), (204, "liuyang", "刘洋", 15, "A0204"),
    (205, "chenjing", "陈静", 11, "A0205"), (206, "yanglei", "杨磊", 14, "A0206"),
    (207, "zhaomin", "赵敏", 14, "A0207"), (208, "sunli", "孙丽", 12, "A0208"),
    (209, "zhouqiang", "周强", 12, "A0209"), (210, "wugang", "吴刚", 15, "A0210"),
    (211, "zhengshuang", "郑爽", 12, "A0211"), (212, "huangtao", "黄涛", 11, "A0212"),
]
DEPT_OF = {p[0]: p[3] for p in PEOPLE} | {1: 12}
WORKFLOWS = [(101, "费用报销", 5), (102, "发文", 7)]
NODES = [  # id, name, isstart, isend, nodeattribute
    (1011, "填写报销单", 1, 0), (1012, "部门经理审批", 0, 0), (1013, "财务审核", 0, 0),
    (1014, "总经理审批", 0, 0), (1015, "出纳付款", 0, 0), (1016, "归档", 0, 1),
    (1021, "拟稿", 1, 0), (1022, "部门负责人核稿", 0, 0), (1024, "领导签发", 0, 0),
    (1025, "编号用印", 0, 0), (1026, "归档", 0, 1),
]

MOBILE = "<br/><br/><span style='font-size:11px;color:#666;'>来自iPhone客户端</span>"

# --- the log: (requestid, nodeid, logtype, date, time, operator, remark, destnodeid, received)
LOG = [
    (3001, 1011, "1", "2024-03-04", "09:14:00", 201, "", 0, ""),
    (3001, 1011, "2", "2024-03-04", "09:15:40", 201, "<p>申请报销上海出差费用，请审批。</p>", 1012, "王芳"),
    (3001, 1012, "0", "2024-03-04", "14:02:11", 202, "<p>同意</p>", 1013, "李娜"),
    (3001, 1013, "0", "2024-03-05", "10:30:00", 203, "<p>票据齐全，同意。</p>", 1015, "陈静"),
    (3001, 1015, "2", "2024-03-06", "16:45:12", 205, "<p>已付款</p>", 1016, ""),

    (3002, 1011, "2", "2024-03-05", "09:01:30", 206, "<p>研发测试设备采购报销</p>", 1012, "赵敏"),
    (3002, 1012, "0", "2024-03-05", "11:20:00", 207, "<p>同意</p>", 1013, "李娜"),
    (3002, 1013, "3", "2024-03-06", "09:40:00", 203,
     "<p>发票抬头有误，请重新开具后提交。</p>", 1011, "杨磊"),
    (3002, 1011, "2", "2024-03-07", "15:10:00", 206, "<p>已重新开具发票</p>", 1012, "赵敏"),
    (3002, 1012, "0", "2024-03-08", "09:05:00", 207, "同意", 1013, "李娜"),
    (3002, 1013, "0", "2024-03-08", "13:30:00", 203, "<p>同意</p>", 1014, "刘洋"),
    (3002, 1014, "0", "2024-03-11", "10:00:00", 204, "<p>同意</p>" + MOBILE, 1015, "陈静"),
    (3002, 1015, "2", "2024-03-11", "15:20:00", 205, "<p>已付款</p>", 1016, ""),

    (3003, 1011, "2", "2024-03-07", "10:05:00", 201, "<p>市场活动物料费，请审批</p>", 1012, "王芳"),
    (3003, 1012, "0", "2024-03-07", "17:30:00", 202, "<p>同意</p>", 1013, "李娜"),
    (3003, 1013, "h", "2024-03-08", "09:00:00", 203, "<p>本人休假，转黄经理处理</p>", 1013, "黄涛"),
    (3003, 1013, "0", "2024-03-08", "11:15:00", 212, "<div>同意&nbsp;请出纳付款</div>", 1015, "陈静"),
    (3003, 1015, "2", "2024-03-08", "16:00:00", 205, "<p>已付款</p>", 1016, ""),

    (3004, 1011, "2", "2024-03-12", "09:10:00", 206, "<p>北京出差报销</p>", 1012, "赵敏"),
    (3004, 1012, "0", "2024-03-12", "10:00:00", 207, "<p>同意</p>", 1013, "李娜"),

    (3005, 1021, "2", "2024-03-04", "14:30:00", 208, "<p>请审核</p>", 1022, "周强"),
    (3005, 1022, "s", "2024-03-05", "16:00:00", 210, "<p>请尽快核稿</p>", 0, "周强"),
    (3005, 1022, "0", "2024-03-06", "09:20:00", 209, "<p>核稿无误</p>", 1024, "吴刚"),
    (3005, 1024, "0", "2024-03-06", "11:00:00", 210, "<p>同意发文</p>", 1025, "郑爽,王芳"),
    (3005, 1025, "t", "2024-03-06", "15:30:00", 202, "", 0, ""),
    (3005, 1025, "2", "2024-03-07", "09:30:00", 211, "<p>已编号：安字〔2024〕12号</p>", 1026, ""),

    (3006, 1021, "2", "2024-03-08", "09:30:00", 208, "<p>请审核</p>", 1022, "周强"),
    (3006, 1022, "7", "2024-03-08", "10:00:00", 209, "<p>请研发中心阅知并提意见</p>", 0, "赵敏"),
    (3006, 1022, "9", "2024-03-08", "14:00:00", 207,
     "<p>第三条技术评审流程建议补充&lt;br&gt;其余无意见</p>", 0, ""),
    (3006, 1022, "0", "2024-03-11", "09:00:00", 209, "<p>同意</p>", 1024, "吴刚"),
    (3006, 1024, "3", "2024-03-11", "17:00:00", 210, "<p>文字需要再斟酌，退回修改</p>", 1021, "孙丽"),
    (3006, 1021, "2", "2024-03-12", "10:00:00", 208, "<p>已修改</p>", 1022, "周强"),
    (3006, 1022, "0", "2024-03-12", "11:00:00", 209, "<p>同意</p>", 1024, "吴刚"),
    (3006, 1024, "0", "2024-03-13", "09:00:00", 210,
     '<p>同意</p><img src="/weaver/weaver.file.FileDownload?fileid=8812" />', 1025, "郑爽"),
    (3006, 1025, "2", "2024-03-13", "14:00:00", 211, "<p>已编号：研字〔2024〕5号</p>", 1026, ""),

    (3007, 1021, "2", "2024-03-05", "10:10:00", 208, "<p>请审核会议通知</p>", 1022, "周强"),
    (3007, 1022, "0", "2024-03-05", "15:00:00", 209, "<p>同意</p>", 1024, "吴刚"),
    (3007, 1024, "e", "2024-03-14", "17:30:00", 1, "<p>会议取消，强制归档</p>", 1026, ""),

    (3008, 1011, "2", "2024-03-13", "09:05:00", 201, "<p>办公用品报销</p>", 1012, "王芳"),
    (3008, 1012, "0", "2024-13-03", "11:00:00", 202, "<p>同意</p>", 1013, "李娜"),
    (3008, 1013, "x", "2024-03-13", "13:00:00", 203, "<p>系统自动处理</p>", 1013, ""),
    (3008, 1013, "0", "2024-03-13", "14:00:00", 203, "<p>同意</p>", 1015, "陈静"),
    (3008, 1015, "2", "2024-03-14", "10:00:00", 205, "<p>已付款</p>", 1016, ""),
]

# work items: (requestid, nodeid, userid, receive date, receive time, isremark, operated at)
CURRENT = [
    (3001, 1011, 201, "2024-03-04", "09:12:05", "2", "2024-03-04 09:15:40"),
    (3001, 1012, 202, "2024-03-04", "09:15:40", "2", "2024-03-04 14:02:11"),
    (3001, 1013, 203, "2024-03-04", "14:02:11", "2", "2024-03-05 10:30:00"),
    (3001, 1015, 205, "2024-03-05", "10:30:00", "2", "2024-03-06 16:45:12"),
    (3001, 1016, 201, "2024-03-06", "16:45:12", "4", ""),
    (3002, 1011, 206, "2024-03-05", "08:50:00", "2", "2024-03-05 09:01:30"),
    (3002, 1012, 207, "2024-03-05", "09:01:30", "2", "2024-03-05 11:20:00"),
    (3002, 1013, 203, "2024-03-05", "11:20:00", "2", "2024-03-06 09:40:00"),
    (3002, 1011, 206, "2024-03-06", "09:40:00", "2", "2024-03-07 15:10:00"),
    (3002, 1012, 207, "2024-03-07", "15:10:00", "2", "2024-03-08 09:05:00"),
    (3002, 1013, 203, "2024-03-08", "09:05:00", "2", "2024-03-08 13:30:00"),
    (3002, 1014, 204, "2024-03-08", "13:30:00", "2", "2024-03-11 10:00:00"),
    (3002, 1015, 205, "2024-03-11", "10:00:00", "2", "2024-03-11 15:20:00"),
    (3002, 1016, 206, "2024-03-11", "15:20:00", "4", ""),
    (3003, 1011, 201, "2024-03-07", "10:00:00", "2", "2024-03-07 10:05:00"),
    (3003, 1012, 202, "2024-03-07", "10:05:00", "2", "2024-03-07 17:30:00"),
    (3003, 1013, 203, "2024-03-07", "17:30:00", "2", "2024-03-08 09:00:00"),
    (3003, 1013, 212, "2024-03-08", "09:00:00", "2", "2024-03-08 11:15:00"),
    (3003, 1015, 205, "2024-03-08", "11:15:00", "2", "2024-03-08 16:00:00"),
    (3003, 1016, 201, "2024-03-08", "16:00:00", "4", ""),
    (3004, 1011, 206, "2024-03-12", "09:00:00", "2", "2024-03-12 09:10:00"),
    (3004, 1012, 207, "2024-03-12", "09:10:00", "2", "2024-03-12 10:00:00"),
    (3004, 1013, 203, "2024-03-12", "10:00:00", "0", ""),
    (3005, 1021, 208, "2024-03-04", "14:00:00", "2", "2024-03-04 14:30:00"),
    (3005, 1022, 209, "2024-03-04", "14:30:00", "2", "2024-03-06 09:20:00"),
    (3005, 1024, 210, "2024-03-06", "09:20:00", "2", "2024-03-06 11:00:00"),
    (3005, 1025, 211, "2024-03-06", "11:00:00", "2", "2024-03-07 09:30:00"),
    (3005, 1025, 202, "2024-03-06", "11:00:00", "2", "2024-03-06 15:30:00"),
    (3005, 1026, 208, "2024-03-07", "09:30:00", "4", ""),
    (3006, 1021, 208, "2024-03-08", "09:00:00", "2", "2024-03-08 09:30:00"),
    (3006, 1022, 209, "2024-03-08", "09:30:00", "2", "2024-03-11 09:00:00"),
    (3006, 1022, 207, "2024-03-08", "10:00:00", "2", "2024-03-08 14:00:00"),
    (3006, 1024, 210, "2024-03-11", "09:00:00", "2", "2024-03-11 17:00:00"),
    (3006, 1021, 208, "2024-03-11", "17:00:00", "2", "2024-03-12 10:00:00"),
    (3006, 1022, 209, "2024-03-12", "10:00:00", "2", "2024-03-12 11:00:00"),
    (3006, 1024, 210, "2024-03-12", "11:00:00", "2", "2024-03-13 09:00:00"),
    (3006, 1025, 211, "2024-03-13", "09:00:00", "2", "2024-03-13 14:00:00"),
    (3006, 1026, 208, "2024-03-13", "14:00:00", "4", ""),
    (3007, 1021, 208, "2024-03-05", "10:00:00", "2", "2024-03-05 10:10:00"),
    (3007, 1022, 209, "2024-03-05", "10:10:00", "2", "2024-03-05 15:00:00"),
    (3007, 1024, 210, "2024-03-05", "15:00:00", "4", ""),
    (3008, 1011, 201, "2024-03-13", "09:00:00", "2", "2024-03-13 09:05:00"),
    (3008, 1012, 202, "2024-03-13", "09:05:00", "2", "2024-03-13 11:00:00"),
    (3008, 1013, 203, "2024-03-13", "11:00:00", "2", "2024-03-13 14:00:00"),
    (3008, 1015, 205, "2024-03-13", "14:00:00", "2", "2024-03-14 10:00:00"),
    (3008, 1016, 201, "2024-03-14", "10:00:00", "4", ""),
    # unread copies (抄送, 不需提交), listed last as the database appends them
    (3004, 1012, 204, "2024-03-12", "10:00:00", "8", ""),
    (3006, 1025, 202, "2024-03-13", "09:00:00", "8", ""),
]

# requestid, workflowid, name, creater, created, level, currentnodeid, currentnodetype, status
REQUESTS = [
    (3001, 101, "差旅费报销-张伟-上海客户拜访", 201, "2024-03-04 09:12:05", 0, 1016, 3, "归档"),
    (3002, 101, "测试设备采购报销-杨磊", 206, "2024-03-05 08:50:00", 1, 1016, 3, "归档"),
    (3003, 101, "市场活动物料费报销-张伟", 201, "2024-03-07 10:00:00", 0, 1016, 3, "归档"),
    (3004, 101, "差旅费报销-杨磊-北京", 206, "2024-03-12 09:00:00", 0, 1013, 1, "财务审核"),
    (3005, 102, "关于开展2024年度安全生产检查的通知", 208, "2024-03-04 14:00:00", 2, 1026, 3,
     "归档"),
    (3006, 102, "关于调整研发项目管理办法的通知", 208, "2024-03-08 09:00:00", 0, 1026, 3, "归档"),
    (3007, 102, "关于召开季度工作会议的通知", 208, "2024-03-05 10:00:00", 0, 1026, 3, "归档"),
    (3008, 101, "办公用品报销-张伟", 201, "2024-03-13 09:00:00", 0, 1016, 3, "归档"),
]


def _write(path: Path, header: list[str], rows: list[list], encoding: str) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def requestlog_rows() -> tuple[list[str], list[list]]:
    header = ["REQUESTID", "WORKFLOWID", "NODEID", "LOGTYPE", "OPERATEDATE", "OPERATETIME",
              "OPERATOR", "REMARK", "CLIENTIP", "OPERATORTYPE", "DESTNODEID", "RECEIVEDPERSONS",
              "SHOWORDER", "AGENTORBYAGENTID", "AGENTTYPE", "LOGID", "ANNEXDOCIDS",
              "REQUESTLOGID", "OPERATORDEPT"]
    workflow_of = {r[0]: r[1] for r in REQUESTS}
    # the export is ordered by LOGID, i.e. by insertion: requests interleave
    ordered = sorted(LOG, key=lambda r: (r[3] if r[3] != "2024-13-03" else "2024-03-13", r[4]))
    rows = []
    for logid, (rid, node, typ, date, time, op, remark, dest, recv) in enumerate(ordered, 1001):
        rows.append([rid, workflow_of[rid], node, typ, date, time, op, remark,
                     f"10.8.{op % 7}.{op % 200}", 0, dest, recv, 0, -1, "", logid, "", 0,
                     DEPT_OF[op]])
    return header, rows


def main() -> None:
    export = HERE / "export"
    export.mkdir(exist_ok=True)
    (HERE / "log_only").mkdir(exist_ok=True)
    header, rows = requestlog_rows()
    _write(export / "workflow_requestlog.csv", header, rows, "gbk")
    _write(HERE / "log_only" / "workflow_requestlog.csv", header, rows, "gbk")

    workflow_of = {r[0]: r[1] for r in REQUESTS}
    last_op = {}
    for rid, _, _, date, time, op, *_ in LOG:
        if date != "2024-13-03" and (date, time) >= last_op.get(rid, ("", "", 0))[:2]:
            last_op[rid] = (date, time, op)
    _write(export / "workflow_currentoperator.csv",
           ["id", "requestid", "userid", "groupid", "workflowid", "workflowtype", "isremark",
            "usertype", "nodeid", "agentorbyagentid", "agenttype", "showorder", "receivedate",
            "receivetime", "viewtype", "iscomplete", "islasttimes", "operatedate", "operatetime"],
           [[i, rid, uid, 0, workflow_of[rid], 5 if workflow_of[rid] == 101 else 7, isr, 0, node,
             -1, 0, 0, rdate, rtime, -2, 1 if isr == "4" else 0, 1,
             op.split(" ")[0] if op else "", op.split(" ")[1] if op else ""]
            for i, (rid, node, uid, rdate, rtime, isr, op) in enumerate(CURRENT, 50001)],
           "utf-8-sig")
    _write(export / "workflow_nodebase.csv",
           ["ID", "NODENAME", "ISSTART", "ISREJECT", "ISREOPEN", "ISEND", "DRAWXPOS", "DRAWYPOS",
            "TOTALGROUPS", "NODEATTRIBUTE"],
           [[nid, name, start, 0 if start else 1, 0, end, 100 + i * 120, 80, 1, 0]
            for i, (nid, name, start, end) in enumerate(NODES)], "utf-8")
    _write(export / "workflow_base.csv",
           ["ID", "WORKFLOWNAME", "WORKFLOWDESC", "WORKFLOWTYPE", "ISVALID", "FORMID", "ISBILL"],
           [[wid, name, "", wtype, 1, -10 - wid, 1] for wid, name, wtype in WORKFLOWS], "utf-8")
    _write(export / "workflow_requestbase.csv",
           ["REQUESTID", "WORKFLOWID", "LASTNODEID", "LASTNODETYPE", "CURRENTNODEID",
            "CURRENTNODETYPE", "STATUS", "PASSEDGROUPS", "TOTALGROUPS", "REQUESTNAME", "CREATER",
            "CREATEDATE", "CREATETIME", "LASTOPERATOR", "LASTOPERATEDATE", "LASTOPERATETIME",
            "DELETED", "CREATERTYPE", "REQUESTLEVEL", "REQUESTMARK"],
           [[rid, wid, cur, ctype, cur, ctype, status, 0, 1, name, creater,
             created.split(" ")[0], created.split(" ")[1], last_op[rid][2], last_op[rid][0],
             last_op[rid][1], 0, 0, level, ""]
            for rid, wid, name, creater, created, level, cur, ctype, status in REQUESTS],
           "utf-8")
    _write(export / "HrmResource.csv",
           ["ID", "LOGINID", "LASTNAME", "DEPARTMENTID", "SUBCOMPANYID1", "STATUS", "WORKCODE"],
           [[pid, login, name, dept, 1, 1, code] for pid, login, name, dept, code in PEOPLE],
           "gbk")
    _write(export / "HrmDepartment.csv",
           ["ID", "DEPARTMENTMARK", "DEPARTMENTNAME", "SUBCOMPANYID1", "SUPDEPID"],
           [[did, mark, name, 1, 0] for did, mark, name in DEPARTMENTS], "gbk")


if __name__ == "__main__":
    main()
