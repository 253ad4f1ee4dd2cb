"""Write the sample OA logs shipped with officemine (seeded: every run writes the same files).

    python sample_logs/generate.py

`oa_sample.csv`: a GBK export with Chinese headers, like an OA system writes it, covering
2024-11-01 .. 2025-10-31 (cases still running at the end are open, and the item each is
waiting on is a 未办 row: 接收日期/时间 filled, 操作类型/日期/时间 empty); from 2025-07-01 费用报销
no longer passes 综合办公室审核, so before/after comparisons have something to find; a few cases
depart from the office's standard procedures (`procedures/sample_office.toml`): a finance review
left out, large contracts without the 主要领导's signature, heads approving their own claims,
drafts sent to the office before the department checked them, a finance head signing for a
leader (`officemine.synthetic.sample_office_deviations`), so the conformance page has
something to show.
`oa_sample.xes.gz`: the same events as XES (labels ``<节点>-<操作>``, e.g. ``财务初审-同意``),
without the 未办 rows (an XES event needs a timestamp).
The truth behind them (true return rates, delays, per-case cycle times) is `generate(...)`'s
result: call `main()` or rerun the same `generate` call to get it as DataFrames.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    import officemine  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent / "src"))

from officemine.synthetic import (Redesign, SyntheticLog, default_office_spec, generate,
                                  sample_office_deviations, to_chinese_csv, to_xes)

SEED = 20251101
START, END = "2024-11-01", "2025-10-31"
REDESIGN = Redesign("费用报销", remove_nodes=("综合办公室审核",), effective="2025-07-01")


def main() -> SyntheticLog:
    log = generate(default_office_spec(), start=START, end=END, seed=SEED, redesigns=[REDESIGN],
                   deviations=sample_office_deviations())
    paths = [
        to_chinese_csv(log.events, HERE / "oa_sample.csv", encoding="gbk"),
        to_xes(log.events, HERE / "oa_sample.xes.gz"),
    ]
    print(log)
    for path in paths:
        print(f"{path.relative_to(HERE.parent)}: {path.stat().st_size / 1e6:.2f} MB")
    return log


if __name__ == "__main__":
    main()
