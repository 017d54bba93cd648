"""Resolving pretrained ImageNet weights: the Keras cache, else a download, else a clear error.

Keras' application constructors fetch their weights through ``file_utils.get_file``, which
blocks without progress or cancel and raises a bare "URL fetch failure" offline. While a
constructor runs we stand in for that one function, so Keras still names the exact file
and URL it wants (right for every variant and input size) and we decide how it is had.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path

from core.errors import Cancelled, WeightsUnavailableError
from core.io.atomic import atomic_path, write_error_reason
from core.io.paths import keras_models_dir
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

_CHUNK = 1 << 20
DOWNLOAD_TIMEOUT_S = 30


class IncompleteDownloadError(OSError):
    """The server closed the connection before sending the whole file, or sent a bad file."""


def download(
    url: str,
    destination: Path,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    file_hash: str | None = None,
) -> Path:
    """Download url to destination atomically: a partial file never appears under its name."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    # error=None: resolve_weights_file turns every OSError, network or disk, into one message.
    with (
        atomic_path(destination, error=None) as partial,
        open(partial, "wb") as out,
        urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
    ):
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        # Keras gives md5 for most files and sha256 for newer ones; tell them by length.
        hasher = hashlib.sha256() if file_hash and len(file_hash) == 64 else hashlib.md5()
        progress(0, total, f"Downloading {destination.name}")
        while True:
            cancel.raise_if_cancelled()
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            out.write(chunk)
            hasher.update(chunk)
            done += len(chunk)
            progress(done, total, f"Downloading {destination.name}")
        # http.client returns b"" (no exception) when the server hangs up early, and many
        # Keras weights (MobileNet, MobileNetV2) come without a checksum: check the length.
        if total and done != total:
            raise IncompleteDownloadError(
                f"the connection closed after {done:,} of {total:,} bytes of {destination.name}"
            )
        if file_hash and hasher.hexdigest() != file_hash:
            raise IncompleteDownloadError(
                f"the download of {destination.name} is corrupt (checksum mismatch)"
            )
    return destination


def _reason(exc: BaseException, folder: Path) -> str:
    """A short reason for the user: what went wrong with the download."""
    if isinstance(exc, OSError) and (problem := write_error_reason(exc, folder)):
        return f"saving it failed: {problem}"  # a read-only folder, a full disk
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"no network: {exc.reason}"
    if isinstance(exc, http.client.HTTPException):
        return f"the download broke off ({type(exc).__name__})"
    return str(exc) or type(exc).__name__


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
    except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError is an OSError
        raise WeightsUnavailableError(filename, url, folder, _reason(exc, folder)) from exc


@contextlib.contextmanager
def keras_weights_resolver(
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    resolved: list[Path] | None = None,
):
    """While active, Keras applications get their weights through resolve_weights_file.

    Yields a list of the weights files handed to Keras (also appended to `resolved`),
    so an error while reading one can name it.
    """
    from keras.src.utils import file_utils

    found = resolved if resolved is not None else []

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
        path = resolve_weights_file(fname, origin, progress, cancel, file_hash)
        found.append(path)
        return str(path)

    file_utils.get_file = get_file
    try:
        yield found
    finally:
        file_utils.get_file = original
