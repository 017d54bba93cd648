"""The status line after a batch of classifications."""

from __future__ import annotations


def classified_summary(done: int, failed: int, cancelled: int = 0) -> str:
    """E.g. "Classified 4 images, 1 could not be read".

    done counts the images that came back (read or not); cancelled the ones never reached.
    """
    read = done - failed
    if cancelled:
        return f"Classification cancelled: {read} of {images(done + cancelled)} classified"
    if read == 0 and failed:
        return f"None of the {images(failed)} could be read"
    note = f", {failed} could not be read" if failed else ""
    return f"Classified {images(read)}{note}"


def images(count: int) -> str:
    return f"{count} image" if count == 1 else f"{count} images"
