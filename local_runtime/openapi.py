"""The API's OpenAPI document, generated from the code.

Each HTTP function's Powertools resolver describes its own routes (parameters, pydantic bodies, problem
responses); template.yaml says which functions serve the API. This module merges their documents with
Powertools' OpenAPIMerge. `python -m local_runtime.openapi` rewrites the committed `openapi.json`
(`--check` fails when it is stale); the local runtime serves the same document at `GET /openapi.json`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

from local_runtime.template import Template

REPOSITORY = Path(__file__).resolve().parent.parent
COMMITTED = REPOSITORY / "openapi.json"
DESCRIPTION = (
    "Accounts receivable for storefronts: orders become numbered invoices (PDF, email, hosted page), "
    "payments arrive by signed webhook, reminders and escalation follow unpaid invoices, and finance "
    "reads reports. Every error is `application/problem+json` (RFC 9457) with an `errors` list naming "
    "each bad field."
)


def http_api_functions(template: Template) -> list[str]:
    """Logical ids of the functions with HttpApi events, in template order."""
    return [
        logical_id
        for logical_id, _ in template.of_type("AWS::Serverless::Function")
        if any(
            e.get("Type") == "HttpApi"
            for e in template.function_properties(logical_id).get("Events", {}).values()
        )
    ]


def load_handler_module(template: Template, logical_id: str) -> ModuleType:
    """The function's handler module, imported once under the name the local runtime gives it."""
    name = f"_lambda_{logical_id}"
    if name in sys.modules:
        return sys.modules[name]
    for _, layer in template.of_type("AWS::Serverless::LayerVersion"):
        layer_dir = str(template.path(logical_id, layer["Properties"]["ContentUri"]))
        if layer_dir not in sys.path:
            sys.path.insert(0, layer_dir)
    properties = template.function_properties(logical_id)
    module_path, _, _ = properties["Handler"].rpartition(".")
    path = template.path(logical_id, properties["CodeUri"]) / (module_path.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def build(template: Template) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    version = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]["version"]
    schemes = {
        "apiKey": APIKey(
            name="x-api-key", in_=APIKeyIn.header, description="Your storefront API key (make api-key)."
        )
    }
    merged = OpenAPIMerge(
        title="Receivables API",
        version=version,
        description=DESCRIPTION,
        security_schemes=schemes,  # type: ignore[arg-type]  # APIKey is a SecurityScheme
        on_conflict="error",
    )
    for logical_id in http_api_functions(template):
        resolver = load_handler_module(template, logical_id).app
        merged.add_schema(resolver.get_openapi_schema(security_schemes=schemes))
    document: dict[str, Any] = json.loads(merged.get_openapi_json_schema())
    _drop_unreferenced_schemas(document)
    return document


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    """Powertools always adds its own validation-error schemas; every 422 here is a Problem instead."""
    schemas = document.get("components", {}).get("schemas", {})
    while True:
        text = json.dumps({k: v for k, v in document.items() if k != "components"}) + json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return
        for name in unused:
            del schemas[name]


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if openapi.json is not current")
    arguments = parser.parse_args()
    text = render(build(Template.load(REPOSITORY / "template.yaml")))
    if arguments.check:
        if not COMMITTED.exists() or COMMITTED.read_text() != text:
            sys.exit("openapi.json is stale: run `make openapi` and commit it.")
        return
    COMMITTED.write_text(text)
    print(f"written {COMMITTED.relative_to(REPOSITORY)}")


if __name__ == "__main__":
    main()
