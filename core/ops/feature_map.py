"""A 2-D map of images by their features (PCA, UMAP or t-SNE), with a colour per point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.ops.base import OpContext, Request, operation
from core.ops.feature_source import FeatureSource

COLOR_BY = ("auto", "predicted", "folder", "cluster", "none")


@dataclass(frozen=True)
class MapRequest(Request):
    source: FeatureSource
    method: str = "pca"
    color_by: str = "auto"  # auto: predicted labels if given, else folders, else clusters
    predicted: tuple[tuple[str, str], ...] = ()  # (path, top label) the caller knows
    seed: int = 0

    needs_engine = False  # a features file needs no model


@dataclass(frozen=True)
class MapResult:
    request: MapRequest
    points: np.ndarray  # N×2
    paths: tuple[str, ...]
    labels: tuple[str, ...]  # the colour group of each point
    color_by: str  # what the labels are: predicted, folder, cluster or none
    failed: tuple[tuple[str, str], ...] = ()
    layer: str | None = None  # whose features were mapped, when known
    pooling: str | None = None

    @property
    def groups(self) -> list[str]:
        """The colour groups, largest first (the legend's order)."""
        names, counts = np.unique(np.asarray(self.labels), return_counts=True)
        return [str(names[i]) for i in np.argsort(-counts, kind="stable")]


def color_labels(table, color_by: str, predicted: dict[str, str]) -> tuple[str, list[str]]:
    """(what colours mean, a label per row) for the colouring asked for."""
    from core.explore.cleaning import clusters
    from core.explore.features import folder_labels

    if color_by in ("auto", "predicted") and predicted:
        return "predicted", [predicted.get(p, "not classified") for p in table.paths]
    folders = folder_labels(table.paths)
    if color_by in ("auto", "folder") and folders:
        return "folder", folders
    if color_by == "none":
        return "none", ["images"] * len(table)
    return "cluster", clusters(table.vectors)


@operation(MapRequest)
def make_map(engine, request: MapRequest, ctx: OpContext) -> MapResult:
    from core.explore.layout import layout
    from core.ops.feature_source import feature_table

    table = feature_table(engine, request.source, ctx)
    ctx.cancel.raise_if_cancelled()
    points = layout(table.vectors, request.method, request.seed, ctx.progress, ctx.cancel)
    ctx.cancel.raise_if_cancelled()
    color_by, labels = color_labels(table, request.color_by, dict(request.predicted))
    return MapResult(
        request,
        points,
        tuple(table.paths),
        tuple(labels),
        color_by,
        tuple(table.failed),
        table.metadata.get("layer"),
        table.metadata.get("pooling"),
    )
