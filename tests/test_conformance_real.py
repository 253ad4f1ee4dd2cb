"""On the real BPI Challenge 2020 logs, the conformance check gives every case the same
fit/unfit verdict for the control-flow kinds as pm4py's token-based replay of the same BPMN
model, discovered by pm4py's inductive miner from the log's most frequent rounds."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import officemine
from officemine.conformance import CONTROL_FLOW, Procedures, conformance

from conftest import REPO
from test_conformance import reference_rounds

pytestmark = pytest.mark.real
LOGS = ["DomesticDeclarations.xes.gz", "RequestForPayment.xes.gz", "PrepaidTravelCost.xes.gz",
        "PermitLog.xes.gz"]


@pytest.fixture(scope="module", params=LOGS)
def bpic(request, real_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = officemine.import_log(real_data / request.param,
                                    mapping=REPO / "mappings" / "bpic2020.toml")
    return request.param, log, reference_rounds(log)


def discovered_model(rounds: pd.DataFrame, top: int, path):
    """A BPMN model of the `top` most frequent complete rounds (pm4py's inductive miner),
    written as a file: cases outside them do not fit it."""
    import pm4py

    counts = rounds.loc[rounds["complete"], "node"].map(tuple).value_counts()
    rows = [(f"v{i}", step, k) for i, trace in enumerate(counts.index[:top])
            for k, step in enumerate(trace)]
    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "k"])
    frame["time:timestamp"] = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(
        frame.pop("k"), unit="s")
    pm4py.write_bpmn(pm4py.discover_bpmn_inductive(frame, noise_threshold=0.0), str(path),
                     auto_layout=False)
    return path


def token_replay_verdicts(rounds: pd.DataFrame, path) -> pd.Series:
    """Per case: every round fits pm4py's token replay of the model. A complete round must
    replay to the end (``trace_is_fit``); a cut round, judged up to its last step, must replay
    without firing any transition on a missing token. The replay skips activities the model
    lacks; they make a round unfit here. (pm4py's option to count them,
    ``consider_activities_not_in_model_in_fitness``, keeps one set for the whole log: once a
    trace had one, every later trace is unfit.)"""
    import pm4py
    from pm4py.algo.conformance.tokenreplay import algorithm as tbr
    from pm4py.objects.log.obj import Event, EventLog, Trace

    net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path)))
    labels = {t.label for t in net.transitions if t.label}
    log = EventLog([Trace([Event({"concept:name": a}) for a in trace])
                    for trace in rounds["node"]])
    params = tbr.Variants.TOKEN_REPLAY.value.Parameters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        replayed = tbr.apply(log, net, im, fm, parameters={params.SHOW_PROGRESS_BAR: False})
    fit = [set(trace) <= labels and (bool(r["trace_is_fit"]) if complete
                                     else not r["transitions_with_problems"])
           for r, trace, complete in zip(replayed, rounds["node"], rounds["complete"])]
    return pd.Series(fit, index=rounds.index).groupby(rounds["case_id"]).all()


@pytest.mark.parametrize("top", [3, 10])
def test_every_case_gets_pm4pys_verdict(bpic, top, tmp_path):
    name, log, rounds = bpic
    path = discovered_model(rounds, top, tmp_path / "model.bpmn")
    result = conformance(log, Procedures.from_bpmn(path, process_type=None))
    ours = (result.cases.set_index("case_id")[list(CONTROL_FLOW)].sum(axis=1) == 0)
    theirs = token_replay_verdicts(rounds, path).reindex(ours.index, fill_value=True)
    disagree = ours[ours != theirs]
    assert disagree.empty, f"{name}: {len(disagree)} cases differ, e.g. {disagree.index[:5].tolist()}"
    assert 0 < (~ours).sum() < len(ours)        # both verdicts occur
    assert result.not_checked == 0 and result.n_cases == log.n_cases
