"""Benchmark: importing an OA export (GBK CSV, Chinese headers, date and time columns).

For each size it writes a synthetic export shaped like the sample log, then runs each stage
in a fresh subprocess (so peak memory is the stage's own, Arrow buffers included) and records
wall time and peak resident memory:

* officemine: `import_log` + `EventLog.write` (CSV -> validated Parquet log)
* pm4py baseline: `pandas.read_csv` + joining date and time + `pm4py.format_dataframe`
  (what an analyst would otherwise do; it validates nothing and keeps no provenance)

    python benchmarks/bench_import.py --sizes 100000 1000000 --write-readme

Figures depend on the machine; the table says which one it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
NODES = ["发起", "部门负责人审核", "综合办公室审核", "财务初审", "财务复核", "分管领导审批", "归档"]
WORDS = {"发起": "提交", "归档": "归档"}


def make_export(n_events: int, path: Path, seed: int = 0) -> Path:
    """A GBK CSV export of about n_events rows: 7-step chains, some returns, open cases."""
    rng = np.random.default_rng(seed)
    n_cases = n_events // len(NODES) + 1
    case = np.repeat(np.arange(n_cases), len(NODES))[:n_events]
    step = np.tile(np.arange(len(NODES)), n_cases)[:n_events]
    start = pd.Timestamp("2024-11-01 09:00") + pd.to_timedelta(
        rng.uniform(0, 365 * 24 * 3600, n_cases), unit="s")
    gaps = rng.lognormal(np.log(4 * 3600), 1.0, n_events)
    gaps[step == 0] = 0
    offsets = pd.Series(gaps).groupby(case).cumsum().to_numpy()
    acted = start[case] + pd.to_timedelta(offsets, unit="s")
    arrived = start[case] + pd.to_timedelta(offsets - gaps, unit="s")
    node = np.array(NODES, dtype=object)[step]
    outcome = np.where(rng.random(n_events) < 0.06, "退回", "同意").astype(object)
    for name, word in WORDS.items():
        outcome[node == name] = word
    people = np.array([f"员工{i:04d}" for i in range(500)], dtype=object)
    frame = pd.DataFrame({
        "流程编号": np.char.add("BX", case.astype(str)),
        "流程类型": "费用报销",
        "节点名称": node,
        "操作类型": outcome,
        "操作人": people[rng.integers(0, len(people), n_events)],
        "接收日期": arrived.strftime("%Y/%-m/%-d"),
        "接收时间": arrived.strftime("%-H:%M"),
        "操作日期": acted.strftime("%Y/%-m/%-d"),
        "操作时间": acted.strftime("%-H:%M"),
        "签字意见": np.where(outcome == "退回", "材料不全，请补充", "同意"),
        "金额": np.round(rng.lognormal(8, 1, n_cases), 2)[case],
    })
    frame.loc[step == 0, ["接收日期", "接收时间"]] = ""
    frame.to_csv(path, index=False, encoding="gbk")
    return path


OFFICEMINE_STAGE = """
import officemine, sys
log = officemine.import_log(sys.argv[1])
log.write(sys.argv[2])
print(log.report.rows_accepted)
"""
PM4PY_STAGE = """
import pandas as pd, pm4py, sys
df = pd.read_csv(sys.argv[1], encoding="gbk", dtype=str, keep_default_na=False)
df["time:timestamp"] = pd.to_datetime(df["操作日期"] + " " + df["操作时间"], format="%Y/%m/%d %H:%M")
df = pm4py.format_dataframe(df, case_id="流程编号", activity_key="节点名称",
                            timestamp_key="time:timestamp")
print(len(df))
"""


def run_stage(code: str, *args: str) -> dict:
    """Run code in a fresh interpreter; wall time and peak RSS (MiB) of that process."""
    wrapper = ("import resource, time, runpy, sys\nt = time.perf_counter()\n"
               f"exec(compile({code!r}, 'stage', 'exec'))\n"
               "print('__STATS__', time.perf_counter() - t, "
               "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")
    done = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True)
    if done.returncode != 0:
        return {"seconds": None, "peak_mib": None, "error": done.stderr.strip().splitlines()[-1]}
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("__STATS__")][-1].split()
    return {"seconds": float(line[1]), "peak_mib": float(line[2])}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if "model name" in ln), cpu)
    except OSError:
        model = cpu
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--write-readme", action="store_true",
                        help="replace the import benchmark table in README.md")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        csv_path = make_export(n, args.out / f"export_{n}.csv")
        size_mb = csv_path.stat().st_size / 2**20
        ours = run_stage(OFFICEMINE_STAGE, str(csv_path), str(args.out / f"log_{n}.parquet"))
        base = run_stage(PM4PY_STAGE, str(csv_path))
        rows.append({"events": n, "csv_mib": round(size_mb, 1), "officemine": ours, "pm4py": base})
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    table = render(rows)
    print(table)
    if args.write_readme:
        text = README.read_text(encoding="utf-8")
        block = f"<!-- bench-import:start -->\n{table}\n<!-- bench-import:end -->"
        text = re.sub(r"<!-- bench-import:start -->.*?<!-- bench-import:end -->", block, text,
                      flags=re.S)
        README.write_text(text, encoding="utf-8")


def render(rows: list[dict]) -> str:
    def cell(stage: dict) -> str:
        if stage["seconds"] is None:
            return f"failed: {stage['error'][:60]}"
        return f"{stage['seconds']:.1f} s, {stage['peak_mib']:,.0f} MiB"

    lines = [f"Measured on {machine()}, {time.strftime('%Y-%m-%d')}.", "",
             "| events | CSV (GBK) | officemine import → Parquet (validated) | pm4py baseline: read_csv + format_dataframe |",
             "|---:|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r['events']:,} | {r['csv_mib']} MiB | {cell(r['officemine'])} | "
                     f"{cell(r['pm4py'])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
