"""Benchmark: officemine's stages against the pm4py-on-pandas equivalent, 100k to 10M events.

For each size it writes a GBK CSV export shaped like the sample log (`officemine.synthetic`:
six process types, their node chains, returns with resubmission rounds, 转办/加签, cc and
reminder rows, recorded arrivals, open cases with 未办 rows, amounts, departments, Chinese
names, and the 2025-07-01 redesign), then runs every stage in a fresh interpreter and records
its wall time and peak resident memory:

=================  ===========================================================================
import             `import_log(csv)` + `EventLog.write` (CSV -> validated Parquet log)
import_stream      `importing.streaming.import_streaming(csv, parquet, memory_limit="3GB")`:
                   the same log, one batch of whole cases at a time (any size)
necessity          `read_log` + `necessity(log)`
necessity_batched  `read_log` + `necessity(log, since="all", memory_limit="3GB")`: the stored log's
                   items in batches of whole cases, their facts merged (any size)
kpis               `read_log` + `monthly_kpis(log)` (the month the log ends in)
kpis_batched       `read_log` + `monthly_kpis(log, memory_limit="3GB")`: the stored log's cases
                   in batches of whole cases, their months' facts merged (any size)
versions_batched   `read_log` + `process_versions(log, memory_limit="3GB")` (any size)
spark_local1/2     `officemine.spark.necessity` (since="all") in Spark local mode on 1 / 2 cores
spark_kpis_local1/2  `officemine.spark.monthly_kpis` (the month the log ends in), local mode
spark_versions_local2  `officemine.spark.versions.process_versions`, local mode on 2 cores
discover           `read_log` + `discover(log)` (variants, map, rework, hand-offs) + `save`
simulate           `read_log` + `simulate(log, scenarios/remove_office_check.toml, since="all")` (replay)
report             `read_log` + `monthly_report(log)` for the latest complete month + `write`
pm4py_necessity    `read_csv` + `format_dataframe` + performance DFG + per-activity rejection
                   counts (pm4py attribute filter) and wait statistics (`get_service_time`)
pm4py_necessity_parquet  the same statistics on the Parquet log officemine stored
                   (`read_parquet` of five columns + `format_dataframe`): no parsing left
pm4py_variants     `read_csv` + `format_dataframe` + `get_variants` + `discover_dfg`
=================  ===========================================================================

Times are the stage's work after its modules are imported (interpreter start and imports,
about 2-3 s, are reported separately as `startup`); memory is the peak RSS of the stage's
process (`os.wait4`, i.e. `ru_maxrss`). Each stage is stopped when its resident memory passes
`--mem-cap-gib` or its time `--timeout`; the 1-minute load average before and after, and the
CPU time stolen by the hypervisor while the stage ran, are recorded with every figure,
because other jobs may share the machine.

    python benchmarks/bench.py --sizes 100000 1000000 --write-readme
    python benchmarks/bench.py --sizes 10000000 --timeout 900 --write-readme
    python benchmarks/bench.py --sizes 1000000 --stages import necessity

Results accumulate in ``benchmarks/out/results.json`` (one record per size and stage, the
newest wins), so sizes can be run separately; ``--write-readme`` renders all of them into the
block between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` of README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = ROOT / "README.md"
SCENARIO = ROOT / "scenarios" / "remove_office_check.toml"
REPORT_CONFIG = ROOT / "sample_logs" / "report.toml"

#: Generator settings (changing them changes every generated file: bump GENERATOR).
GENERATOR = 1
START, END = "2024-11-01", "2025-10-31"
SEED = 20251101
EVENTS_PER_SCALE = 13_200          # about what one year of the default office writes
CHUNK_EVENTS = 500_000             # generate big logs in independent chunks ("branches")

OFFICEMINE_STAGES = ("import", "import_stream", "necessity", "necessity_batched", "kpis",
                     "kpis_batched", "versions_batched", "discover", "simulate", "report")
#: Spark in local mode on 1 and 2 cores (stage -> master); partitions of whole cases
SPARK_STAGES = {"spark_local1": "local[1]", "spark_local2": "local[2]",
                "spark_kpis_local1": "local[1]", "spark_kpis_local2": "local[2]",
                "spark_versions_local2": "local[2]"}
#: partitions of whole cases (`--spark-partitions`; the child reads it from the environment)
SPARK_PARTITIONS = int(os.environ.get("OFFICEMINE_BENCH_SPARK_PARTITIONS", "16"))
#: stages that write the log the later stages read
IMPORT_STAGES = ("import", "import_stream")
PM4PY_STAGES = ("pm4py_necessity", "pm4py_necessity_parquet", "pm4py_variants")
STAGES = OFFICEMINE_STAGES + PM4PY_STAGES + tuple(SPARK_STAGES)

#: the memory setting of the streamed import (its default)
STREAM_LIMIT = "3GB"

#: stage -> (label, target at 1M, target at 10M): seconds and, where set, GiB
TARGETS = {
    "import": ("import CSV → Parquet", (10, None), (90, 6)),
    "import_stream": ("import CSV → Parquet, streamed within 3 GB", None, None),
    "necessity": ("necessity", (2, None), (15, 3)),
    "necessity_batched": ("necessity out of core within 3 GB (since all)", None, None),
    "kpis": ("monthly KPIs (one month)", None, None),
    "kpis_batched": ("monthly KPIs out of core within 3 GB (one month)", None, None),
    "versions_batched": ("process versions out of core within 3 GB", None, None),
    "discover": ("discover (variants + map …)", (5, None), (40, None)),
    "simulate": ("simulate (replay, one scenario)", (10, None), (90, None)),
    "report": ("report (one month)", (30, None), (60, None)),
    "pm4py_necessity": ("pm4py: read_csv + format + perf. DFG + rejections + waits", None, None),
    "pm4py_necessity_parquet": ("pm4py: read officemine's Parquet + format + perf. DFG + "
                                "rejections + waits", None, None),
    "pm4py_variants": ("pm4py: read_csv + format + variants + DFG", None, None),
    "spark_local1": ("Spark local[1]: necessity (since all)", None, None),
    "spark_local2": ("Spark local[2]: necessity (since all)", None, None),
    "spark_kpis_local1": ("Spark local[1]: monthly KPIs (one month)", None, None),
    "spark_kpis_local2": ("Spark local[2]: monthly KPIs (one month)", None, None),
    "spark_versions_local2": ("Spark local[2]: process versions", None, None),
}


# --- generation ------------------------------------------------------------------------------

def generate_export(n_events: int, path: Path, seed: int = SEED) -> Path:
    """Write a GBK CSV export of (close to, at most) `n_events` rows shaped like the sample.

    Big logs are generated as independent chunks of about `CHUNK_EVENTS` rows, each one
    branch of a group company: the default office of `officemine.synthetic` at a higher
    arrival rate, with its own case numbers and its own staff (names drawn from the same
    Chinese name generator). Cases are never cut: a chunk that would overshoot drops whole
    cases at random. Files are reused when they exist with the same settings.
    """
    import numpy as np

    from officemine.synthetic import (Redesign, _chinese_names, default_office_spec, generate,
                                      to_chinese_csv)

    meta_path = path.with_suffix(".json")
    settings = {"generator": GENERATOR, "n_events": n_events, "seed": seed,
                "start": START, "end": END, "chunk_events": CHUNK_EVENTS}
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("settings") == settings:
            return path
    spec = default_office_spec()
    redesign = Redesign("费用报销", remove_nodes=("综合办公室审核",), effective="2025-07-01")
    people = sorted({p for table in (spec.staff, spec.heads) for v in table.values() for p in v})
    n_chunks = max(1, -(-n_events // CHUNK_EVENTS))
    pool = _chinese_names(len(people) * (n_chunks + 2), np.random.default_rng(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    written, chunk, cases = 0, 0, 0
    tolerance = max(50, n_events // 1000)
    t0 = time.perf_counter()
    with open(path, "wb") as out, tempfile.TemporaryDirectory() as tmp:
        while n_events - written > tolerance:
            remaining = n_events - written
            target = min(CHUNK_EVENTS, remaining)
            log = generate(spec, start=START, end=END, seed=seed + chunk, redesigns=[redesign],
                           rate_scale=max(target / EVENTS_PER_SCALE * 1.03, 0.01))
            events = log.events
            if len(events) > remaining:             # drop whole cases, at random
                rng = np.random.default_rng(seed + 7919 * (chunk + 1))
                sizes = events.groupby("case_id", sort=False).size()
                order = sizes.iloc[rng.permutation(len(sizes))]
                keep = order.index[order.cumsum().to_numpy() <= remaining]
                events = events[events["case_id"].isin(keep)]
            if events.empty:
                chunk += 1
                continue
            # one branch: its own case numbers (BX07-20241101001) and its own people
            events = events.copy()
            events["case_id"] = (events["case_id"].str[:2] + f"{chunk:02d}-"
                                 + events["case_id"].str[2:])
            names = dict(zip(people, pool[chunk * len(people):(chunk + 1) * len(people)]))
            for column in ("resource", "applicant"):
                events[column] = events[column].map(lambda v: names.get(v, v),
                                                    na_action="ignore")
            part = to_chinese_csv(events, Path(tmp) / "part.csv", encoding="gbk")
            with open(part, "rb") as fh:
                header = fh.readline()
                if chunk == 0 or written == 0:
                    out.write(header)
                while block := fh.read(1 << 24):
                    out.write(block)
            written += len(events)
            cases += events["case_id"].nunique()
            chunk += 1
            _progress(f"  generated {written:,} / {n_events:,} events "
                      f"({time.perf_counter() - t0:.0f} s)")
    meta_path.write_text(json.dumps({"settings": settings, "events": written, "cases": cases,
                                     "chunks": chunk, "seconds": time.perf_counter() - t0},
                                    indent=1))
    return path


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the stages (run in a child interpreter) -------------------------------------------------

class _Phases(dict):
    @contextmanager
    def __call__(self, name: str):
        t = time.perf_counter()
        yield
        self[name] = round(time.perf_counter() - t, 3)


def _setup(stage: str) -> None:
    """Import what a stage needs, outside the timed work."""
    if stage in PM4PY_STAGES:
        import pandas  # noqa: F401
        import pm4py   # noqa: F401
    elif stage in SPARK_STAGES:      # the session (and its JVM) start outside the timed work
        _spark_session(SPARK_STAGES[stage])
    else:
        import officemine  # noqa: F401
        import officemine.necessity  # noqa: F401
        import officemine.discovery  # noqa: F401
        import officemine.review  # noqa: F401
        import officemine.kpis  # noqa: F401
        if stage in ("discover", "report"):      # the drawing and BPMN libraries
            import matplotlib.pyplot  # noqa: F401
            import pm4py  # noqa: F401
            import openpyxl  # noqa: F401
        if stage == "simulate":
            try:
                import officemine.simulation  # noqa: F401
            except ImportError:
                pass


def _spark_session(master: str):
    """A local Spark session on `master`'s cores; the Python workers run this interpreter."""
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master(master).appName("officemine bench")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", str(SPARK_PARTITIONS))
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.memory", "4g")
               # the process versions take each case's step order to the driver
               # (docs/spark.md: 4g holds about 100 million cases)
               .config("spark.driver.maxResultSize", "4g")
               .config("spark.python.worker.reuse", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def _run(stage: str, csv: Path, parquet: Path, work: Path, phase: _Phases) -> dict:
    if stage in PM4PY_STAGES:
        return _run_pm4py(stage, csv, phase, parquet)
    if stage in SPARK_STAGES:
        from officemine import spark as oms

        session = _spark_session(SPARK_STAGES[stage])
        if stage.startswith("spark_versions"):
            from officemine.spark.versions import process_versions

            with phase("spark_process_versions"):
                found = process_versions(oms.read_log(session, parquet),
                                         partitions=SPARK_PARTITIONS)
            return {"changes": len(found.changes), "cases": int(len(found.cases)),
                    "partitions": SPARK_PARTITIONS}
        if stage.startswith("spark_kpis"):
            with phase("spark_monthly_kpis"):
                kpis = oms.monthly_kpis(oms.read_log(session, parquet),
                                        partitions=SPARK_PARTITIONS)
            return {"month": kpis.month, "cases": kpis.log_info["cases"],
                    "completed": kpis.tile("completed").value, "partitions": SPARK_PARTITIONS}
        with phase("spark_necessity"):
            result = oms.necessity(oms.read_log(session, parquet), since="all",
                                   partitions=SPARK_PARTITIONS)
        return {"nodes": len(result.summary), "items": int(result.summary["items"].sum()),
                "partitions": SPARK_PARTITIONS}
    import officemine

    if stage == "import":
        with phase("import_log"):
            log = officemine.import_log(csv)
        with phase("write"):
            log.write(parquet)
        return {"rows": log.n_events, "set_aside": log.report.rows_set_aside}
    if stage == "import_stream":
        from officemine.importing.streaming import import_streaming

        with phase("import_streaming"):
            log = import_streaming(csv, parquet, memory_limit=STREAM_LIMIT)
        return {"rows": log.n_events, "set_aside": log.report.rows_set_aside,
                "rows_read": log.report.rows_read, "links": log.report.links_by_rule,
                "ambiguous_links": log.report.ambiguous_links}
    if stage in OFFICEMINE_STAGES:
        with phase("read_log"):
            log = officemine.read_log(parquet)
    if stage == "necessity":
        with phase("necessity"):
            result = officemine.necessity(log)
        return {"nodes": len(result.summary)}
    if stage == "necessity_batched":
        with phase("necessity"):
            result = officemine.necessity(log, since="all", memory_limit=STREAM_LIMIT)
        return {"nodes": len(result.summary), "items": int(result.summary["items"].sum())}
    if stage == "kpis":
        from officemine.kpis import monthly_kpis

        with phase("monthly_kpis"):
            kpis = monthly_kpis(log)
        return {"month": kpis.month, "cases": int(len(kpis.cases))}
    if stage == "kpis_batched":
        from officemine.kpis import monthly_kpis

        with phase("monthly_kpis"):
            kpis = monthly_kpis(log, memory_limit=STREAM_LIMIT)
        return {"month": kpis.month, "cases": kpis.log_info["cases"],
                "completed": kpis.tile("completed").value}
    if stage == "versions_batched":
        from officemine.versions import process_versions

        with phase("process_versions"):
            found = process_versions(log, memory_limit=STREAM_LIMIT)
        return {"changes": len(found.changes), "cases": int(len(found.cases))}
    if stage == "discover":
        from officemine.discovery import discover

        with phase("discover"):
            result = discover(log)
        with phase("save"):
            result.save(work / "discovery")
        return {"variants": len(result.variants.table)}
    if stage == "simulate":
        try:
            from officemine.simulation import simulate
        except ImportError:
            return {"status": "not available yet"}
        with phase("simulate"):
            # the whole year as it ran: the generated office removed this step in July
            result = simulate(log, SCENARIO, engine="replay", seed=0, since="all")
        return {"replications": result.replications}
    if stage == "report":
        from officemine.review import monthly_report
        from officemine.review.config import ReportConfig

        with phase("monthly_report"):
            report = monthly_report(log, config=ReportConfig.from_toml(REPORT_CONFIG))
        with phase("write"):
            report.write(work / "report")
        return {"month": report.month}
    raise ValueError(stage)


def _run_pm4py(stage: str, csv: Path, phase: _Phases, parquet: Path) -> dict:
    """What an analyst would write with pandas and pm4py, on the same CSV export (or, for
    ``pm4py_necessity_parquet``, on the log officemine stored: no parsing left to do)."""
    import pandas as pd
    import pm4py

    if stage == "pm4py_necessity_parquet":
        with phase("read_parquet"):
            df = pd.read_parquet(parquet, columns=["case_id", "node", "outcome", "acted_at",
                                                   "arrived_at"])
        with phase("format_dataframe"):
            df = df[df["acted_at"].notna()]                # pending items: no action yet
            df = pm4py.format_dataframe(df, case_id="case_id", activity_key="node",
                                        timestamp_key="acted_at")
        return _pm4py_necessity(df, phase, "outcome", ["return", "reject"], "arrived_at")
    with phase("read_csv"):
        df = pd.read_csv(csv, encoding="gbk", dtype=str, keep_default_na=False)
    with phase("format_dataframe"):
        df = df[df["操作日期"] != ""]                  # 未办 rows have no action time yet
        df["time:timestamp"] = pd.to_datetime(df["操作日期"] + " " + df["操作时间"],
                                              format="%Y/%m/%d %H:%M")
        df["start_timestamp"] = pd.to_datetime(df["接收日期"] + " " + df["接收时间"],
                                               format="%Y/%m/%d %H:%M", errors="coerce")
        df = pm4py.format_dataframe(df, case_id="流程编号", activity_key="节点名称",
                                    timestamp_key="time:timestamp")
    if stage == "pm4py_necessity":
        return _pm4py_necessity(df, phase, "操作类型", ["退回", "不同意"], "start_timestamp")
    with phase("variants"):
        variants = pm4py.get_variants(df)
    with phase("dfg"):
        dfg, _, _ = pm4py.discover_dfg(df)
    return {"variants": len(variants), "arcs": len(dfg)}


def _pm4py_necessity(df, phase: _Phases, outcome: str, rejections: list[str],
                     arrival: str) -> dict:
    """The pm4py equivalent of the necessity statistics: performance DFG, rejections per
    activity, waits per activity (median and mean, from the arrival column)."""
    import pm4py

    with phase("performance_dfg"):
        dfg, _, _ = pm4py.discover_performance_dfg(df)
    with phase("rejections"):
        rejected = pm4py.filter_event_attribute_values(df, outcome, rejections, level="event")
        counts = pm4py.get_event_attribute_values(rejected, "concept:name")
        decisions = pm4py.get_event_attribute_values(df, "concept:name")
    with phase("waits"):
        waits = {m: pm4py.get_service_time(df, aggregation_measure=m,
                                           start_timestamp_key=arrival)
                 for m in ("median", "mean")}
    return {"arcs": len(dfg), "nodes": len(decisions), "rejections": sum(counts.values()),
            "waits": len(waits["median"])}


def child(stage: str, csv: Path, parquet: Path, work: Path) -> None:
    t = time.perf_counter()
    _setup(stage)
    startup = time.perf_counter() - t
    phase = _Phases()
    t = time.perf_counter()
    info = _run(stage, csv, parquet, work, phase)
    seconds = time.perf_counter() - t
    print("__RESULT__ " + json.dumps({"seconds": round(seconds, 3), "startup": round(startup, 2),
                                      "phases": dict(phase), **info}, ensure_ascii=False),
          flush=True)


# --- running a stage -------------------------------------------------------------------------

def run_stage(stage: str, csv: Path, parquet: Path, work: Path, *, timeout: float,
              mem_cap_gib: float) -> dict:
    """Run one stage in a fresh interpreter; its work time, peak RSS and the machine's load."""
    cap = int(mem_cap_gib * 2**30)

    def limit() -> None:
        # Backstop only: address space runs ~1.8x resident memory here (allocator arenas,
        # DuckDB), so an address-space cap at `cap` would stop stages far below `cap` of real
        # memory. The resident-memory watchdog below enforces `cap`.
        resource.setrlimit(resource.RLIMIT_AS, (2 * cap, 2 * cap))

    work.mkdir(parents=True, exist_ok=True)
    out_path, err_path = work / f"{stage}.stdout", work / f"{stage}.stderr"
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_times()
    start = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--child", stage, str(csv),
                                 str(parquet), str(work)], stdout=out, stderr=err,
                                preexec_fn=limit, start_new_session=True)
        timed_out = over_cap = False
        tree_peak, tree_cpu = 0, {}
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if stage in SPARK_STAGES:     # the JVM and the Python workers: the whole session
                rss, ticks = _session_usage(proc.pid)
                tree_peak = max(tree_peak, rss)
                tree_cpu.update(ticks)
            if not (timed_out or over_cap):
                timed_out = time.perf_counter() - start > timeout
                over_cap = max(_rss(proc.pid), tree_peak) > cap
                if timed_out or over_cap:
                    os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.1)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    peak = max(usage.ru_maxrss * 1024, tree_peak)
    # CPU seconds: the stage's process (and what it waited for), or the whole Spark session
    cpu = max(usage.ru_utime + usage.ru_stime,
              sum(tree_cpu.values()) / os.sysconf("SC_CLK_TCK"))
    record = {"stage": stage, "wall": round(wall, 2), "peak_mib": round(peak / 2**20),
              "cpu_s": round(cpu, 1),
              "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
              "steal_pct": _steal_pct(cpu_before, _cpu_times()),
              "date": time.strftime("%Y-%m-%d %H:%M")}
    lines = out_path.read_text().splitlines()
    result = [ln for ln in lines if ln.startswith("__RESULT__ ")]
    if timed_out:
        record.update(status="timeout", error=f"did not finish in {timeout / 60:.0f} min")
    elif over_cap:
        record.update(status="oom", error=f"stopped at {mem_cap_gib:g} GiB of memory")
    elif proc.returncode != 0 or not result:
        tail = err_path.read_text().strip().splitlines()[-1:] or ["(no output)"]
        oom = "MemoryError" in tail[0] or "bad_alloc" in tail[0] or "memory" in tail[0].lower()
        record.update(status="oom" if oom else "failed",
                      error=(f"out of memory (cap {mem_cap_gib:g} GiB)" if oom
                             else tail[0][-200:]))
    else:
        data = json.loads(result[-1][len("__RESULT__ "):])
        record.update(status=data.pop("status", "ok"), **data)
    return record


def _cpu_times() -> list[int] | None:
    """The machine's CPU time counters (the `cpu` line of /proc/stat), None where absent."""
    try:
        with open("/proc/stat") as fh:
            return [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def _steal_pct(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of CPU time the hypervisor gave to other machines while the stage ran.

    On a shared virtual machine this, not the load average, shows a noisy neighbour. Of all
    CPU time (every core, idle included) while the stage ran, in per cent.
    """
    if before is None or after is None or len(before) < 8:
        return None
    delta = [a - b for a, b in zip(after, before)]
    total = sum(delta[:8])              # user nice system idle iowait irq softirq steal
    return round(100 * delta[7] / total, 1) if total > 0 else None


def _rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _session_usage(session: int) -> tuple[int, dict[int, int]]:
    """Resident memory (bytes) of every process of a session — a stage and what it started:
    Spark's JVM and Python workers — sampled now, and each one's CPU time so far (ticks)."""
    total, ticks = 0, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == session:           # the session id (start_new_session)
                total += _rss(int(entry.name))
                ticks[int(entry.name)] = int(fields[11]) + int(fields[12])   # utime + stime
        except (OSError, ValueError, IndexError):
            continue
    return total, ticks


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if "model name" in ln), cpu)
    except OSError:
        model = cpu
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Linux "
            f"{platform.release().split('-')[0]}, Python {platform.python_version()}")


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{p} {version(p)}" for p in ("pandas", "pyarrow", "duckdb", "pm4py"))


# --- results and the table -------------------------------------------------------------------

def load_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"records": []}


def store(results: dict, size: int, record: dict) -> None:
    results["records"] = [r for r in results["records"]
                          if not (r["size"] == size and r["stage"] == record["stage"])]
    results["records"].append({"size": size, **record})


def _cell(r: dict | None) -> str:
    if r is None:
        return "–"
    if r["status"] == "not available yet":
        return "not available yet"
    if r["status"] != "ok":
        return f"{r['error']} (load {r['load_before']:.1f})"
    split = ""
    if r["stage"] in RENDER_PHASES:     # computing vs drawing the PDF/PNG/SVG files
        compute, draw = RENDER_PHASES[r["stage"]]
        split = (f" ({r['phases'].get(compute, 0):.1f} analysis + "
                 f"{r['phases'].get(draw, 0):.1f} files)")
    steal = r.get("steal_pct")
    return (f"{r['seconds']:,.1f} s{split} · {r['peak_mib'] / 1024:,.1f} GiB "
            f"<sub>load {r['load_before']:.1f}"
            f"{f', steal {steal:.0f} %' if steal is not None else ''}</sub>")


#: stages whose cell splits the analysis from writing the files
RENDER_PHASES = {"discover": ("discover", "save"), "report": ("monthly_report", "write")}


def _target(stage: str, which: int) -> str:
    t = TARGETS[stage][which]
    if not t:
        return ""
    return f"≤{t[0]} s" + (f", ≤{t[1]} GB" if t[1] else "")


def render(results: dict) -> str:
    recs = results["records"]
    sizes = sorted({r["size"] for r in recs})
    by = {(r["size"], r["stage"]): r for r in recs}
    head = "| stage | target 1M | target 10M | " + " | ".join(
        f"{_events(results, s)} events" for s in sizes) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(sizes)]
    for stage in STAGES:
        if not any((s, stage) in by for s in sizes):
            continue
        lines.append(f"| {TARGETS[stage][0]} | {_target(stage, 1)} | {_target(stage, 2)} | "
                     + " | ".join(_cell(by.get((s, stage))) for s in sizes) + " |")
    # the headline comparison: necessity statistics against the pm4py equivalent, reading
    # the CSV export (an analyst's whole job) and reading the log officemine stored
    for baseline, what in (("pm4py_necessity", "necessity vs pm4py equivalent"),
                           ("pm4py_necessity_parquet", "necessity vs pm4py on the stored Parquet")):
        cells = []
        for s in sizes:
            ours, base = by.get((s, "necessity")), by.get((s, baseline))
            if not ours or ours["status"] != "ok" or not base:
                cells.append("–")
            elif base["status"] != "ok":
                cells.append(f"pm4py: {base['error']}")
            else:
                stats = sum(v for k, v in base["phases"].items()
                            if k not in ("read_csv", "read_parquet", "format_dataframe"))
                cells.append(f"**{base['seconds'] / ours['seconds']:.1f}×** "
                             f"(statistics alone: {stats / ours['seconds']:.1f}×)")
        if any(c != "–" for c in cells):
            lines.append(f"| {what} | ≥10× | ≥10× | " + " | ".join(cells) + " |")
    exact = results.get("events", {})
    lines += ["", "Rows in each export (whole cases only): " + ", ".join(
        f"{_events(results, s)} = {exact[str(s)]:,}" for s in sizes if str(s) in exact) + "."]
    dates = sorted({r["date"][:10] for r in recs})
    info = results.get("machine", machine())
    return "\n".join([f"Measured on {info}; {results.get('versions', '')}; "
                      f"{dates[0]}{' – ' + dates[-1] if len(dates) > 1 else ''}. "
                      "Each cell: seconds of work (after imports) · peak RSS of the stage's "
                      "process · 1-minute load average when it started, and the share of "
                      "CPU time the host gave to other machines while it ran (steal).",
                      ""] + lines)


def _events(results: dict, size: int) -> str:
    return f"{size / 1e6:g}M" if size >= 1e6 else f"{size / 1e3:g}k"


def write_readme(table: str) -> None:
    """Replace the block between the bench markers (add a Speed section if there is none)."""
    text = README.read_text(encoding="utf-8")
    block = f"<!-- bench:start -->\n{table}\n<!-- bench:end -->"
    if "<!-- bench:start -->" in text:
        text = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _: block, text,
                      flags=re.S)
    else:
        section = ("## Speed\n\n`benchmarks/bench.py` (see benchmarks/README.md) generates "
                   "exports shaped like the sample log and times every stage in a fresh "
                   f"process, next to pm4py on pandas on the same file.\n\n{block}\n\n")
        text = text.replace("## Licence", section + "## Licence", 1)
    README.write_text(text, encoding="utf-8")


# --- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES,
                        help="stages to run, in this order (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per stage")
    parser.add_argument("--mem-cap-gib", type=float, default=20)
    parser.add_argument("--write-readme", action="store_true",
                        help="write the table of all stored results into README.md")
    parser.add_argument("--log", type=Path,
                        help="run the stages that read a stored log on this one instead "
                             "(results in out/results_logs.json, not in the README table)")
    parser.add_argument("--branches", type=int,
                        help="with --log: first cut it to its first BRANCHES branches "
                             "(whole cases, each branch a year of one office)")
    parser.add_argument("--export-from", type=Path, metavar="LOG",
                        help="write the export a generated log (of --sizes N) was imported "
                             "from back from the log, instead of generating it again")
    parser.add_argument("--times", type=int,
                        help="with --log: run on the log TIMES over (each copy's cases "
                             "renamed), for the scale of a log that could not be generated")
    parser.add_argument("--spark-partitions", type=int, default=SPARK_PARTITIONS,
                        help="partitions of whole cases for the Spark stages (default 16; "
                             "about one per 600,000 events keeps each Python worker small)")
    args = parser.parse_args(argv)
    os.environ["OFFICEMINE_BENCH_SPARK_PARTITIONS"] = str(args.spark_partitions)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.log:
        return run_on_log(args)
    if args.export_from:
        meta = args.out / f"oa_{args.sizes[0]}.json"
        if len(args.sizes) != 1 or not meta.exists():
            raise SystemExit("--export-from takes one --sizes N whose generated export's "
                             f"record ({meta.name}) is in --out")
        _progress(f"writing {args.sizes[0]:,} events' export back from {args.export_from} …")
        export_from_log(args.export_from, args.out / f"oa_{args.sizes[0]}.csv")
    results_path = args.out / "results.json"
    results = load_results(results_path)
    results["machine"], results["versions"] = machine(), versions()
    for n in args.sizes:
        csv = generate_export(n, args.out / f"oa_{n}.csv")
        meta = json.loads(csv.with_suffix(".json").read_text())
        results.setdefault("events", {})[str(n)] = meta["events"]
        parquet = args.out / f"oa_{n}.parquet"
        import_tried = False
        for stage in dict.fromkeys(args.stages):         # in the order given
            if stage in IMPORT_STAGES:
                parquet.unlink(missing_ok=True)           # never time a stage on a stale log
                import_tried = True
            elif stage in LOG_STAGES and not parquet.exists() and not import_tried:
                _progress(f"{n:,} events: import (for the later stages) …")
                store(results, n, run_stage("import", csv, parquet, args.out / f"work_{n}",
                                            timeout=args.timeout, mem_cap_gib=args.mem_cap_gib))
                import_tried = True
            _progress(f"{n:,} events: {stage} …")
            if stage in LOG_STAGES and not parquet.exists():
                record = {"stage": stage, "status": "failed", "load_before": os.getloadavg()[0],
                          "error": "no log: the import stage did not finish",
                          "date": time.strftime("%Y-%m-%d %H:%M")}
            else:
                record = run_stage(stage, csv, parquet, args.out / f"work_{n}",
                                   timeout=args.timeout, mem_cap_gib=args.mem_cap_gib)
            if stage in IMPORT_STAGES and record["status"] != "ok":
                parquet.unlink(missing_ok=True)           # a killed import may leave half a file
            store(results, n, record)
            results_path.write_text(json.dumps(results, ensure_ascii=False, indent=1))
            _progress(f"  {stage}: {_cell(record)}  phases {record.get('phases', {})}")
    table = render(results)
    print(table)
    if args.write_readme:
        write_readme(table)


def run_on_log(args) -> None:
    """The stages that read a stored log, on `args.log` (cut to its first `args.branches`
    branches if asked); each record keeps the log's path and size."""
    import pyarrow.parquet as pq

    log = args.log
    if args.branches:
        log = branch_subset(args.log, args.branches, args.out)
    if args.times:
        log = replicated(log, args.times, args.out)
    rows = pq.ParquetFile(log).metadata.num_rows
    results_path = args.out / "results_logs.json"
    results = load_results(results_path)
    results["machine"], results["versions"] = machine(), versions()
    for stage in dict.fromkeys(args.stages):
        if stage not in LOG_STAGES:
            raise SystemExit(f"--log runs the stages that read a stored log, not {stage}")
        _progress(f"{log} ({rows:,} events): {stage} …")
        record = run_stage(stage, Path(os.devnull), log, args.out / f"work_{log.stem}",
                           timeout=args.timeout, mem_cap_gib=args.mem_cap_gib)
        record.update(log=str(log), events=rows, branches=args.branches, times=args.times)
        results["records"] = [r for r in results["records"]
                              if not (r.get("log") == str(log) and r["stage"] == stage)]
        results["records"].append(record)
        results_path.write_text(json.dumps(results, ensure_ascii=False, indent=1))
        _progress(f"  {stage}: {_cell(record)}  phases {record.get('phases', {})}")


def branch_subset(path: Path, branches: int, out: Path) -> Path:
    """The whole cases of a generated log's first `branches` branches (case numbers
    ``BX07-…`` name branch 7), as a log of their own in `out` (reused when present)."""
    import officemine
    from officemine.log.eventlog import EventLog

    target = out / f"{path.stem}_{branches}branches.parquet"
    if target.exists():
        return target
    source = officemine.read_log(path)
    # benchmarks may query the stored rows directly: this is a cut of the file, not an analysis
    table = source.query_arrow("SELECT * FROM events WHERE CAST(regexp_extract(case_id, "
                               "'^..([0-9]+)-', 1) AS INTEGER) < $n", {"n": branches})
    EventLog(table, timezone=source.timezone,
             report=source.report, mapping=source.mapping, calendar=source.calendar,
             _derived=True).write(target)
    return target


def export_from_log(log: Path, csv: Path) -> Path:
    """The GBK CSV export a generated log was imported from, written back from the log: its
    rows in source order, the 16 columns `synthetic.to_chinese_csv` writes (dates and times
    apart, 操作类型 words, pending rows' action fields empty), LF line ends. Minutes where
    generating a 100M-event export takes over an hour; the importer reads it back to the same
    log. DuckDB writes UTF-8; `iconv` makes it GBK."""
    import shutil
    import subprocess

    import duckdb

    from officemine.synthetic import OUTCOME_CN

    if shutil.which("iconv") is None:
        raise SystemExit("--export-from needs iconv (to write GBK)")
    words = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in OUTCOME_CN.items())

    def local(column: str, pattern: str) -> str:     # the sample's zone: UTC+8, no DST
        return f"strftime(make_timestamp(epoch_us({column}) + 28800000000), '{pattern}')"

    def text(column: str) -> str:
        return f"nullif({column}::VARCHAR, '')"

    acted = "CASE WHEN coalesce(pending, false) THEN NULL ELSE {} END"
    select = ", ".join([
        f"{text('instance_id')} AS 流程编号", f"{text('process_type')} AS 流程类型",
        f"{text('title')} AS 标题", f"{text('applicant')} AS 申请人",
        f"{text('applicant_dept')} AS 申请部门", "printf('%.2f', amount) AS 金额",
        f"{text('urgency')} AS 紧急程度", f"{text('node')} AS 节点名称",
        f"{text('resource')} AS 操作人", f"{text('dept')} AS 操作人部门",
        acted.format(f"CASE outcome {words} END") + " AS 操作类型",
        f"{local('arrived_at', '%Y/%-m/%-d')} AS 接收日期",
        f"{local('arrived_at', '%-H:%M')} AS 接收时间",
        acted.format(local("acted_at", "%Y/%-m/%-d")) + " AS 操作日期",
        acted.format(local("acted_at", "%-H:%M")) + " AS 操作时间",
        acted.format(text("comment")) + " AS 签字意见"])
    utf8 = csv.with_suffix(".utf8.csv")
    con = duckdb.connect()
    con.execute("SET memory_limit = '4GB'")
    source, target = (str(p).replace("'", "''") for p in (log, utf8))
    con.execute(f"COPY (SELECT {select} FROM read_parquet('{source}') "
                f"ORDER BY source_row::BIGINT) TO '{target}' (HEADER, DELIMITER ',')")
    with open(csv, "wb") as out:
        subprocess.run(["iconv", "-f", "utf-8", "-t", "gbk", str(utf8)], stdout=out, check=True)
    utf8.unlink()
    return csv


def replicated(path: Path, times: int, out: Path) -> Path:
    """A stored log `times` over, as one log in case order: copy k's case numbers are
    prefixed ``Zk-`` (after every generated one), so the copies are other cases with the same
    events; written row group by row group (reused when present)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from officemine.log.eventlog import _META_KEY, read_log

    target = out / f"{path.stem}_x{times}.parquet"
    if target.exists():
        return target
    if not 2 <= times <= 10:
        raise SystemExit("--times takes 2 to 10 copies (the prefixes must sort in order)")
    source = pq.ParquetFile(path)
    meta = json.loads(read_log(path)._schema.metadata[_META_KEY])
    meta["cases"] = meta["cases"] * times
    schema = source.schema_arrow.with_metadata({**(source.schema_arrow.metadata or {}),
                                                _META_KEY: json.dumps(meta)})
    at = schema.get_field_index("case_id")
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for k in range(times):
            for i in range(source.metadata.num_row_groups):
                group = source.read_row_group(i)
                if k:
                    group = group.set_column(at, schema.field(at), pc.binary_join_element_wise(
                        pa.scalar(f"Z{k}-"), group["case_id"], ""))
                writer.write_table(group.replace_schema_metadata(schema.metadata))
    return target


#: stages that read the stored log
LOG_STAGES = tuple(s for s in OFFICEMINE_STAGES if s not in IMPORT_STAGES) + tuple(SPARK_STAGES)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
