"""Compare with another model: a second model's top-5 and heatmap for the same image.

The worker owns one engine, the model the window shows. The second model is loaded into an
Engine of its own that this operation keeps in its store, keyed by the model (at most two,
the least recently used goes first), so switching images or classes does not load it again
and the window's model is never replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.engine.cache import BoundedCache
from core.explain import DEFAULT_METHOD, ExplainOptions
from core.explain.overlay import DEFAULT_OPACITY
from core.models.labels import Label
from core.models.source import display_name
from core.ops.activations import network_input
from core.ops.base import OpContext, Request, operation, run_request
from core.ops.explain import OVERLAY_SIZE, ExplainRequest, ExplainResult

COMPARE_ENGINES = 2  # second models kept loaded (each is a whole network in memory)


@dataclass(frozen=True)
class CompareRequest(Request):
    path: str
    model: str  # a zoo name or a model file
    weights: str = "imagenet"
    preprocess: str | None = None
    trust: bool = False
    class_index: int | None = None  # in the second model's classes; None: its top class
    method: str = DEFAULT_METHOD
    layer: str | None = None  # in the second model; None: its last conv layer
    options: ExplainOptions = field(default_factory=ExplainOptions)
    opacity: float = DEFAULT_OPACITY
    overlay_size: int = OVERLAY_SIZE
    top: int = 5

    # The second model does not need the window's: comparing works before it has loaded.
    needs_engine = False

    @property
    def display_name(self) -> str:
        return display_name(self.model)


@dataclass(frozen=True)
class CompareResult:
    request: CompareRequest
    model_name: str
    random_weights: bool
    labels: tuple[Label, ...]  # the second model's top classes for the image
    explanation: ExplainResult


@dataclass
class _Second:
    """A second model's engine and the caches its operations keep."""

    engine: object
    store: dict = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return 1  # counted by items: one model each


def _load(request: CompareRequest, ctx: OpContext) -> _Second:
    from core.engine.engine import Engine
    from core.ops.load import load_with_context

    ctx.progress(0, 0, f"Loading {request.display_name} to compare…")
    loaded = load_with_context(
        request.model, request.weights, request.preprocess, request.trust, ctx
    )
    return _Second(Engine(loaded))


@operation(CompareRequest)
def compare(_engine, request: CompareRequest, ctx: OpContext) -> CompareResult:
    """The second model's top classes and explanation for request.path."""
    seconds = ctx.store.setdefault("compare_engines", BoundedCache(max_items=COMPARE_ENGINES))
    key = (request.model, request.weights, request.preprocess, request.trust)
    second = seconds.get(key)
    if second is None:
        second = _load(request, ctx)
        ctx.cancel.raise_if_cancelled()
        seconds.put(key, second)
    engine = second.engine
    explanation = run_request(
        engine,
        ExplainRequest(
            request.path,
            request.class_index,
            request.method,
            request.layer,
            request.options,
            request.opacity,
            request.overlay_size,
        ),
        OpContext(progress=ctx.progress, cancel=ctx.cancel, store=second.store),
    )
    fitted = network_input(engine, request.path, second.store)  # cached by the explanation
    labels = engine.classify_arrays([fitted], top=request.top, prepared=True)[0]
    return CompareResult(
        request=request,
        model_name=engine.loaded.name,
        random_weights=engine.loaded.random_weights,
        labels=tuple(labels),
        explanation=explanation,
    )
