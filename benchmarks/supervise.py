"""Benchmark: one weekly run of the supervision ledger (督办台账) over a 1M-event log.

The log is `bench.py`'s export of the given size (generated, then imported to Parquet, once;
both reused from ``benchmarks/out/``). Each stage runs in a fresh interpreter and records its
work time (after imports), peak resident memory, the load average when it started and the CPU
time stolen by the host meanwhile, as `bench.py` does:

=========  ==================================================================================
first      a new ledger: `read_log` + `Ledger.update(log, as_of=<a week before the log's end>)`
           + the digest's PDF, JSON and workbook
next       the week after, on that ledger: `read_log` + `update(log)` (as of the log's end:
           entries carried and struck off) + the digest's files
again      the same week once more (idempotent: nothing changes)
cli        `officemine supervise LOG --ledger … -o …` for the next week as a whole command, on
           a copy of the first ledger: wall time including the interpreter start and imports
=========  ==================================================================================

    .venv/bin/python benchmarks/supervise.py --size 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (the house benchmark: generator, machine facts, measurements)

STAGES = ("first", "next", "again", "cli")
AS_OF_FIRST = "2025-10-24 17:30"       # bench.py's exports end on 2025-10-31


def child(stage: str, parquet: Path, ledger: Path, work: Path) -> None:
    t = time.perf_counter()
    import officemine
    from officemine.rendering.digest import write_digest
    from officemine.supervision import Ledger
    import matplotlib.pyplot  # noqa: F401
    import openpyxl  # noqa: F401

    startup = time.perf_counter() - t
    phases = {}
    t0 = time.perf_counter()
    log = officemine.read_log(parquet)
    phases["read_log"] = round(time.perf_counter() - t0, 3)
    with Ledger(ledger) as book:
        t = time.perf_counter()
        digest = book.update(log, AS_OF_FIRST if stage == "first" else None)
        phases["update"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        if digest.status == "recorded":
            write_digest(digest, work / "digests")
        phases["files"] = round(time.perf_counter() - t, 3)
    seconds = time.perf_counter() - t0
    print("__RESULT__ " + json.dumps({
        "seconds": round(seconds, 3), "startup": round(startup, 2), "phases": phases,
        "status": "ok", "week": digest.week, "digest": digest.status,
        "counts": digest.counts, "events": log.n_events}), flush=True)


def measure(argv: list[str], work: Path, name: str) -> dict:
    """Run a process; its wall time, peak RSS, load and steal (and its __RESULT__ line)."""
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    cpu = bench._cpu_times()
    start = time.perf_counter()
    with open(work / f"{name}.stdout", "w") as out, open(work / f"{name}.stderr", "w") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    record = {"stage": name, "wall": round(wall, 2), "peak_mib": round(usage.ru_maxrss / 1024),
              "load_before": round(load, 2), "steal_pct": bench._steal_pct(cpu, bench._cpu_times()),
              "exit": os.waitstatus_to_exitcode(status), "date": time.strftime("%Y-%m-%d %H:%M")}
    lines = (work / f"{name}.stdout").read_text().splitlines()
    result = [ln for ln in lines if ln.startswith("__RESULT__ ")]
    if result:
        record.update(json.loads(result[-1][len("__RESULT__ "):]))
    elif record["exit"] != 0:
        record["error"] = ((work / f"{name}.stderr").read_text().strip().splitlines()
                           or ["(no output)"])[-1][-200:]
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    csv = bench.generate_export(args.size, args.out / f"oa_{args.size}.csv")
    parquet = args.out / f"oa_{args.size}.parquet"
    if not parquet.exists():
        bench._progress("importing the export …")
        import officemine

        officemine.import_log(csv).write(parquet)
    work = args.out / f"supervise_{args.size}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ledger = work / "duban.db"
    records = []
    for stage in ("first", "next", "again"):
        if stage == "next":
            shutil.copy(ledger, work / "after_first.db")
        bench._progress(f"{stage} …")
        records.append(measure([sys.executable, __file__, "--child", stage, str(parquet),
                                str(ledger), str(work)], work, stage))
    cli_ledger = work / "cli.db"
    shutil.copy(work / "after_first.db", cli_ledger)
    officemine_cli = Path(sys.executable).parent / "officemine"
    bench._progress("cli …")
    records.append(measure([str(officemine_cli), "supervise", str(parquet), "--ledger",
                            str(cli_ledger), "-o", str(work / "cli_digests")], work, "cli"))
    results = {"machine": bench.machine(), "versions": bench.versions(), "size": args.size,
               "records": records}
    (args.out / f"supervise_{args.size}.json").write_text(json.dumps(results, indent=1,
                                                                    ensure_ascii=False))
    print(f"{results['machine']}; {results['versions']}")
    print("| stage | seconds | phases | peak RSS | load · steal |")
    print("|---|---:|---|---:|---|")
    for r in records:
        secs = r.get("seconds", r["wall"])
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r.get("phases", {}).items()) or \
            f"whole command (wall, exit {r['exit']})"
        print(f"| {r['stage']} | {secs:.2f} | {phases} | {r['peak_mib'] / 1024:.1f} GiB | "
              f"{r['load_before']:.1f} · {r['steal_pct']} % |")
        if r.get("counts"):
            print(f"|  | {r['week']} {r['digest']}: {r['counts']} |  |  |  |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
