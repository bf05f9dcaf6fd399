"""`make bench`'s sections run and report: each new section, tiny (BENCH_SMOKE=1), gives rows of the shape
bench/run.py prints. No figure is asserted: timings on a shared CI machine say nothing."""

from __future__ import annotations

import importlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

SECTIONS = [
    "bench.intake_handler",
    "bench.end_to_end",
    "bench.dunning_reads",
    "bench.subscription_reads",
    "bench.cost_model",
    "bench.sms_prices",
    "bench.numbering",
]


def test_every_new_bench_section_runs_and_gives_rows_the_table_can_print(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: tiny runs; the sections mostly wait on processes of their own, so they run side by side
    monkeypatch.setenv("BENCH_SMOKE", "1")
    import bench.run

    assert set(SECTIONS) <= set(bench.run.SECTIONS)

    def rows_of(section: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = importlib.import_module(section).run()
        return rows

    # when
    with ThreadPoolExecutor(len(SECTIONS)) as pool:
        results = dict(zip(SECTIONS, pool.map(rows_of, SECTIONS), strict=True))

    # then
    for section, rows in results.items():
        assert rows, f"{section} gave no rows"
        for row in rows:
            assert {"name", "value", "unit"} <= set(row), (section, row)
            assert isinstance(row["name"], str), (section, row)
            assert isinstance(row["value"], int | float), (section, row)
            if "ratio" in row:
                assert isinstance(row["ratio"], int | float), (section, row)
        assert any("target" in row for row in rows), f"{section} states no target"
