"""Each function sees its own environment, and no other thread ever sees a variable vanish.

Switching the process environment between handlers once dropped `POST /_local/clock` connections:
botocore copies `os.environ` when it creates a client, and a key removed mid-copy raised KeyError.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from pathlib import Path
from typing import Any

from local_runtime.functions import Function, Functions

HANDLER = """
import os

def handler(event, context):
    return {"own": os.environ.get(event["own"]), "other": os.environ.get(event["other"])}
"""


def _functions(tmp_path: Path) -> Functions:
    (tmp_path / "app.py").write_text(HANDLER)
    functions = Functions(layer_dirs=[])
    for name, variable in (("first", "FIRST_ONLY"), ("second", "SECOND_ONLY")):
        functions.add(
            Function(
                logical_id=f"{name.title()}Function",
                name=name,
                code_dir=tmp_path,
                handler="app.handler",
                environment={variable: name, "SHARED_TABLE": "table"},
                memory_mb=128,
                timeout_seconds=3,
            )
        )
    return functions


def test_a_handler_sees_its_own_variables_and_not_another_functions(tmp_path: Path) -> None:
    functions = _functions(tmp_path)

    first = functions.invoke("first", {"own": "FIRST_ONLY", "other": "SECOND_ONLY"})
    second = functions.invoke("second", {"own": "SECOND_ONLY", "other": "FIRST_ONLY"})

    assert first == {"own": "first", "other": None}
    assert second == {"own": "second", "other": None}
    assert "FIRST_ONLY" not in os.environ  # outside a handler: the process's environment


def test_threads_outside_handlers_never_see_a_variable_vanish_while_handlers_switch(tmp_path: Path) -> None:
    functions = _functions(tmp_path)
    errors: list[BaseException] = []
    done = threading.Event()

    def read_environment_as_botocore_does() -> None:
        while not done.is_set():
            try:
                urllib.request.getproxies()
                os.environ.copy()
            except Exception as error:
                errors.append(error)

    reader = threading.Thread(target=read_environment_as_botocore_does)
    reader.start()
    answers: list[Any] = []
    try:
        for n in range(5000):
            name, own, other = (
                ("first", "FIRST_ONLY", "SECOND_ONLY") if n % 2 else ("second", "SECOND_ONLY", "FIRST_ONLY")
            )
            answers.append(functions.invoke(name, {"own": own, "other": other}))
    finally:
        done.set()
        reader.join()

    assert errors == []
    assert all(answer["other"] is None and answer["own"] for answer in answers)
