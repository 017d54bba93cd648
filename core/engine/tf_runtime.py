"""Importing TensorFlow quietly, and without freezing the window while it loads.

TensorFlow's C++ runtime prints half a dozen INFO/ERROR lines while it loads and probes
for CUDA (even on machines without a GPU). They are written to file descriptor 2 before
TF_CPP_MIN_LOG_LEVEL is honoured, so the only way to hide them is to point stderr
elsewhere for the duration. If the import fails, what was printed is shown after all.

The window imports TensorFlow on a background thread (after its first ONNX answer, or while
the first model loads), and the import used to stop the GUI thread for up to 0.6 s at a time:
it holds the interpreter lock through three long stretches. Measured on this project's
2-core machine (a 2 ms heartbeat on the main thread while another thread imports):

- dlopen of libtensorflow_cc.so (1 GB), 0.35 s: Python's import and ctypes both keep the
  lock during dlopen, a foreign call through libc's own ``dlopen`` releases it;
- garbage collections of the growing heap, 40-150 ms each: off for the import's duration;
- ml_dtypes 0.7.0's module initialisation, 0.55 s (0.6.0: 4 ms): pinned below 0.7.

Together the longest stall went from 0.6 s to 31 ms, and the import from 3.6 s to 2.5 s.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path

# TensorFlow's native libraries, loaded before the import (Linux wheels' names).
NATIVE_LIBRARIES = ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2")
# One import at a time: stderr is the process's, and two threads redirecting it at once
# could leave it pointing at a deleted temporary file.
_IMPORTING = threading.Lock()


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
    with _IMPORTING:
        if "keras" in sys.modules and "tensorflow" in sys.modules:
            return
        _import_quietly()


def _import_quietly() -> None:
    if os.environ.get("CONVLENS_TF_VERBOSE"):
        _import_without_stalls()
        return
    with stderr_captured():
        _import_without_stalls()


def _import_without_stalls() -> None:
    _preload_native_libraries()
    collecting = gc.isenabled()
    gc.disable()
    try:
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe, which logs an error without a GPU
    finally:
        # The modules stay for the life of the process: later collections need not walk
        # them. (core.ops.load.settle_memory unfreezes, collects and freezes again.)
        gc.freeze()
        if collecting:
            gc.enable()


def _preload_native_libraries() -> None:
    """dlopen TensorFlow's large shared libraries with the interpreter lock released, so that
    the import, which needs them, finds them loaded. Best effort: any trouble leaves it to
    the import."""
    spec = importlib.util.find_spec("tensorflow")
    if sys.platform != "linux" or spec is None or not spec.submodule_search_locations:
        return
    try:
        dlopen = ctypes.CDLL(None).dlopen  # a CDLL call releases the GIL; ctypes.CDLL() does not
        dlopen.restype = ctypes.c_void_p
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    except (AttributeError, OSError):
        return
    folder = Path(spec.submodule_search_locations[0])
    for name in NATIVE_LIBRARIES:
        if (folder / name).is_file():
            dlopen(os.fsencode(folder / name), os.RTLD_NOW)
