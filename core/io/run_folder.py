"""The unfinished part of a feature extraction, kept on disk so a run can be resumed.

While ``convlens extract`` works, finished rows go to numbered shard files in a hidden
folder beside the destination (``.features.npy.convlens-run/``), each written under a
temporary name, synced and renamed, so a Ctrl+C, a crash or a power cut loses at most the
shard being written. ``run.json`` there holds the settings of the run; a resumed run must
ask for the same ones. When every image is done the shards are streamed into the real file
(core.io.writers) and the folder is removed. Light module: numpy only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.io.atomic import atomic_path
from core.io.writers import Chunk, Layout

_SETTINGS = "run.json"
_VERSION = 1


class RunFolder:
    """The shards of one destination's unfinished run."""

    def __init__(self, destination: str | Path) -> None:
        self.destination = Path(destination)
        self.folder = self.destination.with_name(f".{self.destination.name}.convlens-run")

    def exists(self) -> bool:
        return (self.folder / _SETTINGS).is_file()

    def start(self, settings: dict) -> None:
        """A new, empty run with these settings (an earlier unfinished one is discarded)."""
        self.remove()
        try:
            self.folder.mkdir()
            with atomic_path(self.folder / _SETTINGS) as partial:
                partial.write_text(json.dumps({"version": _VERSION, **settings}, indent=1))
        except ExportError:
            self.remove()
            raise
        except OSError as exc:
            raise ExportError(f"Could not create {self.folder}: {exc.strerror or exc}.") from exc

    def settings(self) -> dict:
        settings = json.loads((self.folder / _SETTINGS).read_text())
        settings.pop("version", None)
        return settings

    def check(self, settings: dict) -> None:
        """ExportError naming what differs unless the unfinished run was asked with settings."""
        recorded = self.settings()
        changed = [
            key
            for key in sorted(settings.keys() | recorded.keys())
            if recorded.get(key) != settings.get(key)
        ]
        if changed:
            what = "; ".join(
                f"{k}: {recorded.get(k)!r} then, {settings.get(k)!r} now" for k in changed
            )
            raise ExportError(
                f"The unfinished run of {self.destination.name} was started with other "
                f"settings ({what}). Resume it with the same options, or start again with "
                "--restart."
            )

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- shards --------------------------------------------------------------------------

    def shards(self) -> list[Path]:
        """The complete shard files in order; a damaged last one (a power cut) is dropped."""
        if not self.folder.is_dir():
            return []
        names = sorted(
            n for n in os.listdir(self.folder) if n.startswith("shard-") and n.endswith(".npz")
        )
        shards = []
        for name in names:
            path = self.folder / name
            try:
                with np.load(path, allow_pickle=False) as data:
                    data["errors"]  # noqa: B018 - reads the zip directory: damage shows here
            except Exception:
                for later in names[names.index(name) :]:
                    with contextlib.suppress(OSError):
                        os.unlink(self.folder / later)
                break
            shards.append(path)
        return shards

    def add(self, paths: list[str], errors: list[str], vectors: np.ndarray) -> None:
        """One more shard of consecutive rows, on disk (synced) before this returns."""
        index = len([n for n in os.listdir(self.folder) if n.startswith("shard-")])
        target = self.folder / f"shard-{index:08d}.npz"
        with atomic_path(target) as partial, open(partial, "wb") as f:
            np.savez(
                f,
                paths=np.array(paths, dtype=str),
                errors=np.array(errors, dtype=str),
                vectors=np.ascontiguousarray(vectors, dtype=np.float32),
            )
            f.flush()
            os.fsync(f.fileno())

    def done(self) -> int:
        """How many images the shards hold (read or failed)."""
        return sum(len(chunk.paths) for chunk in self.chunks(vectors=False))

    def chunks(self, vectors: bool = True) -> Iterator[Chunk]:
        for shard in self.shards():
            with np.load(shard, allow_pickle=False) as data:
                yield Chunk(
                    data["paths"].tolist(),
                    data["errors"].tolist(),
                    data["vectors"] if vectors else np.zeros((0,), np.float32),
                )

    def skip_done(self, listing: Iterable) -> Iterator:
        """listing without the images the shards hold; ExportError if they are not its first
        images (the folder changed since the run was interrupted)."""
        listing = iter(listing)
        for chunk in self.chunks(vectors=False):
            for recorded in chunk.paths:
                now = next(listing, None)
                if now is None or str(now) != recorded:
                    raise ExportError(
                        f"The images changed since the unfinished run of "
                        f"{self.destination.name} ({recorded} was next, now "
                        f"{now if now is not None else 'nothing'}). Start again with --restart."
                    )
        return listing

    def layout(self, metadata: dict) -> Layout:
        """The totals the writers need, from one pass over the shards' paths and errors."""
        rows = failed = longest = 0
        shape: tuple[int, ...] = ()
        for shard in self.shards():
            with np.load(shard, allow_pickle=False) as data:
                errors = data["errors"]
                bad = int(np.count_nonzero(errors != ""))
                failed += bad
                rows += len(errors) - bad
                longest = max(longest, data["paths"].dtype.itemsize // 4)
                if len(errors) > bad:
                    # The shape of one vector, from the header alone (no data read).
                    shape = _member_shape(data, "vectors")[1:]
        return Layout(rows, failed, shape, max(longest, 1), metadata)


def _member_shape(data, name: str) -> tuple[int, ...]:
    fmt = np.lib.format
    with data.zip.open(f"{name}.npy") as f:
        version = fmt.read_magic(f)
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, _ = read(f)
    return tuple(shape)


class ShardRows:
    """A finished run as the Rows source of core.io.writers."""

    def __init__(self, run: RunFolder, metadata: dict) -> None:
        self.run = run
        self.layout = run.layout(metadata)

    def chunks(self, vectors: bool = True) -> Iterator[Chunk]:
        empty = np.zeros((0, *self.layout.shape), np.float32)
        for chunk in self.run.chunks(vectors):
            # A shard of unreadable images only has no vector shape of its own.
            yield chunk if len(chunk.vectors) else Chunk(chunk.paths, chunk.errors, empty)
