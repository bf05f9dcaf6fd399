"""The one jinja2 environment of emails and pages, compiled once per process.

Compiling a template per email is about 70x slower than rendering a compiled one (../shared/DESIGN.md),
so the environment and each template are built on first use and kept.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("receivables", "rendering/templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,  # a missing value fails the render instead of sending a hole
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def template(name: str) -> Template:
    return environment().get_template(name)
