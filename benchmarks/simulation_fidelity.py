"""Fidelity of the stochastic engine on a real log, next to Simod's published bar.

The as-is model of BPI Challenge 2020's Domestic Declarations log (10,500 cases) is run for 5
replications and compared with the log, as `officemine.simulate` does before any redesign:
cycle-time Wasserstein distance in hours, median and mean error, control-flow 3-gram distance.

The bar (from the issue): Simod 5.2.1 in its best resource setting, its discovered model
simulated by Prosimos, 5 replications, compared with the full log with 1-hour bins, reproduces
the as-is cycle time with a Wasserstein distance of about 40 hours, median +20%, mean +3%.
officemine's distance is computed on the raw hours (`scipy.stats.wasserstein_distance`); with
1-hour bins it differs by at most half an hour.

    .venv/bin/python benchmarks/simulation_fidelity.py
    .venv/bin/python benchmarks/simulation_fidelity.py --calendar default --json out.json

The log is read from ../shared/data/real (the BPIC 2020 files are not shipped with
officemine); without it the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "real" / "DomesticDeclarations.xes.gz"
MAPPING = ROOT / "mappings" / "bpic2020.toml"
TIMEZONE = "Europe/Amsterdam"
#: Simod 5.2.1, best resource setting, Prosimos, 5 replications, full log, 1-hour bins.
SIMOD = {"emd_hours": 40.0, "as_is_median_error_pct": 20.0, "as_is_mean_error_pct": 3.0,
         "ngram_distance": None}
SCENARIO = {"name": "drop BUDGET OWNER", "change": [{"kind": "remove", "node": "BUDGET OWNER"}]}


def calendar(name: str):
    from officemine import Calendar

    if name == "default":
        return Calendar.default()
    if name == "log":           # the mapping's: Dutch holidays, 08:30-17:30, Europe/Amsterdam
        return None
    # the Dutch office day of the lead's measurement, no holiday table
    return Calendar(hours=(("08:30", "17:30"),), region="none", tz=TIMEZONE)


def measure(path: Path, *, replications: int, seed: int, calendar_name: str) -> dict:
    import officemine

    t0 = time.perf_counter()
    log = officemine.import_log(str(path), mapping=str(MAPPING), timezone=TIMEZONE)
    t1 = time.perf_counter()
    scenario = officemine.Scenario.from_dict(SCENARIO)
    # the whole log (since="all"), as Simod's published figures are: by default a simulation
    # re-runs each process type's current version only
    result = officemine.simulate(log, scenario, engine="stochastic", replications=replications,
                                 seed=seed, calendar=calendar(calendar_name), since="all")
    t2 = time.perf_counter()
    # the same redesign by the replay (the log's own cases), for comparison
    replay = officemine.simulate(log, scenario, seed=seed, calendar=calendar(calendar_name),
                                 since="all")
    v = {k: val for k, val in result.validation.items() if k != "method"}

    def estimate(r) -> dict:
        red = r[0].reduction
        return {k: red[k] for k in ("median_pct", "median_pct_ci", "mean_pct", "mean_pct_ci")}

    return {"log": path.name, "calendar": calendar_name, "seed": seed,
            "import_seconds": round(t1 - t0, 1), "simulate_seconds": round(t2 - t1, 1),
            "validation": v, "model": result[0].extra.get("model", {}),
            "scenario": SCENARIO["name"], "stochastic": estimate(result),
            "interval": result[0].extra.get("interval", {}), "replay": estimate(replay)}


def render(m: dict) -> str:
    v = m["validation"]
    rows = [("cycle-time Wasserstein distance (h)", "emd_hours", "{:.1f}"),
            ("median error (%)", "as_is_median_error_pct", "{:+.1f}"),
            ("mean error (%)", "as_is_mean_error_pct", "{:+.1f}"),
            ("control-flow 3-gram distance", "ngram_distance", "{:.3f}")]
    lines = [f"{m['log']}: as-is model, {v['replications']} replications, seed {m['seed']}, "
             f"calendar {m['calendar']} ({v['cases']} actual cases, "
             f"{v['simulated_cases']} simulated)",
             f"{'measure':<38}{'officemine':>12}{'Simod 5.2.1':>14}"]
    for label, key, fmt in rows:
        ours = fmt.format(v[key]) if v.get(key) is not None else "n/a"
        theirs = fmt.format(SIMOD[key]) if SIMOD.get(key) is not None else "n/a"
        lines.append(f"{label:<38}{ours:>12}{theirs:>14}")
    runs = m["interval"].get("runs_per_resample", 0)
    lines.append(f"verdict: {v['verdict']}; import {m['import_seconds']} s, simulate "
                 f"({v['replications']} runs of the log's model as-is and redesigned, "
                 f"{v['replications']} case resamples x {runs} runs for the interval) "
                 f"{m['simulate_seconds']} s")
    for engine in ("stochastic", "replay"):
        e = m[engine]
        lines.append(f"{m['scenario']}, {engine}: median {e['median_pct']:.1f}% "
                     f"({e['median_pct_ci'][0]:.1f}–{e['median_pct_ci'][1]:.1f}), mean "
                     f"{e['mean_pct']:.1f}% ({e['mean_pct_ci'][0]:.1f}–{e['mean_pct_ci'][1]:.1f})")
    notes = (m["model"].get("restricted_approvers") or []) + (m["model"].get("batched_nodes") or [])
    if notes:
        lines.append("learnt availability: " + "; ".join(notes))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the Domestic Declarations XES")
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calendar", choices=("amsterdam", "default", "log"),
                        default="amsterdam",
                        help="amsterdam: 08:30-17:30, no holidays (default); default: "
                             "officemine's default calendar; log: the log's own (the "
                             "mapping's: Dutch holidays, 08:30-17:30)")
    parser.add_argument("--json", type=Path, help="also write the measures to this file")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"skipped: {args.data} is absent (the BPIC 2020 logs are not shipped)")
        return 0
    m = measure(args.data, replications=args.replications, seed=args.seed,
                calendar_name=args.calendar)
    m["simod"] = SIMOD
    print(render(m))
    if args.json:
        args.json.write_text(json.dumps(m, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
