"""Invoice PDF speed: our fpdf2 renderer beside ReportLab drawing the same layout (reportlab_invoice.py).

Figures, for the sample invoice (receivables.rendering.samples):
- warm throughput at 10 and 300 lines, in invoices per second: the best of several timed rounds, the two
  renderers taking turns so that noise from other work on the machine reaches both;
- cold first render: importing the renderer and rendering once in a fresh process (bytecode compiled, as
  `sam build` ships it; the sample document is built before the clock starts), median of a few runs;
- the path for text outside the pre-built font subsets (full fonts, fpdf2's own subsetting);
- the PDF sizes.
Targets: ours at least 1.5x ReportLab's throughput at 10 lines and 1.0x at 300 lines. `ratio` is ours
divided by ReportLab's figure for the same thing.
"""

from __future__ import annotations

import compileall
import dataclasses
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.reportlab_invoice import render_invoice_pdf_reportlab
from receivables.documents import InvoiceDocument
from receivables.rendering.invoice_pdf import render_invoice_pdf
from receivables.rendering.samples import sample_invoice_document

REPOSITORY = Path(__file__).resolve().parent.parent
ROUNDS = 5
ROUND_SECONDS = 0.3
COLD_RUNS = 3
THROUGHPUT_TARGETS = {10: 1.5, 300: 1.0}  # lines -> required multiple of ReportLab's invoices per second

Renderer = Callable[[InvoiceDocument], bytes]
RENDERERS: dict[str, Renderer] = {
    "ours (fpdf2)": render_invoice_pdf,
    "ReportLab": render_invoice_pdf_reportlab,
}
COLD_IMPORTS = {
    "ours (fpdf2)": "from receivables.rendering.invoice_pdf import render_invoice_pdf as render",
    "ReportLab": "from bench.reportlab_invoice import render_invoice_pdf_reportlab as render",
}
_COLD_PROGRAM = """
import time
from receivables.rendering.samples import sample_invoice_document
document = sample_invoice_document(10)
start = time.perf_counter()
{import_renderer}
render(document)
print(time.perf_counter() - start)
"""


def seconds_per_render(renderers: dict[str, Renderer], document: InvoiceDocument) -> dict[str, float]:
    """Best seconds per document for each renderer, warm (fonts loaded, first document rendered)."""
    repetitions = {}
    for name, render in renderers.items():
        render(document)
        started = time.perf_counter()
        render(document)
        repetitions[name] = max(1, int(ROUND_SECONDS / (time.perf_counter() - started)))
    best = dict.fromkeys(renderers, float("inf"))
    for _ in range(ROUNDS):
        for name, render in renderers.items():
            started = time.perf_counter()
            for _ in range(repetitions[name]):
                render(document)
            best[name] = min(best[name], (time.perf_counter() - started) / repetitions[name])
    return best


def cold_first_render_seconds(import_renderer: str) -> float:
    program = _COLD_PROGRAM.format(import_renderer=import_renderer)
    environment = {"PYTHONPATH": f"{REPOSITORY / 'layers/receivables'}:{REPOSITORY}", "PATH": ""}

    def once() -> float:
        completed = subprocess.run(
            [sys.executable, "-c", program], cwd=REPOSITORY, env=environment, capture_output=True, text=True
        )
        if completed.returncode:
            raise RuntimeError(completed.stderr)
        return float(completed.stdout.strip().splitlines()[-1])

    once()  # disk cache and bytecode in place, as on a warm Lambda host
    return statistics.median(once() for _ in range(COLD_RUNS))


def _with_non_latin_buyer(document: InvoiceDocument) -> InvoiceDocument:
    buyer = dataclasses.replace(document.buyer, name="ООО «Ромашка» (Anna Schmidt)")
    return dataclasses.replace(document, buyer=buyer)


def run() -> list[dict[str, object]]:
    compileall.compile_dir(REPOSITORY / "layers/receivables", quiet=1)
    compileall.compile_dir(REPOSITORY / "bench", quiet=1)
    rows: list[dict[str, object]] = []
    sizes: list[dict[str, object]] = []
    for lines, target in THROUGHPUT_TARGETS.items():
        document = sample_invoice_document(lines)
        seconds = seconds_per_render(RENDERERS, document)
        ours, reportlab = 1 / seconds["ours (fpdf2)"], 1 / seconds["ReportLab"]
        rows.append(
            {
                "name": f"pdf {lines} lines: ours (fpdf2)",
                "value": round(ours, 1),
                "unit": "inv/s",
                "target": f">= {target}x ReportLab",
                "ratio": round(ours / reportlab, 2),
            }
        )
        rows.append({"name": f"pdf {lines} lines: ReportLab", "value": round(reportlab, 1), "unit": "inv/s"})
        for name, render in RENDERERS.items():
            kilobytes = round(len(render(document)) / 1024, 1)
            sizes.append({"name": f"pdf size {lines} lines: {name}", "value": kilobytes, "unit": "KB"})
    fallback = seconds_per_render(
        {"ours": render_invoice_pdf}, _with_non_latin_buyer(sample_invoice_document(10))
    )
    rows.append(
        {
            "name": "pdf 10 lines: ours, non-Latin text (full fonts)",
            "value": round(1 / fallback["ours"], 1),
            "unit": "inv/s",
        }
    )
    cold = {name: cold_first_render_seconds(program) for name, program in COLD_IMPORTS.items()}
    for name, cold_seconds in cold.items():
        row: dict[str, object] = {"name": f"pdf cold import + first render: {name}", "unit": "ms"}
        row["value"] = round(cold_seconds * 1000)
        if name != "ReportLab":
            row["ratio"] = round(cold_seconds / cold["ReportLab"], 2)
        rows.append(row)
    return rows + sizes


def print_table(rows: list[dict[str, object]]) -> None:
    width = max(len(str(row["name"])) for row in rows)
    print(f"{'figure':<{width}}  {'value':>8}  {'unit':<6}  {'target':<20}  ratio")
    for row in rows:
        target, ratio = row.get("target", ""), row.get("ratio", "")
        print(f"{row['name']!s:<{width}}  {row['value']!s:>8}  {row['unit']!s:<6}  {target!s:<20}  {ratio!s}")


if __name__ == "__main__":
    print_table(run())
