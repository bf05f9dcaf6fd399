"""Reads SAM templates: CloudFormation's YAML tags, Globals, and the intrinsic functions.

Physical names are deterministic (`<stack>-<LogicalId>`), so every `Ref` and `Fn::GetAtt` can be
resolved before anything is created and resources may refer to each other in any order.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

REGION: Final = "eu-central-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "receivables-local"

_SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!GetAtt": "Fn::GetAtt",
    "!Sub": "Fn::Sub",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!FindInMap": "Fn::FindInMap",
    "!Base64": "Fn::Base64",
    "!GetAZs": "Fn::GetAZs",
    "!ImportValue": "Fn::ImportValue",
    "!ToJsonString": "Fn::ToJsonString",
}


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    pass


def _tag_constructor(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag, _name in _SHORT_TAGS.items():
    _CfnLoader.add_constructor(_tag, _tag_constructor(_name))


def samconfig_parameter_overrides(path: Path, environment: str = "dev") -> dict[str, str]:
    """The parameter overrides `sam deploy --config-env <environment>` passes, from samconfig.toml.

    The template gives production parameters (seller, sender, public URL) no default; the `dev`
    environment carries the samples, and the local runtime reads them from there (one copy). Only the
    table form (`[dev.deploy.parameters.parameter_overrides]`, which SAM accepts too) is read.
    """
    if not path.exists():
        return {}
    config = tomllib.loads(path.read_text())
    deploy = config.get(environment, {}).get("deploy", {}).get("parameters", {})
    overrides = deploy.get("parameter_overrides", {})
    if not isinstance(overrides, dict):
        raise ValueError(f"{path}: [{environment}.deploy.parameters.parameter_overrides] must be a table")
    return {str(key): str(value) for key, value in overrides.items()}


def load_yaml(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return document


@dataclass
class Template:
    """One or more templates merged (the product's, plus overlays the tests add)."""

    root: Path
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    globals: dict[str, Any] = field(default_factory=dict)
    code_roots: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def load(cls, *paths: Path) -> Template:
        template = cls(root=paths[0].parent.resolve())
        for path in paths:
            document = load_yaml(path)
            for logical_id in document.get("Resources", {}):
                template.code_roots[logical_id] = path.parent.resolve()
            template.resources.update(document.get("Resources", {}))
            template.parameters.update(document.get("Parameters", {}))
            template.conditions.update(document.get("Conditions", {}))
            template.mappings.update(document.get("Mappings", {}))
            for section, values in document.get("Globals", {}).items():
                template.globals.setdefault(section, {}).update(values)
        return template

    def of_type(self, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource["Type"] == resource_type:
                yield logical_id, resource

    def path(self, logical_id: str, relative: str) -> Path:
        return (self.code_roots.get(logical_id, self.root) / relative).resolve()

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with Globals applied the way SAM merges them."""
        properties = self.resources[logical_id].get("Properties", {})
        return dict(_merge(self.globals.get("Function", {}), properties))


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            result[key] = _merge(base.get(key), value) if key in base else value
        return result
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return override


@dataclass
class Resolver:
    """Evaluates intrinsic functions against the emulated account's names and ARNs."""

    template: Template
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refs.update(
            {
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::StackName": STACK_NAME,
                "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": None,
            }
        )
        for name, spec in self.template.parameters.items():
            value = self.parameter_overrides.get(name, spec.get("Default"))
            self.refs[name] = value

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.conditions[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [resolved for item in value if (resolved := self.resolve(item)) is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handler = getattr(self, "_" + key.replace("::", "_").replace("Fn_", "fn_"), None)
            if key in ("Ref", "Condition") or key.startswith("Fn::"):
                if handler is None:
                    raise NotImplementedError(f"{key} is not supported by the local runtime")
                return handler(argument)
        return {key: resolved for key, item in value.items() if (resolved := self.resolve(item)) is not None}

    def _Ref(self, name: str) -> Any:
        if name not in self.refs:
            raise KeyError(f"Ref to unknown resource or parameter {name}")
        return self.refs[name]

    def _Condition(self, name: str) -> bool:
        return self.condition(name)

    def _fn_GetAtt(self, argument: list[str] | str) -> Any:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        key = (logical_id, str(self.resolve(attribute)))
        if key not in self.attributes:
            raise KeyError(f"Fn::GetAtt {logical_id}.{attribute} is not emulated")
        return self.attributes[key]

    def _fn_Sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        local = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name:
                return str(self._fn_GetAtt(name))
            return str(self._Ref(name))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)

    def _fn_Join(self, argument: list[Any]) -> str:
        delimiter, values = argument
        return str(delimiter).join(str(v) for v in self.resolve(values))

    def _fn_Select(self, argument: list[Any]) -> Any:
        index, values = argument
        return self.resolve(values)[int(self.resolve(index))]

    def _fn_Split(self, argument: list[Any]) -> list[str]:
        delimiter, text = argument
        return str(self.resolve(text)).split(delimiter)

    def _fn_If(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_Equals(self, argument: list[Any]) -> bool:
        left, right = (self.resolve(v) for v in argument)
        return bool(str(left) == str(right))

    def _fn_Not(self, argument: list[Any]) -> bool:
        return not self.resolve(argument[0])

    def _fn_And(self, argument: list[Any]) -> bool:
        return all(self.resolve(v) for v in argument)

    def _fn_Or(self, argument: list[Any]) -> bool:
        return any(self.resolve(v) for v in argument)

    def _fn_FindInMap(self, argument: list[Any]) -> Any:
        name, top, second = (self.resolve(v) for v in argument)
        return self.template.mappings[name][top][second]

    def _fn_Base64(self, argument: Any) -> Any:
        return self.resolve(argument)

    def _fn_GetAZs(self, _: Any) -> list[str]:
        return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]

    def _fn_ToJsonString(self, argument: Any) -> str:
        return json.dumps(self.resolve(argument))
