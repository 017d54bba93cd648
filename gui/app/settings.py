"""What the window remembers between runs: last model, geometry, recent files and folders.

Stored as an INI file in ConvLens' config folder (``CONVLENS_CONFIG_DIR`` overrides it, as
for core's remembered preprocessing), so tests and several installs never share state.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8


def settings_file() -> Path:
    folder = os.environ.get("CONVLENS_CONFIG_DIR") or platformdirs.user_config_dir("convlens")
    return Path(folder) / "settings.ini"


class Settings:
    """Typed access to the window's QSettings."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else settings_file()
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    # -- model -----------------------------------------------------------------------------

    @property
    def last_model(self) -> str | None:
        value = self._qs.value("model/last")
        return str(value) if value else None

    @last_model.setter
    def last_model(self, name_or_path: str) -> None:
        self._qs.setValue("model/last", name_or_path)

    @property
    def recent_models(self) -> list[str]:
        return self._list("model/recent")

    def add_recent_model(self, path: str) -> None:
        self._push("model/recent", path)

    @property
    def resize_mode(self) -> str:
        """How photos are fitted to models that do not keep their own: "crop" or "squash"."""
        return "squash" if self._qs.value("model/resize") == "squash" else "crop"

    @resize_mode.setter
    def resize_mode(self, mode: str) -> None:
        self._qs.setValue("model/resize", mode)

    @property
    def input_size(self) -> tuple[int, int] | None:
        """The (height, width) zoo models are built at, headless; None: their own, with top."""
        try:
            height, width = (int(v) for v in str(self._qs.value("model/input_size")).split(","))
        except ValueError:
            return None
        return (height, width) if min(height, width) >= 32 else None

    @input_size.setter
    def input_size(self, size: tuple[int, int] | None) -> None:
        self._qs.setValue("model/input_size", f"{size[0]},{size[1]}" if size else "")

    # -- folders ---------------------------------------------------------------------------

    @property
    def recent_image_dirs(self) -> list[str]:
        return self._list("images/recent_dirs")

    def add_recent_image_dir(self, folder: str) -> None:
        self._push("images/recent_dirs", folder)

    @property
    def last_image_dir(self) -> str:
        dirs = self.recent_image_dirs
        return dirs[0] if dirs else str(Path.home())

    @property
    def last_export_dir(self) -> str:
        return str(self._qs.value("export/last_dir") or Path.home())

    @last_export_dir.setter
    def last_export_dir(self, folder: str) -> None:
        self._qs.setValue("export/last_dir", folder)

    @property
    def export_suffix(self) -> str | None:
        """The file type last chosen in the export dialog (".npz", ".csv", …)."""
        value = self._qs.value("export/suffix")
        return str(value) if value else None

    @export_suffix.setter
    def export_suffix(self, suffix: str) -> None:
        self._qs.setValue("export/suffix", suffix)

    @property
    def last_model_save_dir(self) -> str:
        """Where the last trained model was saved (home at first)."""
        folder = self._qs.value("training/save_dir")
        return str(folder) if folder and Path(str(folder)).is_dir() else str(Path.home())

    @last_model_save_dir.setter
    def last_model_save_dir(self, folder: str) -> None:
        self._qs.setValue("training/save_dir", folder)

    @property
    def backend(self) -> str:
        """The window's runtime preference: "auto" (ONNX Runtime when verified) or "tf"."""
        value = self._qs.value("engine/backend")
        return value if value in ("auto", "tf") else "auto"

    @backend.setter
    def backend(self, value: str) -> None:
        self._qs.setValue("engine/backend", value)

    # -- explain ---------------------------------------------------------------------------

    @property
    def explain_method(self) -> str | None:
        value = self._qs.value("explain/method")
        return str(value) if value else None

    @explain_method.setter
    def explain_method(self, name: str) -> None:
        self._qs.setValue("explain/method", name)

    @property
    def explain_opacity(self) -> float | None:
        try:
            return float(self._qs.value("explain/opacity"))
        except (TypeError, ValueError):
            return None

    @explain_opacity.setter
    def explain_opacity(self, opacity: float) -> None:
        self._qs.setValue("explain/opacity", float(opacity))

    @property
    def compare_model(self) -> str | None:
        value = self._qs.value("explain/compare_model")
        return str(value) if value else None

    @compare_model.setter
    def compare_model(self, key: str) -> None:
        self._qs.setValue("explain/compare_model", key)

    # -- feature map -----------------------------------------------------------------------

    def map_option(self, name: str) -> str | None:
        """A remembered Feature map choice: "method", "color" or "folder"."""
        value = self._qs.value(f"map/{name}")
        return str(value) if value else None

    def set_map_option(self, name: str, value: str) -> None:
        self._qs.setValue(f"map/{name}", value)

    def map_layer(self, model_key: str) -> tuple[str, str] | None:
        """The (layer, pooling) last mapped with this model (a zoo name or a file path)."""
        try:
            layer, pooling = json.loads(str(self._qs.value("map/layers") or "{}"))[model_key]
        except (KeyError, TypeError, ValueError):
            return None
        return str(layer), str(pooling)

    def set_map_layer(self, model_key: str, layer: str, pooling: str) -> None:
        # One JSON value: model keys are file paths, whose slashes QSettings reads as groups.
        try:
            chosen = json.loads(str(self._qs.value("map/layers") or "{}"))
        except ValueError:
            chosen = {}
        chosen = chosen if isinstance(chosen, dict) else {}
        chosen[model_key] = [layer, pooling]
        self._qs.setValue("map/layers", json.dumps(chosen))

    # -- window ----------------------------------------------------------------------------

    def window_bytes(self, key: str) -> QByteArray | None:
        """Saved geometry or state ("geometry", "state", "splitter/...") or None."""
        value = self._qs.value(f"window/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_bytes(self, key: str, value: QByteArray) -> None:
        self._qs.setValue(f"window/{key}", value)

    def sync(self) -> None:
        self._qs.sync()

    # -- helpers ---------------------------------------------------------------------------

    def _list(self, key: str) -> list[str]:
        value = self._qs.value(key) or []
        # QSettings returns a bare string for a one-item list in INI files.
        return [value] if isinstance(value, str) else [str(v) for v in value]

    def _push(self, key: str, item: str) -> None:
        items = [item] + [i for i in self._list(key) if i != item]
        self._qs.setValue(key, items[:MAX_RECENT])
