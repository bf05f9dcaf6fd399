"""Runs the template's Lambda functions in this process, one warm "container" per function.

Invocations are serialised by one lock: each function sees exactly its own environment variables
(as on Lambda), and a handler's module is imported once, like a warm container.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.endpoint
import botocore.utils

from local_runtime.template import ACCOUNT_ID, REGION


def _proxies_while_environments_switch(url: str) -> dict[str, str]:
    """botocore reads proxy settings by iterating os.environ whenever a client is created; an
    invocation on another thread may remove a variable of the previous function meanwhile (KeyError).
    The proxy variables themselves never change here, so a second look is consistent."""
    for _ in range(10):
        try:
            proxies: dict[str, str] = botocore.utils.get_environ_proxies(url)
            return proxies
        except KeyError:
            continue
    return {}


botocore.endpoint.get_environ_proxies = _proxies_while_environments_switch


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass
class Function:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    memory_mb: int
    timeout_seconds: int
    _module: ModuleType | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"

    def entry_point(self) -> Any:
        module_name, _, attribute = self.handler.rpartition(".")
        if self._module is None and f"_lambda_{self.logical_id}" in sys.modules:
            self._module = sys.modules[f"_lambda_{self.logical_id}"]  # already imported for openapi.json
        if self._module is None:
            path = self.code_dir / (module_name.replace(".", "/") + ".py")
            spec = importlib.util.spec_from_file_location(f"_lambda_{self.logical_id}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            self._module = module
        return getattr(self._module, attribute)


class FunctionFailed(Exception):
    """The handler raised: Lambda reports it as a function error."""

    def __init__(self, function: str, error: BaseException) -> None:
        super().__init__(f"{function}: {type(error).__name__}: {error}")
        self.error = error


class Functions:
    def __init__(self, layer_dirs: list[Path]) -> None:
        self._functions: dict[str, Function] = {}
        self._by_logical_id: dict[str, Function] = {}
        self._lock = threading.RLock()
        self._managed_keys: set[str] = set()
        self.invocations: dict[str, int] = {}
        for layer_dir in layer_dirs:
            if str(layer_dir) not in sys.path:
                sys.path.insert(0, str(layer_dir))

    def add(self, function: Function) -> None:
        self._functions[function.name] = function
        self._by_logical_id[function.logical_id] = function
        self._managed_keys |= set(function.environment)

    @property
    def lock(self) -> threading.RLock:
        """Held by every invocation: while a thread holds it, no function runs elsewhere."""
        return self._lock

    def __iter__(self) -> Any:
        return iter(self._functions.values())

    def by_name(self, name: str) -> Function:
        return self._functions[name]

    def by_logical_id(self, logical_id: str) -> Function:
        return self._by_logical_id[logical_id]

    def invoke(self, name: str, event: Any) -> Any:
        """Runs the handler with the function's environment; raises FunctionFailed if it raises."""
        function = self._functions[name]
        with self._lock:
            self._apply_environment(function)
            context = LambdaContext(function.name, function.memory_mb, function.timeout_seconds)
            self.invocations[name] = self.invocations.get(name, 0) + 1
            try:
                return function.entry_point()(event, context)
            except Exception as error:
                traceback.print_exc()
                raise FunctionFailed(name, error) from error

    def invoke_for_moto(self, name: str, event: Any) -> tuple[str, bool]:
        try:
            return json.dumps(self.invoke(name, event), default=str), False
        except FunctionFailed as failed:
            from local_runtime.moto_hooks import lambda_error_payload

            return lambda_error_payload(failed.error), True

    def _apply_environment(self, function: Function) -> None:
        # Only the template's variables change between functions; credentials and region stay put,
        # so threads outside a handler (moto's executions) never see a half-switched environment.
        for key in self._managed_keys - set(function.environment):
            os.environ.pop(key, None)
        os.environ.update(function.environment)
