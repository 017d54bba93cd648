"""Importing TensorFlow without its start-up chatter on the user's terminal.

TensorFlow's C++ runtime prints half a dozen INFO/ERROR lines while it loads and probes
for CUDA (even on machines without a GPU). They are written to file descriptor 2 before
TF_CPP_MIN_LOG_LEVEL is honoured, so the only way to hide them is to point stderr
elsewhere for the duration. If the import fails, what was printed is shown after all.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def stderr_captured():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield sink
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras, and initialise TF's devices, with native logging hidden."""
    if "keras" in sys.modules and "tensorflow" in sys.modules:
        return
    if os.environ.get("CONVLENS_TF_VERBOSE"):
        import keras  # noqa: F401

        return
    with stderr_captured():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe, which logs an error without a GPU
