"""Cold start proxy: wall time of importing each function's handler module in a fresh process, as shipped.

What is imported is what `sam build` ships (`.aws-sam/build`, so `make build` first): the function's
built folder, then the layer's `python/` folder, on the path Lambda gives a handler, and nothing else but
the interpreter's standard library. The child runs with `-I -S -B`: no site-packages (so nothing from the
development venv, and no awscrt: Lambda's runtime has none), no environment variables for Python, and no
bytecode written, so every run finds exactly the `.pyc` the build ships (the layer's, compiled by
layers/receivables/Makefile) and compiles what the build does not ship (the functions' small app.py), as
Lambda does on its read-only file system. The child checks that every module it loaded came from those
folders or the standard library.

The layer ships the AWS SDK at the tested pins (docs/decisions/0022), which shadows the runtime's; the
baseline every Lambda pays anyway (import boto3, create a DynamoDB client) imports it from the same layer.
Lambda runs arm64. On another machine the layer's compiled extensions (pydantic-core, Pillow, MarkupSafe)
cannot load, so the layer is built a second time with the same Makefile, the same pins and the same
bytecode step, for this machine's architecture (`.aws-sam/bench/`, rebuilt when the requirements or the
package change); the function folders are the built ones either way.

The machine is shared (tests, builds), and its load changes within seconds. Measuring the baseline once
and then every function after it charged that drift to whichever functions came last (ratios from 1.0
to 2.1 for the same imports). So every run of a function is paired with a run of the baseline right
next to it (which one goes first alternates), in rounds that visit the functions in a shuffled, seeded
order; `ratio` is the median over the rounds of function time / its own baseline time. `value` is the
function's median in ms and `min` its fastest run (the least disturbed one); `min_ratio` is that over
the baseline's fastest. `cpu_ratio` is the median paired ratio of CPU time instead of wall time: waiting
for a core that other work holds inflates wall time but hardly CPU time, so it is the figure to trust
when the machine is busy; on a quiet machine the three ratios agree within a few hundredths.

    python -m bench.run bench.cold_start      (make bench-cold-start)
"""

from __future__ import annotations

import hashlib
import platform
import random
import statistics
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from local_runtime.template import Template

REPOSITORY = Path(__file__).resolve().parent.parent
BUILD = REPOSITORY / ".aws-sam/build"
LAYER_SOURCE = REPOSITORY / "layers/receivables"
ROUNDS = 8
BASELINE = "import boto3; boto3.client('dynamodb', region_name='eu-central-1')"
BASELINE_NAME = "cold import: boto3 + DynamoDB client (baseline)"
TARGET_RATIO = 1.25
RENDERER_TARGET_RATIO = 1.6
RENDERERS = {"render_invoice", "render_credit_note"}  # both render a PDF on every call
LAMBDA_MACHINES = {"aarch64", "arm64"}  # template.yaml: Architectures [arm64]


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # seconds of CPU time of the importing process


@dataclass(frozen=True)
class Function:
    name: str  # the source folder's name: functions/<name>/
    built: Path  # .aws-sam/build/<LogicalId>/


def built_functions() -> list[Function]:
    if not (BUILD / "template.yaml").is_file():
        raise RuntimeError(f"{BUILD} is missing: run `make build` first (cold starts are measured as built)")
    template = Template.load(REPOSITORY / "template.yaml")
    functions = [
        Function(Path(resource["Properties"]["CodeUri"]).name, BUILD / logical_id)
        for logical_id, resource in template.of_type("AWS::Serverless::Function")
    ]
    return sorted(functions, key=lambda function: function.name)


def measured_layer() -> Path:
    """The built layer's `python/` folder, or its twin built the same way for this machine's architecture."""
    machine = platform.machine().lower()
    if machine in LAMBDA_MACHINES:
        return BUILD / "SharedLayer/python"
    sources = [LAYER_SOURCE / "Makefile", LAYER_SOURCE / "requirements.txt"]
    sources += sorted(p for p in (LAYER_SOURCE / "receivables").rglob("*") if "__pycache__" not in p.parts)
    digest = hashlib.sha256(sys.version.encode())
    for source in sources:
        if source.is_file():
            digest.update(str(source.relative_to(LAYER_SOURCE)).encode() + source.read_bytes())
    twin = REPOSITORY / f".aws-sam/bench/SharedLayer-{machine}"
    stamp = twin / "source.sha256"
    if not stamp.is_file() or stamp.read_text() != digest.hexdigest():
        platforms = f"PLATFORMS=manylinux2014_{machine} manylinux_2_28_{machine}"
        make = ["make", "-s", "-C", str(LAYER_SOURCE), "build-SharedLayer", f"ARTIFACTS_DIR={twin}"]
        subprocess.run([*make, platforms, f"PYTHON={sys.executable}"], check=True)
        stamp.write_text(digest.hexdigest())
    return twin / "python"


# Runs in the child, after sys.path is set: times `code`, then lists modules loaded from anywhere else
# than the allowed folders (the function's, the layer's, the standard library).
_CHILD = """
import sys, time
sys.path[:0] = {path!r}
t, c = time.perf_counter(), time.process_time()
{code}
wall, cpu = time.perf_counter() - t, time.process_time() - c
allowed = tuple({allowed!r})
foreign = sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or allowed[0]).startswith(allowed) is False
)
print(wall, cpu, foreign)
"""


def _import(code: str, path: list[Path], cwd: Path) -> Run:
    """One fresh interpreter: the time `code` takes, measured inside it (interpreter start-up excluded)."""
    stdlib = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    program = _CHILD.format(
        path=[str(entry) for entry in path], code=code, allowed=[*map(str, path), *sorted(stdlib)]
    )
    # -I: no site-packages, no PYTHON* variables, no script folder on the path; -S: no site module;
    # -B: nothing written, so each run imports exactly what the build ships.
    output = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", program],
        cwd=cwd,
        env={"AWS_DEFAULT_REGION": "eu-central-1", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall, cpu, foreign = output.strip().splitlines()[-1].split(" ", 2)
    if foreign != "[]":
        raise RuntimeError(f"modules from outside the build were imported: {foreign}")
    return Run(float(wall), float(cpu))


def measure(
    functions: list[Function], layer: Path, rounds: int = ROUNDS
) -> dict[Function, list[tuple[Run, Run]]]:
    """Per function, its runs each paired with the baseline run made right beside it."""

    def baseline() -> Run:
        return _import(BASELINE, [layer], BUILD)

    def app(function: Function) -> Run:
        # Lambda puts the task root (the function's code) before the layer (/opt/python) on sys.path.
        return _import("import app", [function.built, layer], function.built)

    baseline()  # warm the file cache once; not counted
    for function in functions:
        app(function)
    pairs: dict[Function, list[tuple[Run, Run]]] = {function: [] for function in functions}
    for round_number in range(rounds):
        order = list(functions)
        random.Random(round_number).shuffle(order)
        for position, function in enumerate(order):
            if (round_number + position) % 2:
                base, measured = baseline(), app(function)
            else:
                measured, base = app(function), baseline()
            pairs[function].append((measured, base))
    return pairs


def run() -> list[dict[str, object]]:
    functions = built_functions()
    layer = measured_layer()
    pairs = measure(functions, layer)
    baselines = [baseline.wall for runs in pairs.values() for _, baseline in runs]
    rows: list[dict[str, object]] = [
        {
            "name": BASELINE_NAME,
            "value": round(statistics.median(baselines) * 1000),
            "min": round(min(baselines) * 1000),
            "unit": "ms",
            "functions_from": str(BUILD.relative_to(REPOSITORY)),
            "layer_from": str(layer.relative_to(REPOSITORY)),
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
