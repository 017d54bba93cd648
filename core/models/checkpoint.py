"""Read a PyTorch state dict (``.pth``) into numpy arrays without torch and without trust.

A ``.pth`` file is a pickle, and unpickling runs whatever callables the file names. So
this reader admits only the handful of names a plain state dict needs and swaps in
inert stand-ins for them; anything else (``os.system``, ``builtins.eval``, ...) is
refused. Both layouts torch writes are understood: the legacy stream (magic number,
protocol, system info, the pickled dict, the storage keys, then each storage's raw
bytes after an int64 element count) and the zip archive of torch >= 1.6
(``<name>/data.pkl`` plus one raw file per storage in ``<name>/data/``).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelLoadError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# torch's typed storage classes, as they are named inside the pickle. bfloat16 has no
# numpy dtype and is simply not admitted.
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


@dataclass
class _StorageType:
    dtype: np.dtype


@dataclass
class _Storage:
    """A storage whose bytes are read after the pickle (legacy) or on demand (zip)."""

    dtype: np.dtype
    numel: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_ignored) -> _TensorRef:
    # The storage may still be empty here (legacy files put the bytes after the pickle),
    # so remember where the tensor lives and build the array once the data is in.
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, *_ignored):
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(np.dtype(_STORAGE_DTYPES[name]))
        raise pickle.UnpicklingError(
            f"refusing to load '{module}.{name}': a weights file should hold only tensors"
        )

    def persistent_load(self, pid: Any) -> _Storage:
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {storage_type!r}")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views (torch < 0.4 files) are not supported")
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, numel)
        return self._storages[key]


def _plain_load(f) -> Any:
    """Unpickle a header record, which needs no globals at all."""
    return _RestrictedUnpickler(f, {}).load()


def _to_array(ref: _TensorRef) -> np.ndarray:
    data = ref.storage.data
    if data is None:
        raise ModelLoadError("the checkpoint names a storage whose data is missing")
    if ref.offset < 0 or min(ref.shape + ref.stride, default=0) < 0:
        raise ModelLoadError("the checkpoint holds a tensor with a negative size or stride")
    if len(ref.shape) != len(ref.stride):
        raise ModelLoadError("the checkpoint holds a tensor whose shape and strides disagree")
    if 0 in ref.shape:
        return np.zeros(ref.shape, dtype=data.dtype)
    # as_strided does no bounds checking; a corrupt file must not make it read past the end.
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride, strict=True))
    if last >= data.size:
        raise ModelLoadError("the checkpoint holds a tensor that runs past its storage")
    view = np.lib.stride_tricks.as_strided(
        data[ref.offset :],
        shape=ref.shape,
        strides=tuple(s * data.itemsize for s in ref.stride),
        writeable=False,
    )
    return np.array(view)  # contiguous and independent of the file buffer


def _resolve(obj: Any) -> Any:
    if isinstance(obj, _TensorRef):
        return _to_array(obj)
    if isinstance(obj, dict):
        return {k: _resolve(v) for k, v in obj.items()}
    return obj


def _read_legacy(f) -> Any:
    if _plain_load(f) != _LEGACY_MAGIC:
        raise ModelLoadError("not a PyTorch checkpoint (wrong magic number)")
    if _plain_load(f) != _LEGACY_PROTOCOL:
        raise ModelLoadError("unsupported PyTorch checkpoint protocol version")
    sys_info = _plain_load(f)
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise ModelLoadError("big-endian PyTorch checkpoints are not supported")
    storages: dict[str, _Storage] = {}
    result = _RestrictedUnpickler(f, storages).load()
    for key in _plain_load(f):
        storage = storages.get(str(key))
        if storage is None:
            raise ModelLoadError(f"the checkpoint lists an unknown storage {key!r}")
        count = int(np.frombuffer(f.read(8), dtype="<i8")[0])
        nbytes = count * storage.dtype.itemsize
        raw = f.read(nbytes)
        if count != storage.numel or len(raw) != nbytes:
            raise ModelLoadError("the checkpoint is truncated or corrupt")
        storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    return result


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ModelLoadError("not a PyTorch checkpoint (no data.pkl in the archive)")
        prefix = pickles[0][: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        result = _RestrictedUnpickler(io.BytesIO(archive.read(pickles[0])), storages).load()
        for key, storage in storages.items():
            raw = archive.read(f"{prefix}data/{key}")
            if len(raw) != storage.numel * storage.dtype.itemsize:
                raise ModelLoadError(f"storage {key} in the checkpoint has the wrong size")
            storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    return result


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a PyTorch state dict file as ``{name: array}``; refuses anything else."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            result = _read_zip(path)
        else:
            with open(path, "rb") as f:
                result = _read_legacy(f)
        result = _resolve(result)
    except ModelLoadError as exc:
        raise ModelLoadError(f"Cannot read {path}: {exc}") from exc
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"Cannot read {path} as a PyTorch weights file: {exc}") from exc
    if not isinstance(result, dict) or not all(isinstance(v, np.ndarray) for v in result.values()):
        raise ModelLoadError(f"{path} is not a plain PyTorch state dict of tensors.")
    return dict(result)
