"""Every settings file (mapping, calendar, SLA, scenario, report settings) is read the same way:
a missing or broken file raises that reader's own error, naming the file and what is wrong."""

from __future__ import annotations

import pytest

from officemine import Calendar, Mapping, Scenario
from officemine.base.errors import CalendarError, MappingError, OfficemineError
from officemine.review.config import ReportConfig, ReportConfigError
from officemine.simulation import ScenarioError
from officemine.sla import SLA, SLAError

READERS = [(Mapping.from_toml, MappingError, "mapping file"),
           (Calendar.from_toml, CalendarError, "calendar file"),
           (SLA.from_toml, SLAError, "SLA file"),
           (Scenario.from_toml, ScenarioError, "scenario file"),
           (ReportConfig.from_toml, ReportConfigError, "report settings file")]


@pytest.mark.parametrize("read, error, what", READERS)
def test_a_missing_file_names_the_file(tmp_path, read, error, what):
    path = tmp_path / "没有.toml"
    with pytest.raises(error) as info:
        read(path)
    assert f"cannot read {what} {path}: No such file or directory" in str(info.value)
    assert isinstance(info.value, OfficemineError)
    if error is ScenarioError:
        assert info.value.source == str(path)


@pytest.mark.parametrize("read, error, what", READERS)
def test_broken_toml_and_another_encoding_are_not_valid_toml(tmp_path, read, error, what):
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "未闭合\n', encoding="utf-8")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('name = "报销"\n'.encode("gbk"))
    for path in (broken, gbk):
        with pytest.raises(error, match=f"{what} .*{path.name} is not valid TOML"):
            read(path)
