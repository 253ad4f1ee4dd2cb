"""A pandas DataFrame is a source like an export: the same log, the same accounting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import officemine
from officemine.base.errors import OfficemineError

SAMPLE = Path(__file__).parents[1] / "sample_logs" / "oa_sample.csv"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, encoding="gbk", dtype=str, keep_default_na=False)


def test_a_frame_gives_the_same_log_as_its_csv(frame):
    from_csv = officemine.import_log(SAMPLE)
    from_frame = officemine.import_log(frame, name="oa_sample")
    a, b = from_csv.to_pandas(), from_frame.to_pandas()
    assert len(b) == len(a) > 10_000
    keep = [c for c in a.columns if c not in ("source_row", "source_file")]
    assert set(b["source_file"]) == {"oa_sample"}
    pd.testing.assert_frame_equal(a[keep], b[keep])
    ra, rb = from_csv.report, from_frame.report
    assert (rb.rows_read, rb.rows_accepted, rb.rows_set_aside) == \
        (ra.rows_read, ra.rows_accepted, ra.rows_set_aside)
    assert rb.format == "dataframe" and rb.source_file == "oa_sample"
    # the frame's index labels stand for the rows: the CSV's line numbers are one header on
    assert (b["source_row"].astype(int) + 2 == a["source_row"].astype(int)).all()


def test_bad_rows_are_set_aside_by_index_label(frame):
    bad = frame.head(40).copy()
    bad.index = [f"r{i}" for i in range(len(bad))]
    bad.loc["r3", "操作日期"] = "not a date"
    bad.loc["r7", "流程编号"] = ""
    log = officemine.import_log(bad, mapping=None)
    r = log.report
    assert r.rows_read == 40 == r.rows_accepted + r.rows_set_aside
    aside = log.set_aside.set_index("source_row")
    assert {"r3", "r7"} <= set(aside.index)
    assert aside.loc["r3", "column"] and aside.loc["r7", "reason"]


def test_a_frame_without_the_needed_columns_is_one_clear_error():
    with pytest.raises(OfficemineError, match="DataFrame"):
        officemine.import_log(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
