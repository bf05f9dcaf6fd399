"""Invoice PDF speed: our fpdf2 renderer beside ReportLab drawing the same layout (reportlab_invoice.py).

    PYTHONPATH=layers/receivables:. .venv/bin/python -m bench.pdf_bench     # this section alone

Figures, for the sample invoice (receivables.rendering.samples), the rows of issue #17:
- warm throughput at 10 and 300 lines, in invoices per second, ours ÷ ReportLab's: the renderers take turns
  round after round, so load from other work on the (shared, 2-core) machine reaches both, and each figure is
  the median of the rounds;
- warm throughput of the 10-line invoice whose buyer and descriptions are Chinese, Japanese, Korean, Arabic
  and Hebrew, ÷ the same invoice in Latin text, measured in the same alternating rounds;
- first invoice in a fresh process: importing the renderer and rendering once, in a new interpreter (bytecode
  compiled, as the layer build is to ship it; the sample document is built before the clock starts). Ours and
  ReportLab's run as pairs in shuffled order; `ratio` is the median of the pairs' ratios;
- the cost the e-invoice adds (building the EN 16931 XML and embedding it as factur-x.xml): ours beside ours
  with the XML left out, in the same alternating rounds, per invoice at 10 and 300 lines (issue #13);
- the PDF sizes.
`ratio` is always ours divided by the figure named in the row's target.
"""

from __future__ import annotations

import compileall
import dataclasses
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.reportlab_invoice import render_invoice_pdf_reportlab
from receivables.documents import InvoiceDocument
from receivables.rendering import invoice_pdf
from receivables.rendering.invoice_pdf import render_invoice_pdf
from receivables.rendering.samples import sample_invoice_document

REPOSITORY = Path(__file__).resolve().parent.parent
SMOKE = os.environ.get("BENCH_SMOKE", "") not in ("", "0")
ROUNDS = 2 if SMOKE else 9
ROUND_SECONDS = 0.02 if SMOKE else 0.25
COLD_PAIRS = 1 if SMOKE else 9
THROUGHPUT_TARGETS = {10: 5.0, 300: 1.0}  # lines -> required multiple of ReportLab's invoices per second
SCRIPTS_TARGET = 0.5  # every-script invoice ÷ Latin invoice, ours
COLD_TARGET = 1.0  # ours ÷ ReportLab's first invoice in a fresh process, at most

Renderer = Callable[[InvoiceDocument], bytes]
OURS, REPORTLAB, WITHOUT_EINVOICE = "ours", "ReportLab", "ours without e-invoice"
_COLD_PROGRAM = """
import time
from receivables.rendering.samples import sample_invoice_document
document = sample_invoice_document(10)
{prepare}
start = time.perf_counter()
{import_renderer}
render(document)
print(time.perf_counter() - start)
"""
COLD_PROGRAMS = {
    OURS: ("", "from receivables.rendering.invoice_pdf import render_invoice_pdf as render"),
    REPORTLAB: ("", "from bench.reportlab_invoice import render_invoice_pdf_reportlab as render"),
    "ours, every script": (
        "from bench.pdf_bench import in_every_script; document = in_every_script(document)",
        "from receivables.rendering.invoice_pdf import render_invoice_pdf as render",
    ),
}
# Buyer and descriptions as a Chinese, Japanese, Korean, Arabic or Hebrew customer writes them.
_NAMES = (
    "山田太郎",
    "株式会社 東京商事",
    "김민준 주식회사",
    "شركة السلام ش.م.م",
    "חברת אלון בע״מ",
    "北京贸易有限公司",
)


def in_every_script(document: InvoiceDocument) -> InvoiceDocument:
    buyer = dataclasses.replace(document.buyer, name="山田太郎")
    lines = tuple(
        dataclasses.replace(line, description=f"{_NAMES[i % len(_NAMES)]} {line.description}")
        for i, line in enumerate(document.lines)
    )
    return dataclasses.replace(document, buyer=buyer, lines=lines)


def render_without_einvoice(document: InvoiceDocument) -> bytes:
    """Our PDF as it was before e-invoices: the same renderer, the factur-x.xml left out."""
    build = invoice_pdf.factur_x_xml
    invoice_pdf.factur_x_xml = lambda _: None  # type: ignore[assignment]
    try:
        return render_invoice_pdf(document)
    finally:
        invoice_pdf.factur_x_xml = build


def seconds_per_render(jobs: dict[str, tuple[Renderer, InvoiceDocument]]) -> dict[str, float]:
    """Median seconds per document for each (renderer, document), warm, the jobs taking turns each round."""
    repetitions = {}
    for name, (render, document) in jobs.items():
        render(document)
        started = time.perf_counter()
        render(document)
        repetitions[name] = max(1, int(ROUND_SECONDS / (time.perf_counter() - started)))
    rounds: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(ROUNDS):
        for name, (render, document) in jobs.items():
            started = time.perf_counter()
            for _ in range(repetitions[name]):
                render(document)
            rounds[name].append((time.perf_counter() - started) / repetitions[name])
    return {name: statistics.median(times) for name, times in rounds.items()}


def _cold_once(name: str) -> float:
    prepare, import_renderer = COLD_PROGRAMS[name]
    program = _COLD_PROGRAM.format(prepare=prepare, import_renderer=import_renderer)
    environment = {"PYTHONPATH": f"{REPOSITORY / 'layers/receivables'}:{REPOSITORY}", "PATH": ""}
    completed = subprocess.run(
        [sys.executable, "-c", program], cwd=REPOSITORY, env=environment, capture_output=True, text=True
    )
    if completed.returncode:
        raise RuntimeError(completed.stderr)
    return float(completed.stdout.strip().splitlines()[-1])


def cold_first_render(pairs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds of each program, and the median of each program's ratio to ReportLab in its pair."""
    names = list(COLD_PROGRAMS)
    for name in names:
        _cold_once(name)  # disk cache and bytecode in place, as on a warm Lambda host
    seconds: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    shuffler = random.Random(17)
    for _ in range(pairs):
        order = names[:]
        shuffler.shuffle(order)
        measured = {name: _cold_once(name) for name in order}
        for name in names:
            seconds[name].append(measured[name])
            ratios[name].append(measured[name] / measured[REPORTLAB])
    return (
        {name: statistics.median(values) for name, values in seconds.items()},
        {name: statistics.median(values) for name, values in ratios.items()},
    )


def run() -> list[dict[str, object]]:
    compileall.compile_dir(REPOSITORY / "layers/receivables", quiet=1)
    compileall.compile_dir(REPOSITORY / "bench", quiet=1)
    rows: list[dict[str, object]] = []
    sizes: list[dict[str, object]] = []
    for lines, target in THROUGHPUT_TARGETS.items():
        document = sample_invoice_document(lines)
        jobs: dict[str, tuple[Renderer, InvoiceDocument]] = {
            OURS: (render_invoice_pdf, document),
            REPORTLAB: (render_invoice_pdf_reportlab, document),
            WITHOUT_EINVOICE: (render_without_einvoice, document),
        }
        if lines == 10:
            jobs["every script"] = (render_invoice_pdf, in_every_script(document))
        seconds = seconds_per_render(jobs)
        ours, reportlab = 1 / seconds[OURS], 1 / seconds[REPORTLAB]
        rows.append(
            {
                "name": f"pdf {lines} lines, warm: ours",
                "value": round(ours, 1),
                "unit": "inv/s",
                "target": f">= {target}x ReportLab",
                "ratio": round(ours / reportlab, 2),
            }
        )
        rows.append(
            {"name": f"pdf {lines} lines, warm: ReportLab", "value": round(reportlab, 1), "unit": "inv/s"}
        )
        added = seconds[OURS] - seconds[WITHOUT_EINVOICE]
        rows.append(
            {
                "name": f"pdf {lines} lines: added by the e-invoice (XML + factur-x.xml) per invoice",
                "value": round(added * 1000, 2),
                "unit": "ms",
                "ratio": round(seconds[OURS] / seconds[WITHOUT_EINVOICE], 2),
            }
        )
        if lines == 10:
            scripts = 1 / seconds["every script"]
            rows.append(
                {
                    "name": "pdf 10 lines, warm: ours, CJK/Arabic/Hebrew text",
                    "value": round(scripts, 1),
                    "unit": "inv/s",
                    "target": f">= {SCRIPTS_TARGET}x Latin",
                    "ratio": round(scripts / ours, 2),
                }
            )
        for name, (render, job_document) in jobs.items():
            kilobytes = round(len(render(job_document)) / 1024, 1)
            sizes.append({"name": f"pdf size {lines} lines: {name}", "value": kilobytes, "unit": "KB"})
    cold, ratios = cold_first_render(COLD_PAIRS)
    for name, cold_seconds in cold.items():
        row: dict[str, object] = {
            "name": f"pdf first in fresh process (import+render): {name}",
            "value": round(cold_seconds * 1000),
            "unit": "ms",
        }
        if name != REPORTLAB:
            row["ratio"] = round(ratios[name], 2)
            row["target"] = f"<= {COLD_TARGET}x ReportLab" if name == OURS else "(x ReportLab)"
        rows.append(row)
    return rows + sizes


def print_table(rows: list[dict[str, object]]) -> None:
    width = max(len(str(row["name"])) for row in rows)
    print(f"{'figure':<{width}}  {'value':>8}  {'unit':<6}  {'target':<22}  ratio")
    for row in rows:
        target, ratio = row.get("target", ""), row.get("ratio", "")
        print(f"{row['name']!s:<{width}}  {row['value']!s:>8}  {row['unit']!s:<6}  {target!s:<22}  {ratio!s}")


if __name__ == "__main__":
    print_table(run())
