"""Dataset cleaning: groups of near-duplicate images and the least typical image per class."""

from __future__ import annotations

from dataclasses import dataclass

from core.ops.base import OpContext, Request, operation
from core.ops.feature_source import FeatureSource


@dataclass(frozen=True)
class DuplicatesRequest(Request):
    source: FeatureSource
    threshold: float = 0.95  # cosine similarity
    least_typical: int = 0  # per class (folder, or predicted when given); 0: none
    predicted: tuple[tuple[str, str], ...] = ()  # (path, label) the caller knows

    needs_engine = False


@dataclass(frozen=True)
class DuplicateSet:
    paths: tuple[str, ...]
    similarity: float  # the weakest link in the group


@dataclass(frozen=True)
class Untypical:
    label: str
    path: str
    similarity: float  # to the class's mean direction


@dataclass(frozen=True)
class DuplicatesResult:
    request: DuplicatesRequest
    groups: tuple[DuplicateSet, ...]
    least_typical: tuple[Untypical, ...]
    count: int  # images looked at


@operation(DuplicatesRequest)
def find_duplicates(engine, request: DuplicatesRequest, ctx: OpContext) -> DuplicatesResult:
    from core.explore.cleaning import duplicate_groups, least_typical
    from core.explore.features import ExploreError, folder_labels
    from core.ops.feature_source import feature_table, neighbour_index

    if not 0.0 < request.threshold <= 1.0:
        raise ExploreError("The similarity threshold must be above 0 and at most 1.")
    table = feature_table(engine, request.source, ctx)
    index = neighbour_index(table, ctx)
    found = duplicate_groups(table.vectors, request.threshold, index, ctx.progress, ctx.cancel)
    groups = tuple(
        DuplicateSet(tuple(table.paths[m] for m in g.members), g.similarity) for g in found
    )
    odd: tuple[Untypical, ...] = ()
    if request.least_typical > 0:
        predicted = dict(request.predicted)
        labels = (
            [predicted.get(p, "not classified") for p in table.paths]
            if predicted
            else folder_labels(table.paths)
        )
        odd = tuple(
            Untypical(a.label, table.paths[a.index], a.similarity)
            for a in least_typical(table.vectors, labels, request.least_typical)
        )
    return DuplicatesResult(request, groups, odd, len(table))
