"""A small Chinese OA export (two requests, one returned and resubmitted) and the CSV writer
the import, CLI, calendar and relation tests share."""

from __future__ import annotations

import csv
from pathlib import Path


CN_HEADER = ["请求ID", "流程名称", "节点名称", "操作类型", "操作人", "接收日期", "接收时间",
             "操作日期", "操作时间", "签字意见", "金额"]
CN_ROWS = [
    ["R1", "费用报销", "发起", "提交", "张三", "", "", "2025/3/5", "9:05", "", "1,200.00"],
    ["R1", "费用报销", "财务初审", "退回", "李四", "2025/3/5", "9:05", "2025/3/6", "10:00",
     "材料不全，请补充发票", ""],
    ["R1", "费用报销", "发起", "提交", "张三", "2025/3/6", "10:00", "2025/3/6", "15:00", "", ""],
    ["R1", "费用报销", "财务初审", "同意", "李四", "2025/3/6", "15:00", "2025/3/7", "9:00",
     "同意", ""],
    ["R1", "费用报销", "归档", "归档", "系统", "2025/3/7", "9:00", "2025/3/7", "9:01", "", ""],
    ["R2", "用印申请", "发起", "提交", "王五", "", "", "2025年3月7日", "09:00", "", ""],
    ["R2", "用印申请", "办公室审核", "批准", "赵六", "2025年3月7日", "09:00", "2025年3月10日",
     "11:30", "", ""],
]


def write_csv(path: Path, header, rows, encoding="utf-8", delimiter=","):
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path
