"""Benchmark: the conformance check at 1M events, against pm4py's token-based replay of the same
BPMN models on the same log, with the same fit/unfit verdict for every case.

The log is the sample office at about 76 times its volume (`officemine.synthetic`: a year,
six process types, the 2025-07-01 reform of 费用报销, returns and resubmissions, 转办/加签,
open cases, and the sample's planted departures from its procedures), written as a Parquet
log. Each stage runs in a fresh interpreter; times are its work after imports:

================  ===========================================================================
officemine        `read_log` + `conformance(log, procedures/sample_office.toml)`: all five
                  kinds, conditions (amounts, urgency), self-approval and authority
officemine_bpmn   `read_log` + `conformance` with the same procedures written as BPMN models
                  (`Procedure.to_bpmn`, conditions left out: token replay has no data), the
                  control-flow kinds only
pm4py             `pandas.read_parquet` + the rounds as traces (pandas: each visit's closing
                  decision, one trace per case and round) + per procedure `pm4py.read_bpmn`,
                  `convert_to_petri_net` and `conformance_diagnostics_token_based_replay`
================  ===========================================================================

The two last stages write each case's verdict (fits the control flow or not); the run
compares them case by case.

    .venv/bin/python benchmarks/conformance.py                      # 1M events
    .venv/bin/python benchmarks/conformance.py --events 100000 --write-readme

Verdicts are written outside the timed work. Results go to ``benchmarks/out/conformance.json``; ``--write-readme`` renders the newest run
of each size between ``<!-- conformance-bench:start -->`` and ``<!-- conformance-bench:end -->``
of README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
README = ROOT / "README.md"
PROCEDURES = ROOT / "procedures" / "sample_office.toml"
START, END, SEED = "2024-11-01", "2025-10-31", 20251101
EVENTS_PER_SCALE = 13_090          # the sample office's year
STAGES = ("officemine", "officemine_bpmn", "pm4py")
MARK = ("<!-- conformance-bench:start -->", "<!-- conformance-bench:end -->")


# --- the log and the models ------------------------------------------------------------------

def make_log(n_events: int, path: Path) -> Path:
    """The sample office at `n_events` / 13,090 times its volume, as a Parquet log (reused
    when its settings have not changed)."""
    meta = path.with_suffix(".json")
    settings = {"events": n_events, "seed": SEED, "start": START, "end": END, "version": 1}
    if path.exists() and meta.exists() and json.loads(meta.read_text()) == settings:
        return path
    from officemine.synthetic import (Redesign, default_office_spec, generate,
                                      sample_office_deviations)

    t = time.perf_counter()
    log = generate(default_office_spec(), start=START, end=END, seed=SEED,
                   redesigns=[Redesign("费用报销", remove_nodes=("综合办公室审核",),
                                       effective="2025-07-01")],
                   deviations=sample_office_deviations(), rate_scale=n_events / EVENTS_PER_SCALE)
    log.to_eventlog().write(path)
    meta.write_text(json.dumps(settings))
    print(f"generated {len(log.events):,} events in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    return path


def write_models(folder: Path) -> Path:
    """The sample procedures as BPMN models (no conditions) and a TOML naming them with the
    same periods: what both the officemine_bpmn and the pm4py stage read."""
    import tomllib

    from officemine.conformance import Procedures

    folder.mkdir(parents=True, exist_ok=True)
    procs = Procedures.from_file(PROCEDURES)
    raw = tomllib.loads(PROCEDURES.read_text(encoding="utf-8"))
    lines = ['name = "sample office, control flow as BPMN"']
    for i, (proc, item) in enumerate(zip(procs, raw["procedure"])):
        model = proc.to_bpmn(folder / f"procedure_{i}.bpmn", conditions=False)
        lines += ["[[procedure]]", f'process_type = "{proc.process_type}"',
                  f'name = "{proc.name}"', f'bpmn = "{model.name}"']
        for key in ("valid_from", "valid_until"):
            if key in item:
                lines.append(f"{key} = {item[key].isoformat()}")
    path = folder / "procedures_bpmn.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the stages (each in a child interpreter) ------------------------------------------------

def stage_officemine(parquet: Path, procedures: Path, verdicts: Path | None) -> dict:
    import officemine
    from officemine.conformance import CONTROL_FLOW

    t = time.perf_counter()
    log = officemine.read_log(parquet)
    result = officemine.conformance(log, procedures)
    info = {"seconds": round(time.perf_counter() - t, 3), "cases": result.n_cases,
            "deviating": result.n_deviating, "variants": result.tables.variants,
            "rounds": result.tables.rounds, "events": log.n_events}
    if verdicts is not None:        # outside the timed work
        import pandas as pd

        cases = result.cases
        fit = cases[list(CONTROL_FLOW)].sum(axis=1) == 0
        pd.DataFrame({"case_id": cases["case_id"], "fit": fit}).to_parquet(verdicts)
    return info


def stage_pm4py(parquet: Path, procedures: Path, verdicts: Path) -> dict:
    """What an analyst would write: pandas for the rounds, pm4py's token replay per model."""
    import pandas as pd
    import pm4py

    from officemine.conformance import Procedures

    phases = {}
    t = time.perf_counter()
    ev = pd.read_parquet(parquet, columns=["case_id", "seq", "visit", "round", "node", "outcome",
                                           "pending", "process_type", "case_start", "object"])
    phases["read_parquet"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    ev["object"] = ev["object"].fillna("")          # rounds count per object of a case
    acted = ev[~ev["pending"] & ~ev["outcome"].isin(["cc", "comment", "remind"])]
    last = acted.groupby("case_id", sort=False).tail(1)
    archived = set(last.loc[last["outcome"] == "archive", "case_id"])
    rounds = acted.groupby(["case_id", "object"], sort=False)["round"].max().rename("last")
    closing = acted[~acted["outcome"].isin(["transfer", "add_approver"])] \
        .groupby(["case_id", "visit"], sort=False).tail(1)
    occ = closing[closing["outcome"].isin(["approve", "auto_approve", "return", "reject"])]
    occ = occ.join(rounds, on=["case_id", "object"])
    occ["trace"] = occ["case_id"] + "#" + occ["object"] + "#" + occ["round"].astype(str)
    occ["complete"] = occ["case_id"].isin(archived) & (occ["round"] == occ["last"])
    occ["start"] = occ["case_start"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    occ = occ.rename(columns={"node": "concept:name", "trace": "case:concept:name"})
    occ["time:timestamp"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(occ["seq"], unit="s")
    phases["traces"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    verdict = []
    for proc in Procedures.from_file(procedures):
        mask = occ["process_type"] == proc.process_type
        if proc.valid_from:
            mask &= occ["start"] >= pd.Timestamp(proc.valid_from)
        if proc.valid_until:
            mask &= occ["start"] < pd.Timestamp(proc.valid_until)
        part = occ[mask]
        net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(proc.bpmn))
        labels = {tr.label for tr in net.transitions if tr.label}
        replayed = pm4py.conformance_diagnostics_token_based_replay(part, net, im, fm)
        names = sorted(part["case:concept:name"].unique())       # pm4py's trace order
        info = part.groupby("case:concept:name").agg(
            complete=("complete", "first"), known=("concept:name", lambda s: set(s) <= labels))
        info = info.loc[names]
        fit = [known and (bool(r["trace_is_fit"]) if complete
                          else not r["transitions_with_problems"])
               for r, complete, known in zip(replayed, info["complete"], info["known"])]
        verdict.append(pd.DataFrame({"trace": names, "fit": fit}))
    table = pd.concat(verdict)
    table["case_id"] = table["trace"].str.rsplit("#", n=2).str[0]
    per_case = table.groupby("case_id")["fit"].all().reset_index()
    phases["replay"] = round(time.perf_counter() - t, 3)
    per_case.to_parquet(verdicts)            # not timed, like officemine's
    return {"seconds": round(sum(phases.values()), 3), "traces": len(table), "phases": phases}


def child(stage: str, parquet: Path, procedures: Path, verdicts: str) -> None:
    import pandas  # noqa: F401 - imports are not timed
    import pm4py   # noqa: F401

    import officemine.conformance  # noqa: F401
    import officemine.kpis  # noqa: F401

    out = Path(verdicts) if verdicts != "-" else None
    info = (stage_pm4py(parquet, procedures, out) if stage == "pm4py"
            else stage_officemine(parquet, procedures, out))
    print("__RESULT__ " + json.dumps(info), flush=True)


def run(stage: str, parquet: Path, procedures: Path, verdicts: Path | None) -> dict:
    from bench import _cpu_times, _steal_pct

    load, cpu = os.getloadavg()[0], _cpu_times()
    proc = subprocess.run([sys.executable, __file__, "--child", stage, str(parquet),
                           str(procedures), str(verdicts or "-")], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"stage {stage} failed:\n{proc.stderr[-2000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("__RESULT__ "))
    return {"stage": stage, **json.loads(line[len("__RESULT__ "):]), "load": round(load, 2),
            "steal_pct": _steal_pct(cpu, _cpu_times())}


# --- the run and its table -------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        stage, parquet, procedures, verdicts = args.child
        child(stage, Path(parquet), Path(procedures), verdicts)
        return
    sys.path.insert(0, str(HERE))
    from bench import machine, versions

    import pandas as pd

    OUT.mkdir(exist_ok=True)
    work = OUT / f"conformance_{args.events}"
    parquet = make_log(args.events, OUT / f"conformance_{args.events}.parquet")
    models = write_models(work)
    records = {
        "officemine": run("officemine", parquet, PROCEDURES, None),
        "officemine_bpmn": run("officemine_bpmn", parquet, models, work / "ours.parquet"),
        "pm4py": run("pm4py", parquet, models, work / "pm4py.parquet"),
    }
    ours = pd.read_parquet(work / "ours.parquet").set_index("case_id")["fit"]
    theirs = pd.read_parquet(work / "pm4py.parquet").set_index("case_id")["fit"]
    theirs = theirs.reindex(ours.index, fill_value=True)      # no judged round: fits
    run_record = {"events": records["officemine"]["events"], "date": time.strftime("%Y-%m-%d"),
                  "machine": machine(), "versions": versions(), "stages": records,
                  "cases": int(len(ours)), "unfit": int((~ours).sum()),
                  "same_verdict": int((ours == theirs).sum()),
                  "ratio": round(records["pm4py"]["seconds"]
                                 / records["officemine_bpmn"]["seconds"], 1)}
    store = OUT / "conformance.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    results[str(args.events)] = run_record
    store.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(render(results))
    if args.write_readme:
        text = README.read_text(encoding="utf-8")
        head, rest = text.split(MARK[0], 1)
        _, tail = rest.split(MARK[1], 1)
        README.write_text(head + MARK[0] + "\n" + render(results) + MARK[1] + tail,
                          encoding="utf-8")


def render(results: dict) -> str:
    """The README block: one row per stage and size, then the verdict comparison."""
    first = next(iter(results.values()))
    lines = [f"Measured on {first['machine']}; {first['versions']}; {first['date']}. "
             "Seconds of work after imports, each stage in a fresh interpreter (1-minute load "
             "average when it started, and CPU time stolen by the host while it ran).", "",
             "| events | cases (unfit) | officemine, all five kinds | officemine, same BPMN | "
             "pm4py token replay (read · traces · replay) | ratio | same verdict |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for size in sorted(results, key=int):
        r = results[size]
        s = r["stages"]
        cell = (lambda x: f"{x['seconds']:.2f} s <sub>load {x['load']:.1f}, steal "
                          f"{x['steal_pct'] or 0:.0f} %</sub>")
        p = s["pm4py"]["phases"]
        lines.append(
            f"| {r['events']:,} | {r['cases']:,} ({r['unfit']:,}) | {cell(s['officemine'])} | "
            f"{cell(s['officemine_bpmn'])} | {cell(s['pm4py'])} ({p['read_parquet']:.1f} · "
            f"{p['traces']:.1f} · {p['replay']:.1f}) | **{r['ratio']}×** | "
            f"{r['same_verdict']:,} of {r['cases']:,} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
