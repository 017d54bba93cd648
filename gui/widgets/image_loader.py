"""Decoding pictures for display off the GUI thread: thumbnails, the large view, the network input.

A 12-megapixel JPEG takes 100 ms or more to decode, far beyond a frame. Decoding runs on
two small thread pools (one for thumbnails, one for the picture the user is looking at,
so a folder of thumbnails never delays it) and comes back as a QImage, which, unlike a
QPixmap, may be made on any thread. No model is involved, so none of this waits for the
model worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

import gui.app.qt_compat  # noqa: F401  (before any emit: PySide6 6.12 refcount fix)
from core.errors import ImageLoadError
from core.io.images import load_fitted, load_image, load_thumbnail
from gui.app.worker import lower_cpu_priority

THUMBNAIL_SIDE = 96
# Thumbnails asked for but not started: the rows most recently shown come first, and
# beyond this many the oldest requests (rows scrolled past) are dropped.
THUMBNAIL_BACKLOG = 256
PICTURE_SIDE = 1600  # large enough for a full-screen view, small enough to scale quickly


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of a uint8 (H, W, 3) array."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def picture_array(path: str, max_side: int = PICTURE_SIDE) -> np.ndarray:
    image = load_image(path)
    if max(image.shape[:2]) <= max_side:
        return image
    pil = Image.fromarray(image)
    pil.thumbnail((max_side, max_side))
    return np.asarray(pil)


class ImageLoader(QObject):
    """Decodes on background threads; results arrive on the GUI thread as signals."""

    thumbnail_ready = Signal(str, QImage)  # path, thumbnail
    picture_ready = Signal(int, str, object, str)  # request id, path, QImage or None, error

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Thumbnails are background work, like the model's; the picture the user asked for is not.
        self._wanted: OrderedDict[str, None] = OrderedDict()  # newest last
        self._wanted_changed = threading.Condition()
        self._thumbnails = threading.Thread(
            target=self._thumbnail_loop, name="convlens-thumbs", daemon=True
        )
        self._pictures = ThreadPoolExecutor(1, thread_name_prefix="convlens-picture")
        self._picture_request = 0
        self._pending_picture: Future | None = None
        self._closed = False
        self._thumbnails.start()

    def request_thumbnail(self, path: str) -> None:
        """Decode path's thumbnail soon: newer requests first (the rows on screen now)."""
        with self._wanted_changed:
            self._wanted[path] = None
            self._wanted.move_to_end(path)
            while len(self._wanted) > THUMBNAIL_BACKLOG:
                self._wanted.popitem(last=False)
            self._wanted_changed.notify()

    def pending_thumbnails(self) -> int:
        with self._wanted_changed:
            return len(self._wanted)

    def request_picture(
        self,
        path: str,
        input_size: tuple[int, int] | None = None,
        resize_mode: str = "crop",
    ) -> int:
        """Decode a picture for the large view; with input_size, the network's input instead.

        Returns the request id; only the newest request's result is worth showing, and
        an older one still waiting is dropped.
        """
        self._picture_request += 1
        if self._pending_picture is not None:
            self._pending_picture.cancel()
        self._pending_picture = self._pictures.submit(
            self._make_picture, self._picture_request, path, input_size, resize_mode
        )
        return self._picture_request

    def shutdown(self) -> None:
        with self._wanted_changed:
            self._closed = True
            self._wanted.clear()
            self._wanted_changed.notify()
        self._pictures.shutdown(wait=False, cancel_futures=True)

    # -- pool threads ----------------------------------------------------------------------

    def _thumbnail_loop(self) -> None:
        lower_cpu_priority(10)
        while True:
            with self._wanted_changed:
                while not self._wanted and not self._closed:
                    self._wanted_changed.wait()
                if self._closed:
                    return
                path, _ = self._wanted.popitem(last=True)
            self._make_thumbnail(path)

    def _make_thumbnail(self, path: str) -> None:
        try:
            image = to_qimage(load_thumbnail(path, THUMBNAIL_SIDE))
        except Exception:  # a broken file: the list shows its failure from classification
            image = QImage()  # a null image: "no thumbnail", so it is not asked for again
        self._emit(self.thumbnail_ready, path, image)

    def _make_picture(self, request: int, path: str, input_size, resize_mode: str) -> None:
        if request != self._picture_request:
            return  # superseded while waiting
        try:
            if input_size is None:
                array = picture_array(path)
            else:  # exactly what core.engine.engine feeds the model
                array = load_fitted(path, input_size, resize_mode)
            image, error = to_qimage(array), ""
        except ImageLoadError as exc:
            image, error = None, exc.reason
        except Exception as exc:
            image, error = None, f"{type(exc).__name__}: {exc}"
        self._emit(self.picture_ready, request, path, image, error)

    def _emit(self, signal, *args) -> None:
        if self._closed:
            return
        try:
            signal.emit(*args)
        except RuntimeError:
            pass  # the window closed while we decoded
