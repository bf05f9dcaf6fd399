"""Cold start proxy: median wall time of importing each function's handler module in a fresh process.

Measured beside the baseline every Lambda pays anyway (import boto3 and create a DynamoDB client),
with the layer on the path as on Lambda. Bytecode is compiled first, as `sam build` ships it.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
RUNS = 10
BASELINE = "import boto3; boto3.client('dynamodb', region_name='eu-central-1')"
TARGET_RATIO = 1.25
RENDERER_TARGET_RATIO = 1.6
RENDERERS = {"render_invoice"}


def _import_seconds(code: str, cwd: Path) -> float:
    timer = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    env = {
        "PYTHONPATH": str(REPOSITORY / "layers/receivables"),
        "AWS_DEFAULT_REGION": "eu-central-1",
        "PATH": "",
    }
    output = subprocess.run(
        [sys.executable, "-c", timer], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout
    return float(output.strip().splitlines()[-1])


def median_import(code: str, cwd: Path = REPOSITORY) -> float:
    return statistics.median(_import_seconds(code, cwd) for _ in range(RUNS))


def run() -> list[dict[str, object]]:
    compileall.compile_dir(REPOSITORY / "layers/receivables", quiet=1)
    compileall.compile_dir(REPOSITORY / "functions", quiet=1)
    baseline = median_import(BASELINE)
    rows: list[dict[str, object]] = [
        {
            "name": "cold import: boto3 + DynamoDB client (baseline)",
            "value": round(baseline * 1000),
            "unit": "ms",
        }
    ]
    for app in sorted((REPOSITORY / "functions").glob("*/app.py")):
        seconds = median_import("import app", cwd=app.parent)
        target = RENDERER_TARGET_RATIO if app.parent.name in RENDERERS else TARGET_RATIO
        rows.append(
            {
                "name": f"cold import: {app.parent.name}",
                "value": round(seconds * 1000),
                "unit": "ms",
                "target": f"<= {target}x baseline",
                "ratio": round(seconds / baseline, 2),
            }
        )
    return rows
