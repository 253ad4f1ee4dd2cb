"""How often do the simulation engines' 95% intervals cover the true effect of a redesign?

Logs of the seeded default office (`officemine.synthetic`), each redesign of
`officemine.simulation.coverage.KINDS` on each seed; the replay's truth is the reduction over
the log's completed cases, the stochastic engine's the office's own over many cases (the same
window at ``--truth-rate`` times the default volume, ``--truth-seeds`` runs pooled). See
docs/simulation.md, "Honest intervals".

    .venv/bin/python benchmarks/interval_coverage.py                       # README's figures
    .venv/bin/python benchmarks/interval_coverage.py --engines stochastic --seeds 1-4 \\
        --rate 1 --json out/coverage.json

The full run (both engines, 5 redesigns x 12 seeds, 4 months at four times the default
volume) takes about 10 minutes on two cores, nearly all of it the stochastic engine's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def seeds(text: str) -> list[int]:
    """``1-12`` or ``1,2,5``."""
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in text.split(",")]


def measure(args) -> pd.DataFrame:
    from officemine.simulation import DEFAULT_REPLICATIONS
    from officemine.simulation.coverage import KINDS, coverage, office_truth

    kinds = args.kinds or list(KINDS)
    frames = []
    for engine in args.engines:
        office = None
        if engine == "stochastic":
            office = {k: office_truth(k, start=args.start, end=args.end, rate_scale=args.truth_rate,
                                      seeds=range(10_000, 10_000 + args.truth_seeds))
                      for k in kinds}
        t0 = time.perf_counter()
        frame = coverage(engine, kinds, seeds(args.seeds), start=args.start, end=args.end,
                         rate_scale=args.rate, office=office,
                         replications=args.replications or DEFAULT_REPLICATIONS[engine])
        frame["seconds"] = round(time.perf_counter() - t0, 1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def render(df: pd.DataFrame) -> str:
    lines = []
    for engine, g in df.groupby("engine", sort=False):
        lines.append(f"{engine}: {int(g['covered'].sum())} of {len(g)} 95% intervals cover the "
                     f"truth ({100 * g['covered'].mean():.0f}%); median and mean alone "
                     f"{int(g[g.stat != 'p90']['covered'].sum())} of {int((g.stat != 'p90').sum())}"
                     f"; {g['seconds'].iloc[0]:.0f} s")
        table = g.assign(error=g["estimate"] - g["truth"],
                         half_width=(g["ci_high"] - g["ci_low"]) / 2).groupby(
            ["kind", "stat"], sort=False).agg(
            covered=("covered", "mean"), truth=("truth", "mean"), estimate=("estimate", "mean"),
            mean_error=("error", "mean"), sd_error=("error", "std"),
            half_width=("half_width", "mean"), covers_realised=("covers_realised", "mean"))
        lines.append(table.round(2).to_string())
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["replay", "stochastic"])
    parser.add_argument("--kinds", nargs="+", default=None)
    parser.add_argument("--seeds", default="1-12")
    parser.add_argument("--start", default="2025-01-01")
    parser.add_argument("--end", default="2025-04-30")
    parser.add_argument("--rate", type=float, default=4.0,
                        help="volume: times the default office's arrival rates")
    parser.add_argument("--replications", type=int, default=None,
                        help="default: the engine's (replay 1000, stochastic 10)")
    parser.add_argument("--truth-rate", type=float, default=60.0)
    parser.add_argument("--truth-seeds", type=int, default=3)
    parser.add_argument("--json", default=None, help="write every interval to this file")
    args = parser.parse_args(argv)
    df = measure(args)
    print(render(df))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"settings": vars(args),
                                               "intervals": df.to_dict("records")},
                                              ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
