"""ConvLens metadata stored with a model file: class names, preprocessing, input size.

In a ``.keras`` file it is one extra member, ``convlens.json``, of the zip archive (Keras
ignores members it does not know, so a plain ``keras.models.load_model`` still works). In
an HDF5 file it is a root attribute. A sidecar ``<model>.json`` or ``labels.txt`` is read
too, for models trained elsewhere. Light module: no TensorFlow import.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import platformdirs

from core.io.atomic import atomic_path

MEMBER = "convlens.json"
H5_ATTRIBUTE = "convlens_metadata"


def write_metadata(model_path: str | Path, metadata: dict) -> None:
    """Store metadata inside a saved .keras or .h5 model file."""
    path = Path(model_path)
    text = json.dumps(metadata)
    if path.suffix.lower() == ".keras":
        _write_zip_member(path, MEMBER, text)
    else:
        import h5py

        with h5py.File(path, "a") as f:
            f.attrs[H5_ATTRIBUTE] = text


def _write_zip_member(path: Path, member: str, text: str) -> None:
    """Add or replace one member of a zip archive, atomically."""
    with zipfile.ZipFile(path) as archive:
        present = member in archive.namelist()
    if not present:  # appending leaves the existing members untouched
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(member, text)
        return
    # Appending again would store a duplicate name; copy the archive without the old one.
    with (
        atomic_path(path) as partial,
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(partial, "w") as target,
    ):
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info))
        target.writestr(member, text)


def read_metadata(model_path: str | Path) -> dict:
    """Metadata stored in the file, else in a sidecar; {} when there is none."""
    path = Path(model_path)
    suffix = path.suffix.lower()
    found: dict = {}
    try:
        if suffix == ".keras" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if MEMBER in archive.namelist():
                    found = json.loads(archive.read(MEMBER))
        elif suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                raw = f.attrs.get(H5_ATTRIBUTE)
                if raw is not None:
                    found = json.loads(raw if isinstance(raw, str) else raw.decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        found = {}
    sidecar = path.with_suffix(path.suffix + ".json")
    if not found and sidecar.is_file():
        try:
            found = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found = {}  # a damaged sidecar should not stop the model from loading
    if not isinstance(found, dict):
        found = {}
    if "class_names" not in found:
        names = read_labels_file(path)
        if names:
            found["class_names"] = names
    return found


def read_labels_file(model_path: Path) -> list[str] | None:
    """Class names from ``<model>.labels.txt``, ``<stem>_labels.txt`` or ``labels.txt`` beside it."""
    for candidate in (
        model_path.with_suffix(model_path.suffix + ".labels.txt"),
        model_path.with_name(model_path.stem + "_labels.txt"),
        model_path.with_name("labels.txt"),
    ):
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, ValueError):
                continue
            lines = [line.strip() for line in text.splitlines()]
            return [line for line in lines if line]
    return None


def _memory_file() -> Path:
    folder = os.environ.get("CONVLENS_CONFIG_DIR") or platformdirs.user_config_dir("convlens")
    return Path(folder) / "model_preprocessing.json"


def remembered_preprocess(model_path: str | Path) -> str | None:
    """The preprocessing the user chose for this model file before, if any."""
    try:
        return json.loads(_memory_file().read_text(encoding="utf-8")).get(
            str(Path(model_path).resolve())
        )
    except (OSError, ValueError):
        return None


def remember_preprocess(model_path: str | Path, mode: str) -> None:
    memory = _memory_file()
    try:
        known = json.loads(memory.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known[str(Path(model_path).resolve())] = mode
    memory.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(memory) as partial:
        partial.write_text(json.dumps(known, indent=1), encoding="utf-8")
