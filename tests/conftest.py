"""Shared fixtures: where test data and the real public logs live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"


def real_data_dir() -> Path:
    """../shared/data/real beside the repo, or $OFFICEMINE_REAL_DATA."""
    env = os.environ.get("OFFICEMINE_REAL_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    path = real_data_dir()
    if not (path / "SOURCES.md").exists():
        pytest.skip(f"real public logs not found at {path}")
    return path


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    return REPO / "sample_logs" / "oa_sample.csv"


@pytest.fixture(autouse=True, scope="session")
def _private_pseudonym_key_dir(tmp_path_factory):
    """No test (nor a notebook kernel, which inherits the environment) reads or writes the
    user's stored pseudonym key, or takes a key from the user's environment."""
    saved = {k: os.environ.get(k) for k in ("OFFICEMINE_CONFIG_DIR", "OFFICEMINE_PSEUDONYM_KEY")}
    os.environ["OFFICEMINE_CONFIG_DIR"] = str(tmp_path_factory.mktemp("officemine_config"))
    os.environ.pop("OFFICEMINE_PSEUDONYM_KEY", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


#: The sample's settings files: the reviews below use each (their words are the office's).
SAMPLE_SETTINGS = {"config": REPO / "sample_logs" / "report.toml",
                   "procedures": REPO / "procedures" / "sample_office.toml",
                   "scenario": REPO / "scenarios" / "short_route_small_claims.toml"}
#: The days of October 2025 the sample's supervision ledger runs (its four weekly runs).
LEDGER_RUNS = ("2025-10-10", "2025-10-17", "2025-10-24", "2025-10-31")


@pytest.fixture(scope="session")
def sample_reviews(tmp_path_factory, sample_csv):
    """The sample office's October 2025 review in Chinese and in English, built once for every
    test that reads a whole review (the layout, the language, the result contract): every
    page there is — conformance, a scenario, two redesigns (the settings' and an April
    pilot), the supervision ledger's month — and pseudonyms (its workbook's sheet too).
    A test must not change them."""
    import dataclasses
    import datetime as dt
    from types import SimpleNamespace

    import officemine
    from officemine.supervision import Ledger

    folder = tmp_path_factory.mktemp("sample_reviews")
    log = officemine.import_log(sample_csv)
    with Ledger(folder / "duban.db") as book:
        for day in LEDGER_RUNS:
            book.update(log, f"{day} 17:30")
    config = officemine.ReportConfig.from_toml(SAMPLE_SETTINGS["config"])
    (reform,) = config.redesigns
    config = dataclasses.replace(config, redesigns=(reform, dataclasses.replace(
        reform, date=dt.date(2025, 4, 1), name="四月试点")))
    key = officemine.PseudonymKey.one_off()
    reviews = {lang: officemine.monthly_report(
        log, "2025-10", config=config, lang=lang, pseudonymize=True, pseudonym_key=key,
        procedures=SAMPLE_SETTINGS["procedures"], ledger=folder / "duban.db",
        scenario=officemine.Scenario.from_toml(SAMPLE_SETTINGS["scenario"]))
        for lang in ("zh", "en")}
    return SimpleNamespace(log=log, config=config, reviews=reviews, folder=folder)


@pytest.fixture(scope="session")
def written_reviews(sample_reviews) -> dict:
    """`sample_reviews` written (PDF, JSON, workbook), once: lang -> the paths."""
    return {lang: review.write(sample_reviews.folder / lang)
            for lang, review in sample_reviews.reviews.items()}


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark session for every test marked ``spark`` (skipped where pyspark or Java
    is missing, failed instead where $OFFICEMINE_REQUIRE_SPARK is set, as in CI): two cores, four shuffle partitions, no UI, tables in a
    temporary warehouse; the Python workers run this interpreter (so they see officemine
    and its dependencies)."""
    import shutil
    import sys

    missing = pytest.skip if not os.environ.get("OFFICEMINE_REQUIRE_SPARK") else pytest.fail
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing("pyspark is not installed (pip install 'officemine[spark]')")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing("Spark needs Java (17 or later)")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("officemine-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.memory", "2g")
               .config("spark.python.worker.reuse", "true")
               .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_sample_log(tmp_path_factory, sample_csv) -> Path:
    """The sample export imported and stored, once for every Spark test module."""
    import officemine

    path = tmp_path_factory.mktemp("sample") / "oa_sample.parquet"
    officemine.import_log(sample_csv).write(path)
    return path


@pytest.fixture(scope="session")
def spark_benchmark_log(tmp_path_factory) -> Path:
    """The benchmark's 1M-event export (`benchmarks/bench.py`), imported once for every
    Spark test module."""
    import sys

    import officemine

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from bench import generate_export
    finally:
        sys.path.pop(0)
    folder = tmp_path_factory.mktemp("bench")
    cached = REPO / "benchmarks" / "out" / "oa_1000000.csv"
    csv = cached if cached.exists() else generate_export(1_000_000, folder / "oa_1000000.csv")
    path = folder / "oa_1000000.parquet"
    officemine.import_log(csv).write(path)
    return path


def chain_log(frame, timezone: str = "Asia/Shanghai"):
    """A canonical `EventLog` of hand-made approval chains: `frame` holds case_id, seq,
    node, outcome and acted_at (and any extra case columns); every event acts on arrival
    (inferred), nothing pending, no people, all of process type 发文."""
    import numpy as np
    import pandas as pd

    from officemine.log.eventlog import EventLog

    frame = frame.copy()
    frame["seq"] = frame["seq"].astype("int32")
    frame["arrived_at"] = pd.Series(pd.NaT, index=frame.index, dtype=frame["acted_at"].dtype)
    frame["wait_start"] = frame["acted_at"]
    frame["arrival_source"] = "inferred"
    frame["pending"] = False
    for column in ("resource", "dept", "comment", "urgency", "applicant", "applicant_dept",
                   "title", "source_file", "source_row"):
        frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["process_type"] = "发文"
    frame["amount"] = np.nan
    return EventLog.from_pandas(frame, timezone=timezone)


@pytest.fixture(scope="session")
def dirty_attempts(tmp_path_factory) -> Path:
    """Two months of the generated office exported with every attempt its own instance (ids
    that sort at random), then dirtied with every kind of row the importer sets aside,
    blank lines and malformed records, in GBK."""
    import numpy as np

    from officemine.synthetic import default_office_spec, export, generate

    folder = tmp_path_factory.mktemp("dirty")
    office = generate(default_office_spec(), start="2025-03-01", end="2025-04-30", seed=3)
    out = export(office, "csv_attempts", folder / "clean.csv")
    raw = out.path.read_bytes()
    text = raw.decode("gbk") if not raw.startswith(b"\xef\xbb\xbf") else raw.decode("utf-8-sig")
    header, *lines = text.splitlines()
    rng = np.random.default_rng(5)
    cells = [line.split(",") for line in lines]
    width = len(header.split(","))
    node, outcome, acted_date, acted_time, amount, arrived_date = (
        header.split(",").index(h) for h in ("节点名称", "操作类型", "操作日期", "操作时间", "金额",
                                              "接收日期"))
    out_lines = []
    for i, row in enumerate(cells):
        kind = rng.integers(0, 60)
        row = list(row)
        if kind == 0:
            row[0] = ""                                         # missing_case_id
        elif kind == 1:
            row[node] = ""                                      # missing_node
        elif kind == 2:
            row[acted_date] = row[acted_time] = ""              # missing_time (or pending)
        elif kind == 3:
            row[acted_date] = "2025/2/30"                       # unparseable_time
        elif kind == 4:
            row[acted_date] = "3025/3/1"                        # implausible_time
        elif kind == 5:
            row[outcome] = "考虑一下"                             # unknown_outcome
        elif kind == 6:
            row[amount] = "一千元"                               # bad_amount
        elif kind == 7:
            row[arrived_date] = "2025/12/31"                    # action_before_arrival
        out_lines.append(",".join(row))
        if kind == 8:
            out_lines.append(",".join(row))                     # duplicate
        elif kind == 9:
            out_lines.append("")                                # a blank line
        elif kind == 10:
            out_lines.append(",".join(row[: width - 3]))       # a malformed record
    path = folder / "dirty.csv"
    path.write_bytes(("\n".join([header, *out_lines]) + "\n").encode("gbk"))
    return path
