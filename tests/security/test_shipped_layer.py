"""What Lambda runs is what the tests ran: python3.13 on arm64, the layer's distributions exactly the pins
the development venv installs, the AWS SDK only at the tested versions, and bytecode for every module.

Reads `.aws-sam/build` (`make test` runs `make build` first; the fixture builds when it is missing).
docs/decisions/0022-python-313-and-shipped-layer.md
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local_runtime.template import Template
from tests.support import REPOSITORY

RUNTIME = "python3.13"
BUILD = REPOSITORY / ".aws-sam/build"
REQUIREMENTS = REPOSITORY / "layers/receivables/requirements.txt"
ELF_AARCH64 = 183  # e_machine of an ELF file built for arm64
SDK = {"boto3", "botocore", "s3transfer"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in REQUIREMENTS.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            assert version, f"not an exact pin: {line!r}"
            assert "[" not in name, f"extras pull unpinned distributions: {line!r}"
            pins[_canonical(name)] = version
    return pins


@pytest.fixture(scope="module")
def layer() -> Path:
    """The built layer's `python/` directory, built here if `make build` has not run."""
    if not (BUILD / "SharedLayer/python").is_dir():
        bin_dir = Path(sys.executable).parent
        subprocess.run(
            [str(bin_dir / "sam"), "build", "--cached", "--parallel", "--region", "eu-central-1"],
            cwd=REPOSITORY,
            env=os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
            check=True,
            capture_output=True,
        )
    return BUILD / "SharedLayer/python"


def _shipped(layer: Path) -> dict[str, str]:
    return {
        _canonical(distribution.metadata["Name"]): distribution.version
        for distribution in importlib.metadata.distributions(path=[str(layer)])
    }


def test_every_function_and_the_layer_run_python3_13_on_arm64() -> None:
    template = Template.load(REPOSITORY / "template.yaml")
    functions = [logical_id for logical_id, _ in template.of_type("AWS::Serverless::Function")]
    assert functions

    for logical_id in functions:
        properties = template.function_properties(logical_id)
        assert properties["Runtime"] == RUNTIME, logical_id
        assert properties["Architectures"] == ["arm64"], logical_id
    (_, layer_resource), *others = template.of_type("AWS::Serverless::LayerVersion")
    assert not others
    assert layer_resource["Properties"]["CompatibleRuntimes"] == [RUNTIME]
    assert layer_resource["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer_resource["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    # The local runtime, the tests and the build run the same minor version as Lambda.
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" == RUNTIME


def test_the_built_layer_holds_exactly_the_pinned_distributions(layer: Path) -> None:
    # when
    shipped = _shipped(layer)

    # then: nothing unpinned came in as a dependency, nothing pinned is missing
    assert shipped == _pins()


def test_what_the_layer_ships_is_what_the_tests_run_with() -> None:
    tested = {name: importlib.metadata.version(name) for name in _pins()}

    assert tested == _pins()


def test_the_layer_ships_the_aws_sdk_only_whole_and_at_the_tested_versions(layer: Path) -> None:
    shipped = _shipped(layer)

    # A botocore without its boto3 (or another version than the tests') is what the [tracer] extra shipped.
    assert {name: shipped[name] for name in SDK & shipped.keys()} in (
        {},
        {name: importlib.metadata.version(name) for name in SDK},
    )
    # botocore imports awscrt whenever it is there; Lambda's runtime has none and neither do we.
    assert "awscrt" not in shipped
    assert not (layer / "awscrt").exists()


def test_every_module_in_the_layer_has_bytecode_that_lambda_uses_as_it_is(layer: Path) -> None:
    tag = sys.implementation.cache_tag  # cpython-313
    sources = list(layer.rglob("*.py"))
    assert len(sources) > 1000

    missing, checked = [], []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        assert compiled.name.endswith(f".{tag}.pyc")
        if not compiled.is_file():
            missing.append(source.relative_to(layer))
            continue
        header = compiled.read_bytes()[:8]
        # PEP 552: flags 0b01 = hash-based, source not checked (the files' dates mean nothing in a zip)
        if header[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(header[4:8], "little") != 0b01:
            checked.append(source.relative_to(layer))

    assert not missing, f"{len(missing)} modules without bytecode, e.g. {missing[:5]}"
    assert not checked, f"{len(checked)} .pyc not unchecked-hash {tag}, e.g. {checked[:5]}"


def test_the_layer_s_compiled_extensions_are_built_for_arm64(layer: Path) -> None:
    extensions = [
        path for path in layer.rglob("*.so*") if path.is_file() and re.search(r"\.so(\.[\d.]+)?$", path.name)
    ]
    assert extensions  # pydantic-core, Pillow, MarkupSafe

    wrong = [path.relative_to(layer) for path in extensions if _elf_machine(path) != ELF_AARCH64]

    assert not wrong


def _elf_machine(path: Path) -> int | None:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little")


@pytest.mark.usefixtures("layer")
def test_every_built_function_runs_python3_13_with_its_handler_beside_it() -> None:
    built = Template.load(BUILD / "template.yaml")

    for logical_id, _ in built.of_type("AWS::Serverless::Function"):
        properties = built.function_properties(logical_id)
        assert properties["Runtime"] == RUNTIME, logical_id
        module = properties["Handler"].rsplit(".", 1)[0]
        assert (BUILD / logical_id / f"{module}.py").is_file(), logical_id


# Lambda's quota: a function and all its layers, unzipped, at most 250 MB (262,144,000 bytes).
UNZIPPED_LIMIT = 262_144_000


def _bytes_under(directory: Path) -> int:
    files = (path for path in directory.rglob("*") if path.is_file() and not path.is_symlink())
    return sum(path.stat().st_size for path in files)


def test_each_function_with_the_layer_fits_lambdas_unzipped_size_limit(layer: Path) -> None:
    """A dependency added to the layer can make `sam deploy` fail only in AWS: caught here instead (the layer
    was 196 MB with Babel, botocore, fontTools, pycountry, Pillow and lxml when this was written)."""
    shipped = _bytes_under(layer)
    functions = [path for path in BUILD.iterdir() if path.is_dir() and path.name != "SharedLayer"]
    assert functions
    largest = max(_bytes_under(function) for function in functions)
    assert shipped + largest < UNZIPPED_LIMIT, f"{(shipped + largest) / 1e6:.0f} MB unzipped"
