"""ImageNet weights: found in the Keras cache, downloaded with progress and cancel, or a clear error.

Downloads come from an HTTP server on 127.0.0.1 run by the tests; nothing leaves the machine.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import os
import stat
import threading
import urllib.request

import numpy as np
import pytest

from core.errors import Cancelled, WeightsUnavailableError
from core.models import weights
from core.models.loading import load_model
from core.models.weights import resolve_weights_file
from core.models.zoo import get_spec
from core.progress import CancelToken
from tests.model_factory import SMALL, make_distinctive, mobilenet_v2, save_legacy_weights

KERAS_HOST = "https://storage.googleapis.com"
PAYLOAD = np.random.default_rng(0).integers(0, 256, 10_000, dtype=np.uint8).tobytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}  # path -> body
    short: set[str] = set()  # paths whose connection closes half-way
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.requests.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path in self.short:
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """A threaded HTTP server on a free local port, serving _Handler.files."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.files = {"/weights.h5": PAYLOAD, "/short.h5": PAYLOAD}
    _Handler.short = {"/short.h5"}
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def small_chunks(monkeypatch):
    """Read downloads in 1 kB chunks, so a 10 kB file reports progress ten times."""
    monkeypatch.setattr(weights, "_CHUNK", 1024)


@pytest.fixture(scope="module")
def mobilenet_224():
    """MobileNetV2 with its top at 224 px (random weights) and its output on some inputs."""
    model = make_distinctive(mobilenet_v2(include_top=True))
    x = np.random.default_rng(1).uniform(-1, 1, (2, 224, 224, 3)).astype(np.float32)
    expected = np.asarray(model(x))
    assert expected.max() > 2 * expected.min()  # far from uniform
    return model, x, expected


def _cache_listing(keras_home):
    return sorted(p.name for p in keras_home.iterdir()) if keras_home.exists() else []


# --- the cache ------------------------------------------------------------------------


def test_weights_in_the_keras_cache_are_used(keras_home, mobilenet_224):
    source, x, expected = mobilenet_224
    spec = get_spec("MobileNetV2")
    save_legacy_weights(source, keras_home / spec.weights_file)

    loaded = load_model("mobilenetv2")

    assert loaded.weights == "imagenet"
    np.testing.assert_allclose(np.asarray(loaded.model(x)), expected, rtol=1e-5, atol=1e-6)
    fresh = mobilenet_v2(include_top=True)  # other random weights: the cache really was read
    assert not np.allclose(np.asarray(fresh(x)), expected, atol=1e-3)


def test_a_cached_file_is_not_downloaded_again(keras_home, server):
    keras_home.mkdir(parents=True)
    (keras_home / "weights.h5").write_bytes(b"cached")
    path = resolve_weights_file("weights.h5", f"{server}/missing.h5")
    assert path.read_bytes() == b"cached"


# --- offline --------------------------------------------------------------------------


def test_offline_error_names_the_file_the_url_and_the_folder(keras_home):
    with pytest.raises(WeightsUnavailableError) as caught:
        load_model("MobileNetV2", include_top=False, input_shape=(SMALL, SMALL, 3))
    error = caught.value
    # Keras asks for the file of this input size, not the 224 px default.
    filename = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    url = f"{KERAS_HOST}/tensorflow/keras-applications/mobilenet_v2/{filename}"
    assert (error.filename, error.url, error.folder) == (filename, url, keras_home)
    message = str(error)
    assert filename in message and url in message and str(keras_home) in message
    assert "no network" in message
    assert _cache_listing(keras_home) == []


# --- downloads ------------------------------------------------------------------------


def test_download_writes_the_file_and_reports_progress(keras_home, server, small_chunks):
    reports = []
    path = resolve_weights_file(
        "weights.h5",
        f"{server}/weights.h5",
        progress=lambda done, total, message: reports.append((done, total, message)),
        file_hash=hashlib.md5(PAYLOAD).hexdigest(),
    )
    assert path == keras_home / "weights.h5"
    assert path.read_bytes() == PAYLOAD
    assert reports[-1][:2] == (len(PAYLOAD), len(PAYLOAD))
    assert len(reports) >= 10
    assert [done for done, _, _ in reports] == sorted(done for done, _, _ in reports)
    assert "weights.h5" in reports[-1][2]
    assert _cache_listing(keras_home) == ["weights.h5"]


def test_a_downloaded_file_gets_the_usual_permissions(keras_home, server):
    old = os.umask(0o022)
    try:
        path = resolve_weights_file("weights.h5", f"{server}/weights.h5")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not the 0o600 of a temporary file


def test_a_read_only_cache_folder_says_so(keras_home, server, monkeypatch):
    # Tests run as root, which a chmod'ed folder would not stop: fail the rename instead.
    def read_only(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(WeightsUnavailableError) as caught:
        resolve_weights_file("weights.h5", f"{server}/weights.h5")
    assert "saving it failed: Read-only file system; the folder is read-only" in str(caught.value)
    assert _cache_listing(keras_home) == []


def test_sha256_checksums_are_checked_too(keras_home, server):
    path = resolve_weights_file(
        "weights.h5", f"{server}/weights.h5", file_hash=hashlib.sha256(PAYLOAD).hexdigest()
    )
    assert path.read_bytes() == PAYLOAD


def test_cancel_mid_download_leaves_no_partial_file(keras_home, server, small_chunks):
    token = CancelToken()
    reports = []

    def cancel_after_two_chunks(done, total, message):
        reports.append(done)
        if done >= 2048:
            token.cancel()

    with pytest.raises(Cancelled):
        resolve_weights_file(
            "weights.h5", f"{server}/weights.h5", progress=cancel_after_two_chunks, cancel=token
        )
    assert 0 < reports[-1] < len(PAYLOAD)
    assert _cache_listing(keras_home) == []


def test_connection_closed_early_leaves_no_partial_file(keras_home, server, small_chunks):
    with pytest.raises(WeightsUnavailableError, match="connection closed") as caught:
        resolve_weights_file("short.h5", f"{server}/short.h5")  # no checksum, like MobileNet
    assert caught.value.filename == "short.h5"
    assert _cache_listing(keras_home) == []


def test_checksum_mismatch_leaves_no_file(keras_home, server):
    with pytest.raises(WeightsUnavailableError, match="checksum"):
        resolve_weights_file("weights.h5", f"{server}/weights.h5", file_hash="0" * 32)
    assert _cache_listing(keras_home) == []


def test_missing_file_on_the_server_says_what_the_server_answered(keras_home, server):
    with pytest.raises(WeightsUnavailableError, match="404"):
        resolve_weights_file("nothing.h5", f"{server}/nothing.h5")
    assert _cache_listing(keras_home) == []


def test_load_model_downloads_what_keras_asks_for(keras_home, server, monkeypatch):
    """End to end: Keras names the file and its URL; we fetch it (here from the local server)."""
    source = make_distinctive(mobilenet_v2(include_top=False, size=SMALL))
    filename = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    served = save_legacy_weights(source, keras_home.parent / "served" / filename)
    url_path = f"/tensorflow/keras-applications/mobilenet_v2/{filename}"
    monkeypatch.setitem(_Handler.files, url_path, served.read_bytes())
    real_urlopen = urllib.request.urlopen

    def to_local_server(url, *args, **kwargs):
        return real_urlopen(url.replace(KERAS_HOST, server), *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", to_local_server)
    reports = []

    loaded = load_model(
        "mobilenetv2",
        include_top=False,
        input_shape=(SMALL, SMALL, 3),
        progress=lambda done, total, message: reports.append((done, total)),
    )

    assert (keras_home / filename).read_bytes() == served.read_bytes()
    assert (len(served.read_bytes()),) * 2 in reports
    x = np.random.default_rng(2).uniform(-1, 1, (1, SMALL, SMALL, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.model(x), source(x), rtol=1e-5, atol=1e-6)


# --- the user's own file --------------------------------------------------------------


def test_a_users_weights_file_is_used_as_is(keras_home, tmp_path):
    source = make_distinctive(mobilenet_v2(include_top=False, size=SMALL))
    mine = save_legacy_weights(source, tmp_path / "my weights" / "fine-tuned.h5")

    loaded = load_model(
        "MobileNetV2", include_top=False, input_shape=(SMALL, SMALL, 3), weights=str(mine)
    )

    assert loaded.weights == str(mine)
    x = np.random.default_rng(3).uniform(-1, 1, (1, SMALL, SMALL, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.model(x), source(x), rtol=1e-5, atol=1e-6)
    assert _cache_listing(keras_home) == []  # neither copied into nor looked up in the cache
