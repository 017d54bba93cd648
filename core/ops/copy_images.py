"""Copy chosen images into a folder (the map's selection, for a new dataset or a bug report)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from core.errors import ExportError
from core.ops.base import OpContext, Request, operation


@dataclass(frozen=True)
class CopyImagesRequest(Request):
    paths: tuple[str, ...]
    folder: str

    needs_engine = False


@dataclass(frozen=True)
class CopyResult:
    copied: tuple[str, ...]  # the new files
    failed: tuple[tuple[str, str], ...]  # (source, reason)


@operation(CopyImagesRequest)
def copy_images(engine, request: CopyImagesRequest, ctx: OpContext) -> CopyResult:
    """Copies never replace a file: a name already taken gets " (2)", " (3)", … added."""
    folder = Path(request.folder)
    if not folder.is_dir():
        raise ExportError(f"The folder {folder} does not exist. Choose an existing folder.")
    copied, failed = [], []
    for done, source in enumerate(request.paths, start=1):
        ctx.cancel.raise_if_cancelled()
        target = _free_name(folder / Path(source).name)
        try:
            shutil.copy2(source, target)
            copied.append(str(target))
        except OSError as exc:
            failed.append((source, exc.strerror or str(exc)))
        ctx.progress(done, len(request.paths), f"Copied {done}/{len(request.paths)} images")
    return CopyResult(tuple(copied), tuple(failed))


def _free_name(path: Path) -> Path:
    number = 2
    while path.exists():
        stem = path.stem.rsplit(" (", 1)[0]
        path = path.with_name(f"{stem} ({number}){path.suffix}")
        number += 1
    return path
