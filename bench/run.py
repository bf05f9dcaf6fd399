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
    "bench.subscription_reads",
    "bench.cost_model",
    "bench.sms_prices",
    "bench.numbering",
]


def main() -> None:
    """Every section, or only those named on the command line (`python -m bench.run bench.cold_start`)."""
    sections = sys.argv[1:] or SECTIONS
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; known: {SECTIONS}")
    results: list[dict[str, Any]] = []
    for name in sections:
        started = time.perf_counter()
        rows = importlib.import_module(name).run()
        print(f"{name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
        results += rows
    width = max(len(str(r["name"])) for r in results)
    # cpu_ratio: the cold-start rows' CPU-time ratio, the one to trust on a busy machine (bench/cold_start.py)
    print(f"\n{'figure':<{width}}  {'value':>10}  unit      target                ratio  cpu_ratio")
    for row in results:
        value, target, ratio = row["value"], row.get("target", ""), row.get("ratio", "")
        cpu_ratio = row.get("cpu_ratio", "")
        figures = f"{value!s:>10}  {row['unit']:<8}  {target!s:<20}  {ratio!s:<5}  {cpu_ratio!s}"
        print(f"{row['name']:<{width}}  {figures}")
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    out = Path(__file__).parent / "results.json"
    document = {"machine": machine, "sections": sections, "results": results}
    out.write_text(json.dumps(document, indent=2, default=str))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
