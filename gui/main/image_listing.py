"""Listing dropped folders on a background thread, handing the images over in bulk.

Listing a folder of 10,000 photos takes a few hundred milliseconds (a directory read and a
path resolution per file): far too long for the GUI thread. ``FolderLister`` walks the
folders with core.io.images.iter_images on a thread of its own and emits the paths in
batches, at most every BATCH_SECONDS, so the list grows in a few large insertions, not
10,000 small ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal

from core.io.images import iter_images
from core.progress import CancelToken

BATCH_SECONDS = 0.1
BATCH_MAX = 1000  # an insertion of 5,000 rows stopped the window for about 50 ms


class FolderLister(QObject):
    """Lists folders one request at a time; ``clear`` cancels what is being listed."""

    found = Signal(int, list)  # listing id, image paths (str) in order
    finished = Signal(int, int)  # listing id, how many images were found

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = 0
        self._tokens: dict[int, CancelToken] = {}
        self._lock = threading.Lock()
        self._emitted = threading.Event()  # set at each batch and end, for wait()

    def list(self, folders: Sequence[str]) -> int:
        """Start listing folders; returns the listing's id, which its signals carry."""
        self._ids += 1
        token = CancelToken()
        with self._lock:
            self._tokens[self._ids] = token
        thread = threading.Thread(
            target=self._run,
            args=(self._ids, list(folders), token),
            name="convlens-listing",
            daemon=True,
        )
        thread.start()
        return self._ids

    def busy(self) -> bool:
        with self._lock:
            return bool(self._tokens)

    def wait(self, timeout: float) -> None:
        """Block until a listing emits something (or timeout seconds pass)."""
        self._emitted.wait(timeout)
        self._emitted.clear()

    def deliver_until(self, done, deadline: float | None) -> None:
        """Turn the event loop, so that what the listings found is delivered, until done()
        is true; TimeoutError after the time.monotonic() deadline."""
        while not done():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("Listing the folders took too long.")
            QCoreApplication.sendPostedEvents()
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
            self.wait(0.01)

    def cancel(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.cancel()

    def _run(self, listing: int, folders: list[str], token: CancelToken) -> None:
        batch: list[str] = []
        count = 0
        last = time.monotonic()
        try:
            for path in iter_images(folders):
                if token.cancelled:
                    return
                batch.append(str(path))
                if len(batch) >= BATCH_MAX or time.monotonic() - last >= BATCH_SECONDS:
                    count += len(batch)
                    self._emit(self.found, listing, batch)
                    batch, last = [], time.monotonic()
            if batch and not token.cancelled:
                count += len(batch)
                self._emit(self.found, listing, batch)
        finally:
            with self._lock:
                self._tokens.pop(listing, None)
            self._emit(self.finished, listing, count)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            pass  # the window closed while we listed
        self._emitted.set()
