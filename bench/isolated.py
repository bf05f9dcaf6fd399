"""Runs a bench section's measurement in a fresh Python process and hands its rows back.

Sections that start the emulated AWS (moto patches botocore process-wide), patch the local runtime's
hooks or import a handler module under a stub do so in a process of their own, so they cannot disturb the
other sections of `make bench`, nor the test process that smoke-tests them. The child's output (handler
logs, moto's server lines) goes to a log file, shown when the measurement fails.

    python -m bench.isolated bench.intake_handler rows.json

`BENCH_SMOKE=1` in the environment asks every section for a tiny run (CI checks that they run).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
Row = dict[str, Any]


def smoke() -> bool:
    """True when a tiny run was asked for (the CI smoke test): sizes shrink, no figure is meaningful."""
    return os.environ.get("BENCH_SMOKE", "") not in ("", "0")


def invoke_counting_reads(
    functions: Any, logical_id: str, event_file: str
) -> tuple[Any, dict[str, int], float]:
    """Invokes one of the local system's functions with a sample event from events/, counting what its
    DynamoDB Queries read: `ScannedCount` (what DynamoDB bills a Query by) and how many Queries ran.

    Returns (the function's result, {"scanned": n, "queries": n}, wall seconds)."""
    import time

    from receivables import aws

    reads = {"scanned": 0, "queries": 0}

    def count(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("ScannedCount") is not None:
            reads["scanned"] += int(parsed["ScannedCount"])
            reads["queries"] += 1

    client = aws.client("dynamodb")
    client.meta.events.register("after-call.dynamodb.Query", count)
    started = time.perf_counter()
    try:
        event = json.loads((REPOSITORY / "events" / event_file).read_text())
        result = functions.invoke(functions.by_logical_id(logical_id).name, event)
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", count)
    return result, reads, time.perf_counter() - started


def run_isolated(module: str, timeout: float = 600) -> list[Row]:
    """`module.measure()` in a child process (layer and repository on its path, as `make bench` has)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        out, log_path = Path(scratch) / "rows.json", Path(scratch) / "child.log"
        path = os.pathsep.join([str(REPOSITORY / "layers/receivables"), str(REPOSITORY)])
        # TMPDIR: whatever the child leaves in temporary directories goes with the scratch directory.
        env = os.environ | {"PYTHONPATH": path, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "TMPDIR": scratch}
        with log_path.open("w") as log:
            finished = subprocess.run(
                [sys.executable, "-m", "bench.isolated", module, str(out)],
                cwd=REPOSITORY,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if finished.returncode != 0:
            tail = log_path.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"{module} failed (exit {finished.returncode}):\n{tail}")
        rows: list[Row] = json.loads(out.read_text())
        return rows


def main() -> None:
    module, out = sys.argv[1], Path(sys.argv[2])
    rows = importlib.import_module(module).measure()
    out.write_text(json.dumps(rows, default=str))


if __name__ == "__main__":
    main()
