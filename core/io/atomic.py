"""Writing a file atomically: under a temporary name beside it, renamed into place when complete.

An error, a cancel or Ctrl+C while writing never leaves a partial file under the real name,
and an existing file is replaced only when the caller allows it. The temporary file is
created with ``open(..., "x")`` rather than ``tempfile.mkstemp``, so it has the user's usual
permissions (mkstemp's are owner-only), which it keeps when renamed into place.
Light module: standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import ExportError

# What to do about the OS errors a user can meet when saving, by errno.
_ADVICE = {
    "EACCES": "you may not write in {folder}: choose another folder",
    "EPERM": "you may not write in {folder}: choose another folder",
    "EROFS": "the folder is read-only: choose another folder",
    "ENOSPC": "the disk is full: free some space or choose another disk",
    "EDQUOT": "your disk quota is used up: free some space or choose another disk",
    "ENOENT": "the folder {folder} does not exist (any more): choose an existing folder",
    "ENAMETOOLONG": "the name is too long: choose a shorter one",
    "EISDIR": "a folder has that name: choose another name",
    "EEXIST": "a file has that name: choose another name or allow replacing it",
    "EIO": "the disk reported an input/output error: check it or choose another disk",
}
_ADVICE_BY_ERRNO = {
    getattr(errno, name): text for name, text in _ADVICE.items() if hasattr(errno, name)
}


def write_error_reason(exc: OSError, folder: str | Path) -> str | None:
    """'<the OS reason>; <what to do>' for an OSError a user can fix when saving, else None."""
    advice = _ADVICE_BY_ERRNO.get(exc.errno)
    if advice is None:
        return None
    return f"{exc.strerror or exc}; {advice.format(folder=folder)}"


def write_error_message(destination: str | Path, exc: OSError) -> str:
    """'Could not write <file>: <the OS reason>; <what to do>.' for an OSError while saving."""
    destination = Path(destination)
    reason = write_error_reason(exc, destination.parent)
    if reason is None:
        reason = exc.strerror or str(exc) or type(exc).__name__
    return f"Could not write {destination}: {reason}."


def _create_partial(destination: Path) -> Path:
    """Create an empty, uniquely named hidden file beside destination and return its name.

    It ends with destination's suffix, for writers that choose the format by the name
    (Keras wants ``.keras``).
    """
    for _attempt in range(100):
        name = f".{destination.name}.{secrets.token_hex(4)}.part{destination.suffix}"
        partial = destination.with_name(name)
        try:
            with open(partial, "x"):
                return partial
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "Cannot create a temporary file", str(destination))


def _place(partial: Path, destination: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(partial, destination)
        return
    try:
        os.link(partial, destination)  # unlike a rename, fails if destination exists
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links (FAT, some network shares)
        if destination.exists():
            raise FileExistsError(
                errno.EEXIST, os.strerror(errno.EEXIST), str(destination)
            ) from None
        os.replace(partial, destination)


@contextlib.contextmanager
def atomic_path(
    destination: str | Path,
    overwrite: bool = True,
    error: Callable[[str], Exception] | None = ExportError,
) -> Iterator[Path]:
    """Yield a new empty file beside destination to write; it becomes destination on success.

    On any exception (or cancel) inside the block the temporary file is removed and
    destination is left as it was. An OSError (creating, writing or renaming) is raised as
    ``error(message)``, the message naming the file, the OS reason and what to do; pass
    ``error=None`` to get the OSError itself. Other exceptions pass through unchanged.
    With ``overwrite=False`` an existing destination is an error and is never replaced.
    """
    destination = Path(destination)
    try:
        if not overwrite and destination.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(destination))
        partial = _create_partial(destination)
    except OSError as exc:
        if error is None:
            raise
        raise error(write_error_message(destination, exc)) from exc
    try:
        yield partial
        _place(partial, destination, overwrite)
    except OSError as exc:
        if error is None:
            raise
        raise error(write_error_message(destination, exc)) from exc
    finally:
        with contextlib.suppress(OSError):  # gone already once renamed into place
            os.unlink(partial)
