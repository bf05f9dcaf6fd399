"""`make bench`: every speed and cost figure in one table, also written to bench/results.json.

Benchmarks report; they never fail a build on a figure (CI only checks that they run).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

SECTIONS = [
    "bench.cold_start",
    "bench.pdf_bench",
    "bench.intake_handler",
    "bench.end_to_end",
    "bench.dunning_reads",
    "bench.cost_model",
]


def main() -> None:
    results: list[dict[str, Any]] = []
    for name in SECTIONS:
        started = time.perf_counter()
        rows = importlib.import_module(name).run()
        print(f"{name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
        results += rows
    width = max(len(str(r["name"])) for r in results)
    print(f"\n{'figure':<{width}}  {'value':>10}  unit      target                ratio")
    for row in results:
        value, target, ratio = row["value"], row.get("target", ""), row.get("ratio", "")
        print(f"{row['name']:<{width}}  {value!s:>10}  {row['unit']:<8}  {target!s:<20}  {ratio!s}")
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    out = Path(__file__).parent / "results.json"
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2, default=str))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
