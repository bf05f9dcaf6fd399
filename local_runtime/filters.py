"""Event filtering as Lambda's FilterCriteria and EventBridge patterns do it (the common operators)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def matches_any(patterns: tuple[dict[str, Any], ...], event: dict[str, Any]) -> bool:
    """No filters lets everything through; several filters are OR'ed."""
    return not patterns or any(matches(pattern, event) for pattern in patterns)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, expected in pattern.items():
        present = isinstance(event, dict) and key in event
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(expected, dict):
            # An absent object still matches a pattern asking its fields not to exist.
            if not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not any(_matches_rule(rule, value, present) for rule in expected):
                return False
        else:
            raise ValueError(f"invalid pattern at {key!r}: {expected!r}")
    return True


def _matches_rule(rule: Any, value: Any, present: bool) -> bool:
    values = value if isinstance(value, list) else [value]
    if not isinstance(rule, dict):
        return present and any(v == rule for v in values)
    ((operator, argument),) = rule.items()
    if operator == "exists":
        return present is bool(argument)
    if not present:
        return False
    if operator == "prefix":
        return any(isinstance(v, str) and v.startswith(argument) for v in values)
    if operator == "suffix":
        return any(isinstance(v, str) and v.endswith(argument) for v in values)
    if operator == "equals-ignore-case":
        return any(isinstance(v, str) and v.casefold() == str(argument).casefold() for v in values)
    if operator == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return all(v not in excluded for v in values)
    if operator == "numeric":
        return any(_numeric(argument, v) for v in values)
    raise ValueError(f"filter operator {operator!r} is not supported locally")


def _numeric(conditions: list[Any], value: Any) -> bool:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return False
    checks = {
        "<": number.__lt__,
        "<=": number.__le__,
        "=": number.__eq__,
        ">": number.__gt__,
        ">=": number.__ge__,
    }
    return all(
        checks[op](Decimal(str(bound))) for op, bound in zip(conditions[::2], conditions[1::2], strict=True)
    )
