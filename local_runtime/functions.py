"""Runs the template's Lambda functions in this process, one warm "container" per function.

Invocations are serialised by one lock, and a handler's module is imported once, like a warm
container. Each function sees exactly its own environment variables (as on Lambda), through
`FunctionEnvironments`: the process environment never loses a key while a handler runs.
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
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local_runtime.template import ACCOUNT_ID, REGION


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


_DELETED = None  # a variable a handler deleted from its own environment


class FunctionEnvironments(MutableMapping[str, str]):
    """`os.environ` as each function sees it: inside a handler, the process's variables overlaid with
    the function's own (a variable of another function is absent); outside, the process's.

    Switching the process environment between functions removed keys while other threads iterated it
    (botocore copies `os.environ` when it creates a client, and urllib reads proxies from it): a
    KeyError in the HTTP thread dropped the connection of `POST /_local/clock`, and in an execution
    thread failed a task. The process environment now only gains keys; each handler reads its own
    variables from a per-thread overlay, as each Lambda function has its own process.
    """

    def __init__(self, process: MutableMapping[str, str]) -> None:
        self.process = process
        self.function_keys: set[str] = set()
        self._running = threading.local()

    @classmethod
    def install(cls) -> FunctionEnvironments:
        if not isinstance(os.environ, FunctionEnvironments):
            setattr(os, "environ", cls(os.environ))  # noqa: B010 - os.getenv reads the module's name
        installed = os.environ
        assert isinstance(installed, FunctionEnvironments)
        return installed

    @contextmanager
    def running(self, own: dict[str, str | None]) -> Iterator[None]:
        """Within this block, in this thread, `os.environ` is the function's environment."""
        outer = getattr(self._running, "own", None)
        self._running.own = own
        try:
            yield
        finally:
            self._running.own = outer

    def _own(self) -> dict[str, str | None] | None:
        own: dict[str, str | None] | None = getattr(self._running, "own", None)
        return own

    def __getitem__(self, key: str) -> str:
        own = self._own()
        if own is None:
            return self.process[key]
        if key in own:
            value = own[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        if key in self.function_keys:
            raise KeyError(key)  # another function's variable
        return self.process[key]

    def __setitem__(self, key: str, value: str) -> None:
        own = self._own()
        if own is None:
            self.process[key] = value
        else:
            own[key] = value

    def __delitem__(self, key: str) -> None:
        own = self._own()
        if own is None:
            del self.process[key]
            return
        self[key]  # KeyError if it is not there, as os.environ raises
        own[key] = _DELETED

    def __iter__(self) -> Iterator[str]:
        own = self._own()
        if own is None:
            return iter(list(self.process))
        process = [k for k in list(self.process) if k not in own and k not in self.function_keys]
        return iter([k for k, v in list(own.items()) if v is not _DELETED] + process)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self.items())

    def __or__(self, other: Mapping[str, str]) -> dict[str, str]:
        return self.copy() | dict(other)


class Functions:
    def __init__(self, layer_dirs: list[Path]) -> None:
        self._functions: dict[str, Function] = {}
        self._by_logical_id: dict[str, Function] = {}
        self._lock = threading.RLock()
        self._environments = FunctionEnvironments.install()
        self._own_environments: dict[str, dict[str, str | None]] = {}
        self.invocations: dict[str, int] = {}
        for layer_dir in layer_dirs:
            if str(layer_dir) not in sys.path:
                sys.path.insert(0, str(layer_dir))

    def add(self, function: Function) -> None:
        self._functions[function.name] = function
        self._by_logical_id[function.logical_id] = function
        self._environments.function_keys |= set(function.environment)
        self._own_environments[function.name] = dict(function.environment)

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

    def environment_of(self, function: Function) -> Any:
        """The function's own environment, in this thread, for the duration of a `with` block."""
        return self._environments.running(self._own_environments[function.name])

    def invoke(self, name: str, event: Any) -> Any:
        """Runs the handler with the function's environment; raises FunctionFailed if it raises."""
        function = self._functions[name]
        with self._lock, self.environment_of(function):
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
