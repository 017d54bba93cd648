"""How a model is built and fed, beyond its name: input size and resize policy. Light module.

``--input-size`` (command line) and the window's "Input size…" build a zoo model without
its ImageNet classifier at that size, as the classic recipe does
(``VGG16(include_top=False, input_shape=(300, 300, 3))``). The resize policy says how photos
are fitted to the input (core.io.images.RESIZE_MODES); a model trained by ConvLens keeps the
policy it was trained with, whatever is asked.
"""

from __future__ import annotations

import re

from core.io.images import RESIZE_MODES
from core.models.loaded import LoadedModel
from core.models.source import model_source

MIN_INPUT_SIDE = 32  # the smallest input every zoo architecture accepts


def parse_input_size(text: str | int | tuple) -> tuple[int, int]:
    """(height, width) from "300", "300,400" or "300x400" (or an int or a pair);
    ValueError with a message that says what to write."""
    if isinstance(text, int):
        parts = [text, text]
    elif isinstance(text, tuple | list):
        parts = list(text)
    else:
        pieces = re.split(r"\s*[,x×]\s*", str(text).strip().lower())
        try:
            parts = [int(p) for p in pieces]
        except ValueError:
            parts = []
        if len(parts) == 1:
            parts *= 2
    if len(parts) != 2 or min(parts) < MIN_INPUT_SIDE:
        raise ValueError(
            f"input size {text!r}: give one side (300) or height,width (300,400), "
            f"each at least {MIN_INPUT_SIDE} pixels"
        )
    return int(parts[0]), int(parts[1])


def build_options(name_or_path: str, input_size: tuple[int, int] | None) -> dict:
    """core.models.loading.load_model keywords for an input size: a zoo model is built
    headless at that size; a model file keeps its own (ValueError says so)."""
    if input_size is None:
        return {}
    if model_source(name_or_path).is_file:
        raise ValueError(
            "a model file keeps the input size it was saved with; --input-size applies to "
            "zoo models"
        )
    return {"include_top": False, "input_shape": (*input_size, 3)}


def apply_resize(loaded: LoadedModel, resize: str | None) -> str | None:
    """Fit photos as resize says, unless the model keeps its own policy; returns a warning
    when the request is overruled."""
    if resize is None or resize == loaded.resize:
        return None
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {', '.join(RESIZE_MODES)}, not {resize!r}")
    if loaded.resize_fixed:
        return (
            f"{loaded.name} was trained on photos fitted by {loaded.resize!r} and keeps that; "
            f"{resize!r} does not apply to it"
        )
    loaded.resize = resize
    return None
