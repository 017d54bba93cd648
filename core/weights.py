"""Resolving pretrained ImageNet weights: the Keras cache, else a download, else a clear error.

Keras' application constructors fetch their weights through ``file_utils.get_file``, which
blocks without progress or cancel and raises a bare "URL fetch failure" offline. While a
constructor runs we stand in for that one function, so Keras still names the exact file
and URL it wants (right for every variant and input size) and we decide how it is had.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from core.errors import Cancelled, WeightsUnavailableError
from core.paths import keras_models_dir
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

_CHUNK = 1 << 20
DOWNLOAD_TIMEOUT_S = 30


def download(
    url: str,
    destination: Path,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    file_hash: str | None = None,
) -> Path:
    """Download url to destination atomically: a partial file never appears under its name."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
        ):
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            hasher = hashlib.sha256() if file_hash and len(file_hash) == 64 else hashlib.md5()
            while chunk := response.read(_CHUNK):
                cancel.raise_if_cancelled()
                out.write(chunk)
                hasher.update(chunk)
                done += len(chunk)
                progress(done, total, f"Downloading {destination.name}")
        if file_hash and hasher.hexdigest() != file_hash:
            raise OSError(f"the download of {destination.name} is corrupt (checksum mismatch)")
        os.replace(partial, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    return destination


def resolve_weights_file(
    filename: str,
    url: str,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    file_hash: str | None = None,
) -> Path:
    """The local path of a Keras weights file: cached, or downloaded now, or an error."""
    folder = keras_models_dir()
    cached = folder / filename
    if cached.is_file():
        return cached
    try:
        return download(url, cached, progress, cancel, file_hash)
    except Cancelled:
        raise
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise WeightsUnavailableError(
            filename,
            url,
            folder,
            f"no network: {reason}" if isinstance(exc, urllib.error.URLError) else str(reason),
        ) from exc


@contextlib.contextmanager
def keras_weights_resolver(
    progress: ProgressCallback = no_progress, cancel: CancelToken = NEVER_CANCELLED
):
    """While active, Keras applications get their weights through resolve_weights_file."""
    from keras.src.utils import file_utils

    original = file_utils.get_file

    def get_file(fname=None, origin=None, file_hash=None, cache_subdir="datasets", **_ignored):
        if cache_subdir != "models" or not fname or not origin:
            return original(
                fname=fname,
                origin=origin,
                file_hash=file_hash,
                cache_subdir=cache_subdir,
                **_ignored,
            )
        return str(resolve_weights_file(fname, origin, progress, cancel, file_hash))

    file_utils.get_file = get_file
    try:
        yield
    finally:
        file_utils.get_file = original
