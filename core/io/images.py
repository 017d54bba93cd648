"""Reading image files as RGB arrays and fitting them to a model's input (listing: core.io.listing).

Light module: stdlib, numpy and Pillow only, so the GUI can import it on its main thread.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import warnings
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent import futures
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ImageLoadError
from core.io.listing import (  # noqa: F401  (their old home)
    IMAGE_SUFFIXES,
    count_images,
    find_images,
    iter_images,
)
from core.progress import NEVER_CANCELLED, CancelToken

# How a photo is fitted to a network's input. "crop": scale the shorter side, keep the
# centre (the ImageNet evaluation recipe, each model's crop fraction). "squash": stretch the
# whole photo, exactly as keras.utils.load_img(path, target_size=...) does.
RESIZE_MODES = ("crop", "squash")
DEFAULT_RESIZE = "crop"

# Pillow format names we accept. MPO is what Pillow calls multi-picture JPEGs from cameras.
_FORMATS = frozenset({"JPEG", "MPO", "PNG", "BMP", "DIB", "GIF", "TIFF", "WEBP", "HEIF", "AVIF"})
_FORMATS_TEXT = "JPEG, PNG, BMP, GIF, TIFF, WebP, HEIC/HEIF and AVIF"
# Leading bytes of the supported formats: a file that starts like one but cannot be
# identified is a damaged image, not "not an image".
_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG": "PNG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"RIFF": "WebP",
}
# HEIF and AVIF files are ISO media files: a box size, then "ftyp" and the brand.
_FTYP_BRANDS = {b"avif": "AVIF", b"avis": "AVIF"} | dict.fromkeys(
    (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"), "HEIF"
)
# The standard ImageNet evaluation crop (resize to 256, centre-crop 224). Each model's spec
# (core.models.zoo) says which fraction it was evaluated with; this is the usual one.
DEFAULT_CROP_FRACTION = 0.875
# catch_warnings() swaps process-wide state; our loader threads take turns on it. Only the
# header parse runs under the lock, so decoding still happens in parallel.
_OPEN_LOCK = threading.Lock()

# What iter_loaded yields: (path as given, fitted image or None, error message or None).
Loaded = tuple[str | Path, np.ndarray | None, str | None]


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as an upright uint8 (H, W, 3) RGB array, transparency over white."""
    return np.array(_read_rgb(Path(path)))


def load_fitted(
    path: str | Path,
    size: tuple[int, int],
    mode: str = DEFAULT_RESIZE,
    crop_fraction: float = DEFAULT_CROP_FRACTION,
) -> np.ndarray:
    """What the network sees of an image file: ``fit_to_input(load_image(path), size, mode)``,
    made faster. A JPEG much larger than needed is decoded at 1/2, 1/4 or 1/8 scale
    (libjpeg's DCT scaling, Pillow's ``draft``), never below what the crop needs, and the
    picture stays a Pillow image until it is network-sized (no full-size array copies).
    Pixels may differ from the full-resolution path by about one grey level.
    """
    _check_resize(size, mode)
    # Crop mode keeps 87.5% of the shorter side: a shorter side of min_side pixels still
    # fills the input without upsampling, whatever the EXIF orientation does to width and
    # height. Squash decodes in full, as keras.utils.load_img does, so its pixels are the same.
    min_side = math.ceil(max(size) / crop_fraction) if mode == "crop" else None
    return np.array(_fit(_read_rgb(Path(path), min_side), size, mode, crop_fraction))


def _read_rgb(path: Path, min_side: int | None = None) -> Image.Image:
    """The decoding behind load_image, as an upright RGB Pillow image."""
    try:
        if path.is_dir():
            raise ImageLoadError(path, "this is a folder, not an image file")
        if path.stat().st_size == 0:
            raise ImageLoadError(path, "the file is empty (0 bytes)")
        with _open(path) as img:
            if img.format not in _FORMATS:
                raise ImageLoadError(
                    path,
                    f"{img.format} ({img.format_description}) files are not supported; "
                    f"ConvLens reads {_FORMATS_TEXT} images",
                )
            if Image.MAX_IMAGE_PIXELS and img.width * img.height > Image.MAX_IMAGE_PIXELS:
                raise _too_large(path, img.width * img.height)  # some formats check only on load
            if min_side and img.format in ("JPEG", "MPO"):
                img.draft(None, (min_side, min_side))  # only ever shrinks by 2, 4 or 8
            img.load()  # Image.open only reads the header; decode now so damage shows here
            return _to_rgb(_upright(img))
    except ImageLoadError:
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise ImageLoadError(path, "the file does not exist") from None
    except PermissionError:
        raise ImageLoadError(
            path, "permission denied: you are not allowed to read this file"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        match = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow knows the size; we don't
        raise _too_large(path, int(match.group(1)) if match else None) from None
    except UnidentifiedImageError:
        kind = _signature(path)
        reason = (
            f"the file looks like {'an' if kind[0] in 'AEIOU' else 'a'} {kind} image "
            "but is truncated or damaged"
            if kind
            else f"not an image file (ConvLens reads {_FORMATS_TEXT} images)"
        )
        raise ImageLoadError(path, reason) from None
    except Exception as exc:
        # Damaged files make Pillow raise almost anything (OSError, SyntaxError, EOFError,
        # ValueError, struct.error, MemoryError...). Callers get one error type; the cause
        # stays chained for the "Details" view.
        raise ImageLoadError(
            path, "the file is truncated or damaged and cannot be decoded"
        ) from exc


def _open(path: Path) -> Image.Image:
    """Image.open, with Pillow's decompression-bomb warning turned into an error."""
    with _OPEN_LOCK, warnings.catch_warnings():
        _register_heif()
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(path)


_heif_registered = False


def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF (iPhone photos) on the first open, not at import: importing
    pillow-heif costs about 0.1 s, which the window's start-up need not pay. Under _OPEN_LOCK."""
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def _too_large(path: Path, pixels: int | None) -> ImageLoadError:
    size = f"{_megapixels(pixels)} megapixels, " if pixels else ""
    limit = _megapixels(Image.MAX_IMAGE_PIXELS or 0)
    return ImageLoadError(
        path,
        f"the image is too large to open safely ({size}limit {limit} megapixels); "
        "it may be corrupt or a decompression bomb",
    )


def _megapixels(pixels: int) -> str:
    mp = pixels / 1e6
    return f"{mp:.1f}" if mp >= 1 else f"{mp:.2g}"


def _signature(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if head.startswith(b"RIFF") and head[8:12] != b"WEBP":
        return None
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12])
    return next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, as cameras and phones expect viewers to."""
    try:
        ImageOps.exif_transpose(img, in_place=True)  # in place: no copy of an upright photo
        return img
    except Exception:
        # Malformed EXIF is common in the wild; a sideways photo beats no photo.
        return img


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        gray = _scale_to_uint8(np.asarray(img))
        return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2))
    bands = img.getbands()
    if "A" in bands or "a" in bands or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode == "RGB":
        return img  # convert() would copy it
    # Pillow's convert handles 1-bit, L, P, CMYK (incl. Adobe's inverted JPEGs) and YCbCr.
    return img.convert("RGB")


def _scale_to_uint8(values: np.ndarray) -> np.ndarray:
    """Map 16-bit, 32-bit integer or float samples to 0..255 (convert("L") would clip)."""
    x = np.nan_to_num(values.astype(np.float32))
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    if values.dtype.kind == "f" and lo >= 0 and hi <= 1:
        lo, hi = 0.0, 1.0
    elif values.dtype.kind in "iu" and lo >= 0 and hi <= 65535:
        lo, hi = 0.0, 65535.0  # 16-bit data; Pillow may open 16-bit PNG/TIFF as mode "I"
    scaled = (x - lo) * (255.0 / max(hi - lo, 1e-12))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def fit_to_input(
    image: np.ndarray,
    size: tuple[int, int],
    mode: str = DEFAULT_RESIZE,
    crop_fraction: float = DEFAULT_CROP_FRACTION,
) -> np.ndarray:
    """Resize a uint8 RGB image to size (height, width): centre "crop" or "squash" to fit."""
    _check_resize(size, mode)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}.")
    return np.array(_fit(Image.fromarray(image), size, mode, crop_fraction))


def fit_box(
    source_size: tuple[int, int],
    size: tuple[int, int],
    mode: str = DEFAULT_RESIZE,
    crop_fraction: float = DEFAULT_CROP_FRACTION,
) -> tuple[float, float, float, float]:
    """The part of a (width, height) picture that fitting it to size (height, width) keeps,
    as (left, top, right, bottom) in its pixels: the centre crop, or all of it when squashed."""
    src_w, src_h = source_size
    if mode != "crop":
        return (0.0, 0.0, float(src_w), float(src_h))
    height, width = size
    # Scale so the crop takes crop_fraction of the shorter side, then take the centre.
    scale = max(height / src_h, width / src_w) / crop_fraction
    crop_h, crop_w = height / scale, width / scale
    top, left = (src_h - crop_h) / 2, (src_w - crop_w) / 2
    return (left, top, left + crop_w, top + crop_h)


def _fit(pil: Image.Image, size: tuple[int, int], mode: str, crop_fraction: float) -> Image.Image:
    height, width = size
    if mode == "squash":
        # The classic Keras recipe: keras.utils.load_img(path, target_size=size) stretches
        # the whole picture with nearest-neighbour sampling (its default interpolation).
        return pil.resize((width, height), Image.Resampling.NEAREST)
    # Resizing just the box is the same as resize-then-crop, without resizing pixels we drop.
    box = fit_box(pil.size, size, mode, crop_fraction)
    return pil.resize((width, height), Image.Resampling.BILINEAR, box=box)


def _check_resize(size: tuple[int, int], mode: str) -> None:
    if mode not in RESIZE_MODES:
        raise ValueError(f"Unknown resize mode {mode!r}; choose one of {', '.join(RESIZE_MODES)}.")
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"Size must be (height, width) with positive sides, got {size!r}.")


def load_thumbnail(path: str | Path, max_side: int = 96) -> np.ndarray:
    """A small upright RGB picture of an image file, with every check load_image makes.

    Decoded at reduced scale where the format allows (JPEG), so a folder of large photos
    gets its thumbnails quickly.
    """
    pil = _read_rgb(Path(path), 2 * max_side)
    pil.thumbnail((max_side, max_side))
    return np.asarray(pil)


def to_thumbnail(image: np.ndarray, max_side: int = 128) -> np.ndarray:
    """Shrink an image so its longer side is at most max_side, keeping its aspect ratio."""
    pil = Image.fromarray(image)
    pil.thumbnail((max_side, max_side))
    return np.array(pil)


def iter_loaded(
    paths: Iterable[str | Path],
    size: tuple[int, int],
    mode: str = DEFAULT_RESIZE,
    workers: int = 2,
    prefetch: int = 8,
    cancel: CancelToken | None = None,
    crop_fraction: float = DEFAULT_CROP_FRACTION,
) -> Generator[Loaded, None, None]:
    """Yield (path, fitted image or None, error message or None) in input order.

    Up to `prefetch` images are decoded ahead of the consumer on `workers` threads, so
    decoding overlaps inference. Raises core.errors.Cancelled once `cancel` is set.
    """
    _check_resize(size, mode)
    if workers < 1 or prefetch < 1:
        raise ValueError("workers and prefetch must be at least 1.")
    fit = (size, mode, crop_fraction)
    return _iter_loaded(iter(paths), fit, workers, prefetch, cancel or NEVER_CANCELLED)


def _iter_loaded(
    source: Iterator[str | Path],
    fit: tuple[tuple[int, int], str, float],  # (size, mode, crop fraction) for load_fitted
    workers: int,
    prefetch: int,
    cancel: CancelToken,
) -> Generator[Loaded, None, None]:
    pool = futures.ThreadPoolExecutor(workers, thread_name_prefix="convlens-images")
    pending: deque[tuple[str | Path, futures.Future]] = deque()

    def submit(count: int) -> None:
        for path in itertools.islice(source, count):
            pending.append((path, pool.submit(_load_fitted, path, fit, cancel)))

    try:
        submit(prefetch)
        while pending:
            path, future = pending.popleft()
            while not future.done():
                cancel.raise_if_cancelled()
                # A short timeout so a cancel is noticed even during a slow decode.
                futures.wait([future], timeout=0.05)
            cancel.raise_if_cancelled()
            submit(1)
            yield (path, *future.result())
    finally:
        # Also runs on cancel or when the consumer stops early: drop queued work, wait for
        # the (at most `workers`) decodes in progress, leave no threads behind.
        pool.shutdown(wait=True, cancel_futures=True)


def _load_fitted(
    path: str | Path, fit: tuple, cancel: CancelToken
) -> tuple[np.ndarray | None, str | None]:
    if cancel.cancelled:
        return None, None  # the consumer raises Cancelled; don't spend time decoding
    try:
        return load_fitted(path, *fit), None
    except ImageLoadError as exc:
        return None, str(exc)
