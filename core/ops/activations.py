"""One layer's output for one image, as the window's activation grid shows it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.engine.cache import BoundedCache
from core.ops.base import OpContext, Request, operation

# Recent activations and network inputs kept while the engine stays, so going back to a
# layer or image already shown costs nothing. Bounded by bytes: early conv layers are MBs.
ACTIVATION_CACHE_BYTES = 256 * 1024 * 1024
INPUT_CACHE_ITEMS = 16


@dataclass(frozen=True)
class ActivationResult:
    path: str
    layer: str
    maps: np.ndarray  # (H, W, C) or (D,)
    network_input: np.ndarray  # the uint8 picture the network saw

    @property
    def nbytes(self) -> int:
        return self.maps.nbytes + self.network_input.nbytes


@dataclass(frozen=True)
class ActivationsRequest(Request):
    path: str
    layer: str


def network_input(engine, path: str, store: dict) -> np.ndarray:
    """The fitted uint8 input of an image file, cached in store (decoded as classify does)."""
    from core.io.images import load_fitted

    cache = store.setdefault("inputs", BoundedCache(max_items=INPUT_CACHE_ITEMS))
    return cache.get_or_make(path, lambda: load_fitted(path, *engine.fit))


@operation(ActivationsRequest)
def activations(engine, request: ActivationsRequest, ctx: OpContext) -> ActivationResult:
    cache = ctx.store.setdefault("activations", BoundedCache(ACTIVATION_CACHE_BYTES))
    key = (request.path, request.layer)
    cached = cache.get(key)
    if cached is not None:
        return cached
    fitted = network_input(engine, request.path, ctx.store)
    ctx.cancel.raise_if_cancelled()
    maps = engine.activations(fitted, [request.layer], prepared=True)[request.layer]
    result = ActivationResult(request.path, request.layer, np.asarray(maps, np.float32), fitted)
    cache.put(key, result)
    return result
