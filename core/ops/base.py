"""Typed operations: an immutable request dataclass and a Qt-free ``run(engine, request, ctx)``.

Every capability (classify, activations, extract, train, …) is one request type with one
run function, registered with ``@operation(RequestType)``. The command line, the window's
worker and the tests all call ``run_request(engine, request, ctx)``; ``ctx`` carries what a
long operation needs from its caller: progress, partial results, cancellation, and a store
for caches that live as long as the engine. Requests are plain data, cheap to import and
to build on any thread; run functions import heavy modules only when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.errors import ModelLoadError
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress


@dataclass(frozen=True)
class Request:
    """Base of every operation request: an immutable snapshot of what was asked."""

    # Whether the operation runs on a loaded model (engine) or on its own.
    needs_engine: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        """What a newer request supersedes: a pending older request of the same kind."""
        return type(self).__name__


def _ignore(payload: Any) -> None:
    """A partial-result callback that drops every piece."""


@dataclass
class OpContext:
    """What an operation may use of its caller while it runs."""

    progress: ProgressCallback = no_progress
    cancel: CancelToken = NEVER_CANCELLED
    partial: Callable[[Any], None] = _ignore  # one piece of the result, as soon as it is known
    store: dict = field(default_factory=dict)  # caches kept while the engine stays the same
    # Installs a new engine (loading a model); None where nothing can be installed.
    install_engine: Callable[[Any], Any] | None = None


Operation = Callable[[Any, Request, OpContext], Any]
_OPERATIONS: dict[type[Request], Operation] = {}


def operation(request_type: type[Request]) -> Callable[[Operation], Operation]:
    """Register the decorated ``run(engine, request, ctx)`` as what runs request_type."""

    def register(run: Operation) -> Operation:
        _OPERATIONS[request_type] = run
        return run

    return register


def run_request(engine, request: Request, ctx: OpContext | None = None):
    """Run the operation registered for the request's type."""
    run = _OPERATIONS.get(type(request))
    if run is None:
        raise TypeError(f"No operation is registered for {type(request).__name__}.")
    if request.needs_engine and engine is None:
        raise ModelLoadError("No model is loaded yet. Choose a model first.")
    return run(engine, request, ctx if ctx is not None else OpContext())
