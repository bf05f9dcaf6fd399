"""Cold start proxy: wall time of importing each function's handler module in a fresh process.

Measured beside the baseline every Lambda pays anyway (import boto3 and create a DynamoDB client), with
the sys.path Lambda gives a handler (the function's directory, then the layer) and bytecode compiled
first, as `sam build` ships it. The development environment has awscrt installed (botocore's `crt`
extra, pulled in by development tools); the Lambda runtime's boto3 comes without it, and botocore imports
it whenever it is there (about 25 ms, in the baseline and in every function alike, which flattered the
ratios). So each measured process is told it is absent, as on Lambda.

The machine is shared (tests, builds), and its load changes within seconds. Measuring the baseline once
and then every function after it charged that drift to whichever functions came last (ratios from 1.0
to 2.1 for the same imports). So every run of a function is paired with a run of the baseline right
next to it (which one goes first alternates), in rounds that visit the functions in a shuffled, seeded
order; `ratio` is the median over the rounds of function time / its own baseline time. `value` is the
function's median in ms and `min` its fastest run (the least disturbed one); `min_ratio` is that over
the baseline's fastest. `cpu_ratio` is the median paired ratio of CPU time instead of wall time: waiting
for a core that other work holds inflates wall time but hardly CPU time, so it is the figure to trust
when the machine is busy; on a quiet machine the three ratios agree within a few hundredths.
"""

from __future__ import annotations

import compileall
import os
import random
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
LAYER = REPOSITORY / "layers/receivables"
ROUNDS = 8
BASELINE = "import boto3; boto3.client('dynamodb', region_name='eu-central-1')"
BASELINE_NAME = "cold import: boto3 + DynamoDB client (baseline)"
TARGET_RATIO = 1.25
RENDERER_TARGET_RATIO = 1.6
RENDERERS = {"render_invoice", "render_credit_note"}  # both render a PDF on every call
ABSENT_ON_LAMBDA = ("awscrt",)  # a None entry in sys.modules makes `import awscrt` raise ImportError


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # seconds of CPU time of the importing process


def _import(code: str, function_dir: Path | None) -> Run:
    """One fresh interpreter: the time `code` takes, measured inside it (interpreter start-up excluded)."""
    timer = (
        f"import sys; sys.modules.update(dict.fromkeys({ABSENT_ON_LAMBDA!r})); "
        "import time; t, c = time.perf_counter(), time.process_time(); "
        f"{code}; print(time.perf_counter() - t, time.process_time() - c)"
    )
    # Lambda puts the task root (the function's code) before the layer (/opt/python) on sys.path.
    path = [str(function_dir)] if function_dir else []
    env = {
        "PYTHONPATH": os.pathsep.join([*path, str(LAYER)]),
        "AWS_DEFAULT_REGION": "eu-central-1",
        "PATH": "",
    }
    output = subprocess.run(
        [sys.executable, "-c", timer],
        cwd=function_dir or REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall, cpu = output.strip().splitlines()[-1].split()
    return Run(float(wall), float(cpu))


def _import_baseline() -> Run:
    return _import(BASELINE, None)


def _import_app(function_dir: Path) -> Run:
    return _import("import app", function_dir)


def measure(functions: list[Path], rounds: int = ROUNDS) -> dict[Path, list[tuple[Run, Run]]]:
    """Per function, its runs each paired with the baseline run made right beside it."""
    _import_baseline()  # warm the file cache once; not counted
    for function in functions:
        _import_app(function)
    pairs: dict[Path, list[tuple[Run, Run]]] = {function: [] for function in functions}
    for round_number in range(rounds):
        order = list(functions)
        random.Random(round_number).shuffle(order)
        for position, function in enumerate(order):
            if (round_number + position) % 2:
                baseline, app = _import_baseline(), _import_app(function)
            else:
                app, baseline = _import_app(function), _import_baseline()
            pairs[function].append((app, baseline))
    return pairs


def run() -> list[dict[str, object]]:
    compileall.compile_dir(LAYER, quiet=1)
    compileall.compile_dir(REPOSITORY / "functions", quiet=1)
    functions = sorted(app.parent for app in (REPOSITORY / "functions").glob("*/app.py"))
    pairs = measure(functions)
    baselines = [baseline.wall for runs in pairs.values() for _, baseline in runs]
    rows: list[dict[str, object]] = [
        {
            "name": BASELINE_NAME,
            "value": round(statistics.median(baselines) * 1000),
            "min": round(min(baselines) * 1000),
            "unit": "ms",
        }
    ]
    for function, runs in pairs.items():
        walls = [app.wall for app, _ in runs]
        target = RENDERER_TARGET_RATIO if function.name in RENDERERS else TARGET_RATIO
        rows.append(
            {
                "name": f"cold import: {function.name}",
                "value": round(statistics.median(walls) * 1000),
                "min": round(min(walls) * 1000),
                "unit": "ms",
                "target": f"<= {target}x baseline",
                "ratio": round(statistics.median(app.wall / baseline.wall for app, baseline in runs), 2),
                "min_ratio": round(min(walls) / min(baselines), 2),
                "cpu_ratio": round(statistics.median(app.cpu / baseline.cpu for app, baseline in runs), 2),
            }
        )
    return rows
