"""A Qt-free protocol for progress reporting and cooperative cancellation.

The same long-running core function serves the GUI worker, the CLI progress bar and the
tests: it takes a ``progress(done, total, message)`` callable and a ``CancelToken``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.errors import Cancelled

ProgressCallback = Callable[[int, int, str], None]


def no_progress(done: int, total: int, message: str = "") -> None:
    """A progress callback that ignores every report."""


class CancelToken:
    """Set once by whoever wants the work stopped; checked by the work between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


NEVER_CANCELLED = CancelToken()


class EitherToken(CancelToken):
    """Cancelled as soon as any of its tokens is.

    A training run listens to two: the user's Stop, which ends the run and keeps its best
    weights (the run still returns its result), and the job's own token, which the window
    sets when it closes (the result is dropped).
    """

    def __init__(self, *tokens: CancelToken) -> None:
        super().__init__()
        self._tokens = tokens

    def cancel(self) -> None:
        for token in self._tokens:
            token.cancel()

    @property
    def cancelled(self) -> bool:
        return any(token.cancelled for token in self._tokens)

    def raise_if_cancelled(self) -> None:
        for token in self._tokens:
            token.raise_if_cancelled()
