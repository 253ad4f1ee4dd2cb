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
