"""The cache of models converted to ONNX: one ``.onnx`` file and one sidecar JSON per entry.

An entry is keyed by a hash of the model's structure and weights, the layer set it was cut
at and the converter version, so a changed model or a new tf2onnx never reuses an old file.
The sidecar says whether the conversion was verified against TensorFlow (or why it failed)
and holds everything needed to answer with ONNX Runtime alone: class names, input size,
preprocessing, resize policy and the layer tree. A small index maps where a model came from
(a model file, the built-in model, a zoo model's weights file: see ``source_key``) to its
entry, which is how ``convlens classify`` finds a verified model without importing
TensorFlow. Files are written atomically; an entry whose ``.onnx`` does not match the digest
in its sidecar is deleted and converted again. Light module: no TensorFlow, no onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import core
from core.io.atomic import atomic_path
from core.io.images import DEFAULT_RESIZE
from core.io.paths import app_cache_dir, builtin_model_cache, keras_models_dir
from core.models.layers import LayerNode
from core.models.loaded import LoadedModel

OPSET = 17
VERIFIED, UNVERIFIED, FAILED = "verified", "unverified", "failed"


def converter_version() -> str:
    """What made the files: part of every key, so a new converter converts again."""
    try:
        version = metadata.version("tf2onnx")
    except metadata.PackageNotFoundError:
        version = "none"
    return f"tf2onnx-{version}-opset{OPSET}"


def cache_dir() -> Path:
    path = app_cache_dir() / "onnx"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def content_key(model, layer_paths: tuple[str, ...] | None) -> str:
    """The key of a Keras model (cut at layer_paths, or whole): structure, weights, converter."""
    parts = [converter_version().encode(), json.dumps(layer_paths).encode()]
    parts.append(model.to_json().encode())
    for weights in model.get_weights():
        parts.append(str(weights.shape).encode())
        parts.append(weights.tobytes())
    return _digest(*parts)


# -- entries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One cached conversion: the .onnx file (absent for a failed one) and its sidecar."""

    key: str
    sidecar: dict

    @property
    def onnx_path(self) -> Path:
        return cache_dir() / f"{self.key}.onnx"

    @property
    def model_source(self) -> str | bytes:
        """What onnxruntime opens: the file's path."""
        return str(self.onnx_path)

    @property
    def status(self) -> str:
        return self.sidecar.get("status", UNVERIFIED)

    @property
    def reason(self) -> str | None:
        return self.sidecar.get("reason")


@dataclass(frozen=True)
class MemoryEntry(Entry):
    """A conversion kept in memory only, where the cache folder cannot be written."""

    data: bytes | None = None

    @property
    def model_source(self) -> str | bytes:
        return self.data


def entry_bytes(entry: Entry) -> bytes:
    """The serialized ONNX model of an entry, from memory or from its file."""
    source = entry.model_source
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def _sidecar_path(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def _write_json(path: Path, data: dict) -> None:
    with atomic_path(path, error=None) as partial:
        partial.write_text(json.dumps(data), encoding="utf-8")


def write_entry(key: str, onnx_bytes: bytes | None, sidecar: dict) -> Entry:
    """Store a conversion (onnx_bytes None: a failed one); the sidecar is written last."""
    sidecar = dict(sidecar, key=key, converter=converter_version())
    if onnx_bytes is not None:
        sidecar["onnx_digest"] = _digest(onnx_bytes)
        with atomic_path(cache_dir() / f"{key}.onnx", error=None) as partial:
            partial.write_bytes(onnx_bytes)
    _write_json(_sidecar_path(key), sidecar)
    return Entry(key, sidecar)


def update_entry(entry: Entry, **fields) -> Entry:
    sidecar = dict(entry.sidecar, **fields)
    if isinstance(entry, MemoryEntry):
        return MemoryEntry(entry.key, sidecar, entry.data)
    try:
        _write_json(_sidecar_path(entry.key), sidecar)
    except OSError:
        pass  # a read-only cache only costs a check next time
    return Entry(entry.key, sidecar)


def remove_entry(key: str) -> None:
    for path in (_sidecar_path(key), cache_dir() / f"{key}.onnx"):
        path.unlink(missing_ok=True)


def read_entry(key: str) -> Entry | None:
    """The cached entry, or None; a damaged one (sidecar or .onnx) is removed."""
    try:
        sidecar = json.loads(_sidecar_path(key).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        remove_entry(key)
        return None
    entry = Entry(key, sidecar)
    if not isinstance(sidecar, dict) or sidecar.get("converter") != converter_version():
        remove_entry(key)
        return None
    if entry.status != FAILED:
        try:
            intact = file_digest(entry.onnx_path) == sidecar.get("onnx_digest")
        except OSError:
            intact = False
        if not intact:
            remove_entry(key)
            return None
    return entry


# -- where a model came from: the index that lets an answer skip TensorFlow ------------------


def _stat(path: Path) -> list | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


def source_key(name_or_path: str, weights: str | None = "imagenet", preprocess: str | None = None):
    """A key for what a model is loaded from, computed without loading it; None when the
    model is not reproducible (random weights) or its files are not there yet."""
    from core.models.metadata import remembered_preprocess
    from core.models.source import model_source

    try:
        source = model_source(name_or_path)
    except Exception:
        return None
    weights_kind = str(weights).lower() if weights is not None else "none"
    if weights_kind in ("none", "random"):
        return None
    files: list = []
    if source.is_file:
        path = source.path
        files = [_stat(path)]
        for sidecar in (
            path.with_suffix(path.suffix + ".json"),
            path.with_suffix(path.suffix + ".labels.txt"),
            path.with_name(path.stem + "_labels.txt"),
            path.with_name("labels.txt"),
        ):
            files.append(_stat(sidecar))
        preprocess = preprocess or remembered_preprocess(path)
    elif weights_kind != "imagenet":
        files = [_stat(Path(weights))]
    elif source.spec.builtin:
        files = [_stat(builtin_model_cache())]
    else:
        files = [_stat(keras_models_dir() / source.spec.weights_filename(True))]
    if files[0] is None:
        return None
    what = [core.__version__, converter_version(), source.key, weights_kind, preprocess, files]
    return _digest(json.dumps(what).encode())


def _index_path(skey: str) -> Path:
    return cache_dir() / f"source-{skey}.json"


def link_source(skey: str | None, key: str) -> None:
    if skey is None:
        return
    try:
        _write_json(_index_path(skey), {"key": key})
    except OSError:
        pass


def verified_entry_for_source(skey: str | None) -> Entry | None:
    """The verified whole-model entry for a source key, if one is cached and intact."""
    if skey is None:
        return None
    try:
        key = json.loads(_index_path(skey).read_text(encoding="utf-8"))["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    entry = read_entry(key)
    if entry is None or entry.status != VERIFIED or "model" not in entry.sidecar:
        return None
    return entry


# -- what answering needs, without the Keras model --------------------------------------------


def describe_loaded(loaded: LoadedModel, tree: list[LayerNode]) -> dict:
    """LoadedModel's plain data and the layer tree, as stored in a sidecar."""
    shape = loaded.output_shape
    return {
        "name": loaded.name,
        "source": loaded.source,
        "path": str(loaded.path) if loaded.path else None,
        "input_size": list(loaded.input_size),
        "preprocess": loaded.preprocess,
        "class_names": list(loaded.class_names),
        "class_ids": list(loaded.class_ids) if loaded.class_ids else None,
        "weights": loaded.weights,
        "include_top": loaded.include_top,
        "notes": list(loaded.notes),
        # The model's own policy only: a --resize asked for this time is not the model's.
        "resize": loaded.resize if loaded.resize_fixed else DEFAULT_RESIZE,
        "resize_fixed": loaded.resize_fixed,
        "crop_fraction": loaded.crop_fraction,
        "output_shape": list(shape) if isinstance(shape, tuple) else None,
        "layers": [node.to_dict() for node in tree],
    }


def _node(data: dict) -> LayerNode:
    shape = data.get("output_shape")
    return LayerNode(
        name=data["name"],
        path=data["path"],
        class_name=data["class_name"],
        output_shape=tuple(shape) if shape is not None else None,
        params=data["params"],
        trainable=data["trainable"],
        children=[_node(child) for child in data.get("children", [])],
    )


def stored_tree(description: dict) -> list[LayerNode]:
    return [_node(node) for node in description["layers"]]


def stored_loaded(description: dict) -> LoadedModel:
    """A LoadedModel without its Keras model (model None), from a sidecar's description."""
    shape = description.get("output_shape")
    return LoadedModel(
        model=None,
        name=description["name"],
        source=description["source"],
        path=Path(description["path"]) if description.get("path") else None,
        input_size=tuple(description["input_size"]),
        preprocess=description["preprocess"],
        class_names=list(description["class_names"]),
        class_ids=description.get("class_ids"),
        weights=description["weights"],
        include_top=description["include_top"],
        notes=list(description.get("notes", [])),
        resize=description["resize"],
        resize_fixed=description.get("resize_fixed", False),
        crop_fraction=description["crop_fraction"],
        output_shape=tuple(shape) if shape is not None else None,
    )
