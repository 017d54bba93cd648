"""Where the explore operations (map, similar, duplicates) get their feature vectors: a
features file, or images and folders run through the loaded model (cached per image).

The last table and its neighbour index stay in the operation store, so "similar images"
and "duplicates" after a map of the same source cost neither a forward pass nor an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelLoadError
from core.explore.features import ExploreError, FeatureTable
from core.ops.base import OpContext

_TABLE_KEY, _INDEX_KEY = "explore.table", "explore.index"


@dataclass(frozen=True)
class FeatureSource:
    """Images and folders (through the model), or one features file."""

    paths: tuple[str, ...] = ()
    file: str | None = None  # .npz, .npy, .csv or .h5 written by extract
    layer: str | None = None  # None: the model's default feature layer
    pooling: str | None = None  # None: avg for feature maps

    @property
    def needs_model(self) -> bool:
        return self.file is None

    def describe(self) -> str:
        if self.file:
            return Path(self.file).name
        return Path(self.paths[0]).name if len(self.paths) == 1 else f"{len(self.paths)} images"


def feature_table(engine, source: FeatureSource, ctx: OpContext) -> FeatureTable:
    """The source's features: the store's copy when it answers the same source."""
    from core.explore.cache import feature_cache, features_of
    from core.explore.features import read_feature_table
    from core.io.images import find_images

    if source.file:
        stat = Path(source.file).stat() if Path(source.file).exists() else None
        key = (source, stat.st_mtime_ns if stat else None, None)
    else:
        if engine is None:
            raise ModelLoadError("No model is loaded yet. Choose a model first.")
        key = (source, None, engine.loaded.name)
    kept = ctx.store.get(_TABLE_KEY)
    if kept is not None and kept[0] == key:
        return kept[1]
    if source.file:
        if key[1] is None:
            raise ExploreError(f"{source.file} does not exist.")
        ctx.progress(0, 0, f"Reading {Path(source.file).name}…")
        table = read_feature_table(source.file)
    else:
        layer = engine.resolve_layer(source.layer) if source.layer else None
        layer = layer or engine.default_feature_layer()
        pooling = source.pooling or engine.default_pooling(layer)
        images = find_images(source.paths)
        table, _computed = features_of(
            engine,
            images,
            layer,
            pooling,
            feature_cache(ctx.store),
            progress=ctx.progress,
            cancel=ctx.cancel,
        )
    if len(table) == 0:
        raise ExploreError("None of the images could be read, so there is nothing to explore.")
    ctx.store[_TABLE_KEY] = (key, table)
    ctx.store.pop(_INDEX_KEY, None)
    return table


def neighbour_index(table: FeatureTable, ctx: OpContext):
    """The NeighbourIndex of table, built once while the table stays the store's."""
    from core.explore.neighbours import NeighbourIndex

    kept = ctx.store.get(_INDEX_KEY)
    if kept is not None and kept[0] is table:
        return kept[1]
    index = NeighbourIndex(table.vectors, progress=ctx.progress, cancel=ctx.cancel)
    ctx.store[_INDEX_KEY] = (table, index)
    return index
