"""How many images go in each classification job of a long batch.

A job holds the worker until it ends, so a layer's activations asked for meanwhile (higher
priority) wait behind at most one job: jobs should be short. But each job decodes its own
images before the first forward pass, so small jobs leave the model idle while they decode:
with 8 images per job the window classified 10,000 photos at 85/s against the command
line's 153/s. Jobs are therefore sized to take about JOB_SECONDS at the rate the previous
jobs went, between the smallest and largest size.
"""

from __future__ import annotations

import time

SMALLEST, LARGEST = 8, 64
JOB_SECONDS = 0.3
# Images per forward pass within a job: the next ones decode meanwhile, and ONNX Runtime's
# memory arena stays at a 16-image batch's size (a 64-image batch added 400 MB).
FORWARD_BATCH = 16
# Jobs handed to the worker at a time; the rest wait in the session. Enough to keep the
# worker busy, few enough that 10,000 photos do not mean 1,250 jobs queued at once.
CHUNKS_IN_FLIGHT = 4


class ChunkSizes:
    def __init__(self) -> None:
        self.size = SMALLEST
        self._last_end: float | None = None

    def batch_started(self) -> None:
        """A new batch: start small, so its first results show quickly."""
        self.size, self._last_end = SMALLEST, time.monotonic()

    def chunk_ended(self, images: int) -> None:
        """A job of this many images ended; jobs run back to back, so the time since the
        previous one ended is this one's."""
        now = time.monotonic()
        if self._last_end is not None and images and now > self._last_end:
            rate = images / (now - self._last_end)
            self.size = max(SMALLEST, min(LARGEST, int(rate * JOB_SECONDS)))
        self._last_end = now
