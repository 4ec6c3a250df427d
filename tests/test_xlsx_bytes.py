"""tables.xlsx (and ``--format xlsx``) are byte-identical between two writes of the same cells
(issue 16): fixed ZIP entry times and fixed document created/modified dates."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pandas as pd

from ksz_reports.core.tables import write_table
from ksz_reports.report.write import write_xlsx

CELLS = pd.DataFrame(
    {
        "table": ["key_figures", "key_figures", "evolution"],
        "indicator": ["pension", "ll", "pension"],
        "period": ["2021", "2021", "2020"],
        "geo": ["11001", "11001", "11001"],
        "count": [3456, None, 3400],
    }
)


def test_two_writes_are_byte_identical(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "a.xlsx", CELLS)
    write_table(CELLS.drop(columns=["table"]), "xlsx", tmp_path / "c.xlsx")
    time.sleep(2.1)  # ZIP times have a resolution of 2 s, the document dates of 1 s
    write_xlsx(tmp_path / "b.xlsx", CELLS)
    write_table(CELLS.drop(columns=["table"]), "xlsx", tmp_path / "d.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert (tmp_path / "c.xlsx").read_bytes() == (tmp_path / "d.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = zf.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core
    read = pd.read_excel(tmp_path / "a.xlsx", sheet_name=None)
    assert sorted(read) == ["evolution", "key_figures"]
