"""Smoke test of benchmarks/bench.py: its generator and one stage at 2k events (no timings)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("officemine_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_and_import_stage(bench, tmp_path):
    csv = bench.generate_export(2000, tmp_path / "oa_2000.csv")
    meta = json.loads(csv.with_suffix(".json").read_text())
    assert 1900 <= meta["events"] <= 2000
    frame = pd.read_csv(csv, encoding="gbk", dtype=str, keep_default_na=False)
    assert len(frame) == meta["events"]
    # shaped like the sample: several process types, returns, resubmissions, cc, open cases
    assert frame["流程类型"].nunique() >= 4
    assert {"同意", "退回", "提交", "归档"} <= set(frame["操作类型"])
    assert (frame["操作类型"] == "").any()                 # 未办 rows of open cases
    # the same settings reuse the file
    assert bench.generate_export(2000, csv) == csv

    parquet = tmp_path / "oa_2000.parquet"
    record = bench.run_stage("import", csv, parquet, tmp_path / "work", timeout=300,
                             mem_cap_gib=8)
    assert record["status"] == "ok", record
    assert record["rows"] == meta["events"] - record["set_aside"]
    assert record["peak_mib"] > 0 and parquet.exists()
    if Path("/proc/stat").exists():
        assert 0 <= record["steal_pct"] <= 100

    results = {"records": [], "events": {"2000": meta["events"]}}
    bench.store(results, 2000, record)
    table = bench.render(results)
    assert "import CSV → Parquet" in table
    if record["steal_pct"] is not None:
        assert f"steal {record['steal_pct']:.0f} %</sub>" in table


def test_readme_block_replaced(bench, tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Licence\n\nAGPL\n", encoding="utf-8")
    monkeypatch.setattr(bench, "README", readme)
    bench.write_readme("| first |")
    bench.write_readme("| second |")
    text = readme.read_text(encoding="utf-8")
    assert text.count("<!-- bench:start -->") == 1 and "| second |" in text
    assert "| first |" not in text and text.index("## Speed") < text.index("## Licence")


def test_conformance_benchmark_gives_pm4pys_verdicts(tmp_path, monkeypatch):
    """benchmarks/conformance.py at 3,000 events: its three stages run and officemine's and
    pm4py's verdicts agree on every case (no timing assertions)."""
    path = BENCH.parent / "conformance.py"
    spec = importlib.util.spec_from_file_location("officemine_bench_conformance", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(BENCH.parent))
    spec.loader.exec_module(module)
    parquet = module.make_log(3000, tmp_path / "log.parquet")
    models = module.write_models(tmp_path / "models")
    ours = module.run("officemine_bpmn", parquet, models, tmp_path / "ours.parquet")
    theirs = module.run("pm4py", parquet, models, tmp_path / "pm4py.parquet")
    full = module.run("officemine", parquet, module.PROCEDURES, None)
    assert ours["cases"] == full["cases"] > 100 and theirs["traces"] > ours["cases"] / 2
    a = pd.read_parquet(tmp_path / "ours.parquet").set_index("case_id")["fit"]
    b = pd.read_parquet(tmp_path / "pm4py.parquet").set_index("case_id")["fit"]
    assert a.equals(b.reindex(a.index, fill_value=True))
    assert (~a).sum() > 0
