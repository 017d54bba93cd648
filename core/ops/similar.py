"""The images most similar to a query image (cosine similarity of their features)."""

from __future__ import annotations

from dataclasses import dataclass

from core.ops.base import OpContext, Request, operation
from core.ops.feature_source import FeatureSource


@dataclass(frozen=True)
class SimilarImage:
    path: str
    similarity: float


@dataclass(frozen=True)
class SimilarResult:
    query: str
    neighbours: tuple[SimilarImage, ...]


@dataclass(frozen=True)
class SimilarRequest(Request):
    source: FeatureSource  # the images to search among
    queries: tuple[str, ...]  # image files, in the source or not
    top: int = 8

    needs_engine = False


@operation(SimilarRequest)
def similar(engine, request: SimilarRequest, ctx: OpContext) -> list[SimilarResult]:
    """Top-k neighbours of each query, itself excluded; each result also goes to ctx.partial."""
    import numpy as np

    from core.ops.feature_source import feature_table, neighbour_index

    table = feature_table(engine, request.source, ctx)
    index = neighbour_index(table, ctx)
    rows = [table.index_of(query) for query in request.queries]
    outside = [q for q, row in zip(request.queries, rows, strict=True) if row is None]
    extra = _query_features(engine, table, outside, ctx) if outside else {}
    results = []
    for query, row in zip(request.queries, rows, strict=True):
        ctx.cancel.raise_if_cancelled()
        vector = table.vectors[row] if row is not None else extra[query]
        keys, sims = index.search(np.asarray(vector), request.top + 1)
        found = [
            SimilarImage(table.paths[k], float(s))
            for k, s in zip(keys[0], sims[0], strict=True)
            if k != row
        ][: request.top]
        result = SimilarResult(query, tuple(found))
        ctx.partial(result)
        results.append(result)
    return results


def _query_features(engine, table, queries, ctx) -> dict:
    """Features of query images that are not in the table, by the table's layer and pooling."""
    from core.errors import ModelLoadError
    from core.explore.cache import feature_cache, features_of
    from core.explore.features import ExploreError

    if engine is None:
        raise ModelLoadError(
            f"{queries[0]} is not among the features searched, and no model is loaded to "
            "compute its features. Load the model the features were made with."
        )
    layer = table.metadata.get("layer") or engine.default_feature_layer()
    pooling = table.metadata.get("pooling") or engine.default_pooling(layer)
    found, _ = features_of(engine, queries, layer, pooling, feature_cache(ctx.store))
    if found.failed:
        path, reason = found.failed[0]
        raise ExploreError(f"{path}: {reason}")
    if found.vectors.shape[1] != table.vectors.shape[1]:
        raise ExploreError(
            f"The query's features have {found.vectors.shape[1]} dimensions but the features "
            f"searched have {table.vectors.shape[1]}: use the model and layer they were made with."
        )
    return dict(zip(queries, found.vectors, strict=True))
