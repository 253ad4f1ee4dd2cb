"""Simulate redesigned approval routes: how much faster, with what uncertainty.

>>> import officemine
>>> from officemine.simulation import simulate, Scenario, Remove
>>> log = officemine.import_log("sample_logs/oa_sample.csv")            # doctest: +SKIP
>>> result = simulate(log, "scenarios/remove_office_check.toml", seed=0)  # doctest: +SKIP
>>> result[0].reduction["median_pct"], result[0].reduction["median_pct_ci"]  # doctest: +SKIP

Engines:

* ``"replay"`` (default, `officemine.simulation.replay`): every completed historical case is
  re-run through the redesigned route, keeping its observed behaviour; uncertainty from a case
  bootstrap. With no change it reproduces the actual cycle times exactly.
* ``"stochastic"`` (`officemine.simulation.stochastic`): a discrete-event model (simpy)
  learnt from the log, validated against it before any redesign is run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from officemine.log.calendar import Calendar
from officemine.versions import Since, select_since
from officemine.base.errors import ChoiceError, InputError, NoDataError
from officemine.log.eventlog import EventLog
from officemine.simulation.result import CycleStats, ScenarioResult, SimulationResult
from officemine.simulation.scenario import (CHANGE_KINDS, CapWait, Change, FastTrack, Parallel,
                                            RecordOnly, ReduceReturns, Remove, Scenario,
                                            ScenarioError, ShortRoute, load_scenario)

__all__ = [
    "simulate", "Scenario", "ScenarioError", "Change", "Remove", "RecordOnly", "Parallel",
    "FastTrack", "ShortRoute", "ReduceReturns", "CapWait", "CHANGE_KINDS", "load_scenario",
    "SimulationResult", "ScenarioResult", "CycleStats", "ENGINES", "DEFAULT_REPLICATIONS",
]

Engine = Literal["replay", "stochastic"]
ENGINES: tuple[str, ...] = get_args(Engine)
#: Replications when none are given: bootstrap resamples (replay), model runs (stochastic).
DEFAULT_REPLICATIONS = {"replay": 1000, "stochastic": 20}

ScenarioLike = Scenario | str | Path | Mapping


def _removed_steps(scenarios, versions) -> list[str]:
    """Problems for changes to steps that the current versions no longer have."""
    if versions is None:
        return []
    gone = versions.removed()
    problems = []
    for scenario in scenarios:
        for i, change in enumerate(scenario.changes, 1):
            nodes = [getattr(change, "node", None), *getattr(change, "nodes", ())]
            for node in filter(None, nodes):
                rows = gone[gone["node"] == node]
                if change.process is not None:
                    rows = rows[rows["process_type"] == change.process]
                if len(rows):
                    when = rows["date"].max()
                    problems.append(
                        f"{scenario.name}: change #{i} ({change.kind}): node {node!r} was removed "
                        f"on {when:%Y-%m-%d}; the current version no longer has it (since='all' "
                        "simulates the whole log)")
    return problems


def simulate(log: EventLog, scenario: ScenarioLike | Sequence[ScenarioLike], *,
             engine: Engine = "replay", replications: int | None = None,
             seed: int | None = 0, calendar: Calendar | None = None,
             since: Since = "current", redesigns: Sequence = ()) -> SimulationResult:
    """Estimate what one or more redesigns do to cycle time and the other indicators.

    scenario:
        A `Scenario`, a path to a scenario TOML file, a dict of the same structure, or a list
        of them (compared side by side, on the same resampled cases).
    engine:
        ``"replay"`` or ``"stochastic"``.
    replications:
        Bootstrap resamples (replay, default 1000) or model runs (stochastic, default 20).
    seed:
        Every random choice derives from it; recorded in the result. ``None`` draws one (and
        records it).
    calendar:
        Working calendar for working-time placement and working-day figures (default:
        09:00–12:00, 13:30–17:30 with Chinese statutory holidays).

    since:
        Which cases are re-run: ``"current"`` (default: each process type's cases started since
        its latest change point, `officemine.versions`), ``"all"``, a date, or
        `ProcessVersions` found on a longer log. A scenario that changes a step the current
        version no longer has is refused, with the date it was removed.

    Every scenario is checked against the log before anything runs; all problems of all
    scenarios are reported in one `ScenarioError`.
    """
    from officemine.simulation._log import load_tables

    ChoiceError.check("engine", engine, ENGINES)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, not {seed!r}")
    seed = int(seed)
    if replications is None:
        replications = DEFAULT_REPLICATIONS[engine]
    if isinstance(replications, bool) or not isinstance(replications, (int, np.integer)) \
            or replications < 1:
        raise InputError(f"replications must be a positive integer, not {replications!r}")
    items = [scenario] if isinstance(scenario, (Scenario, str, Path, Mapping)) else list(scenario)
    if not items:
        raise InputError("no scenario given")
    scenarios = [load_scenario(s) for s in items]
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError([f"two scenarios are named {n!r}; give each a distinct name"
                             for n in dup])
    calendar = calendar or log.calendar
    log, versions = select_since(log, since, redesigns)
    removed = _removed_steps(scenarios, versions)
    if removed:
        raise ScenarioError(removed, name=scenarios[0].name if len(scenarios) == 1 else None)
    tables = load_tables(log, calendar)
    if not tables.cases["completed"].any():
        raise NoDataError("the log has no completed case (archived, rejected or "
                          "withdrawn, nothing pending): there is no cycle time to simulate")
    problems: list[str] = []
    for s in scenarios:
        try:
            s.check(tables)
        except ScenarioError as err:
            prefix = f"{s.name}: " if len(scenarios) > 1 else ""
            problems.extend(prefix + str(p) for p in err.problems)
    if problems:
        single = scenarios[0] if len(scenarios) == 1 else None
        raise ScenarioError(problems, name=single.name if single else None,
                            source=single.source if single else None)

    if engine == "replay":
        from officemine.simulation.replay import simulate_replay

        results = simulate_replay(tables, scenarios, seed=seed, replications=int(replications))
    else:
        from officemine.simulation.stochastic import simulate_stochastic

        results = simulate_stochastic(tables, scenarios, seed=seed,
                                      replications=int(replications))
    start, end = tables.span
    log_info = {
        "cases": int(len(tables.cases)),
        "completed_cases": int(tables.cases["completed"].sum()),
        "events": int(tables.n_events),
        "start": start.isoformat() if start is not None else None,
        "end": end.isoformat() if end is not None else None,
        "timezone": tables.timezone,
        "path": str(log.path) if log.path else None,
    }
    return SimulationResult(results=tuple(results), engine=engine, seed=seed,
                            replications=int(replications), calendar=calendar.describe(),
                            log_info=log_info, validation=results[0].validation)
