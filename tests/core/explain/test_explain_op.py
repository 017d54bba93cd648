"""The explain and compare operations: what the window and the command line get back."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from core.engine.engine import Engine
from core.errors import Cancelled, ExplainError
from core.explain import ExplainOptions
from core.explain.targets import default_layer, map_layers
from core.io.images import fit_box
from core.models import loading
from core.models.layers import layer_tree
from core.models.metadata import write_metadata
from core.ops import OpContext, run_request
from core.ops.compare import CompareRequest
from core.ops.explain import ExplainRequest
from core.progress import CancelToken
from tests.core.explain.synthetic import CLASSES, SIZE
from tests.model_factory import tiny_cnn, transfer_model


@pytest.fixture(scope="module")
def scene_file(tmp_path_factory, test_scenes):
    """A scene padded to 96×80, so the network sees a centre crop of it."""
    image = np.full((80, 96, 3), 70, np.uint8)
    image[8:72, 16:80] = test_scenes.images[0]
    path = tmp_path_factory.mktemp("scenes") / "scene.png"
    Image.fromarray(image).save(path)
    return str(path)


def test_explains_the_top_class_by_default(trained_engine, scene_file):
    result = run_request(trained_engine, ExplainRequest(scene_file), OpContext())
    top = trained_engine.classify_paths([scene_file])
    assert result.label == next(top).predictions[0]
    assert result.method == "gradcam" and result.layer == "conv3" and result.score == "logit"
    assert result.heatmap.shape == (SIZE, SIZE) and result.raw.shape == (16, 16)
    assert result.network_input.shape == (SIZE, SIZE, 3)
    assert result.photo.shape == (80, 96, 3) and result.overlay.shape == (80, 96, 3)
    assert result.box == pytest.approx(fit_box((96, 80), *trained_engine.fit))
    left, top_edge = (int(v) for v in result.box[:2])
    # Outside the crop the photo is dimmed; inside the heatmap is blended in.
    assert result.overlay[0, 0].max() < result.photo[0, 0].max()
    assert not np.array_equal(result.overlay[40, 48], result.photo[40, 48])
    assert left > 0 and top_edge > 0


def test_explains_the_class_asked_for_with_its_probability(trained_engine, scene_file):
    ranked = next(trained_engine.classify_paths([scene_file], top=3)).predictions
    last = ranked[-1]
    result = run_request(trained_engine, ExplainRequest(scene_file, last.index), OpContext())
    assert result.label.index == last.index and result.label.label == CLASSES[last.index]
    assert result.label.probability == pytest.approx(last.probability, rel=1e-5)


def test_explanations_are_cached_per_image_class_method_and_layer(trained_engine, scene_file):
    ctx = OpContext()
    first = run_request(trained_engine, ExplainRequest(scene_file, 1), ctx)
    again = run_request(trained_engine, ExplainRequest(scene_file, 1, opacity=0.9), ctx)
    assert again.heatmap is first.heatmap  # not computed again
    assert again.opacity == 0.9 and not np.array_equal(again.overlay, first.overlay)
    other_class = run_request(trained_engine, ExplainRequest(scene_file, 2), ctx)
    other_layer = run_request(trained_engine, ExplainRequest(scene_file, 1, layer="conv2"), ctx)
    other_method = run_request(trained_engine, ExplainRequest(scene_file, 1, "gradcam++"), ctx)
    for other in (other_class, other_layer, other_method):
        assert other.heatmap is not first.heatmap
    assert other_layer.layer == "conv2" and other_layer.raw.shape == (32, 32)


@pytest.mark.parametrize(
    "request_args, message",
    [
        ({"layer": "gap"}, "not maps"),
        ({"layer": "no_such_layer"}, "no layer"),
        ({"method": "lime"}, "no method 'lime'; choose one of gradcam"),
        ({"class_index": 7}, "no class 7"),
        ({"options": ExplainOptions(batch_size=0)}, "batch size must be at least 1"),
    ],
)
def test_requests_that_cannot_be_met_say_why(trained_engine, scene_file, request_args, message):
    with pytest.raises(ExplainError, match=message):
        run_request(trained_engine, ExplainRequest(scene_file, **request_args), OpContext())


def test_slow_methods_report_progress_and_can_be_cancelled(trained_engine, scene_file):
    reports = []
    options = ExplainOptions(steps=8, batch_size=2)
    progress = lambda done, total, text: reports.append((done, total, text))  # noqa: E731
    request = ExplainRequest(scene_file, method="integrated-gradients", options=options)
    run_request(trained_engine, request, OpContext(progress=progress))
    counted = [r for r in reports if r[1]]  # a step ("Preparing…") may come first
    assert [r[:2] for r in counted] == [(2, 8), (4, 8), (6, 8), (8, 8)]
    assert counted[0][2] == "Integrated Gradients…"
    token = CancelToken()
    cancelling = lambda done, total, text: token.cancel()  # noqa: E731
    with pytest.raises(Cancelled):
        request = ExplainRequest(scene_file, method="smoothgrad", options=options)
        run_request(trained_engine, request, OpContext(progress=cancelling, cancel=token))


class _PredictOnly:
    """A backend that can run the model but not differentiate it (as ONNX Runtime)."""

    name = "onnx"

    def __init__(self, backend) -> None:
        self._backend = backend

    def predict(self, batch):
        return self._backend.predict(batch)

    def layer_outputs(self, batch, layer_paths):
        return self._backend.layer_outputs(batch, layer_paths)

    def layer_tree(self):
        return self._backend.layer_tree()


def test_occlusion_needs_no_gradients_the_others_say_so(trained_engine, scene_file):
    engine = Engine(trained_engine.loaded, backend=_PredictOnly(trained_engine.backend))
    occluded = run_request(engine, ExplainRequest(scene_file, method="occlusion"), OpContext())
    same = run_request(trained_engine, ExplainRequest(scene_file, method="occlusion"), OpContext())
    np.testing.assert_allclose(occluded.heatmap, same.heatmap, atol=1e-6)
    assert occluded.score == "probability" and occluded.heatmap.max() == 1.0
    with pytest.raises(ExplainError, match="the onnx backend cannot give. Use occlusion"):
        run_request(engine, ExplainRequest(scene_file), OpContext())


def test_the_default_layer_is_the_last_conv_layer_inside_a_nested_base():
    model = transfer_model()
    nodes = layer_tree(model)
    base = model.layers[1].name
    assert default_layer(nodes) == f"{base}/out_relu"
    layers = map_layers(nodes)
    assert layers[0] == f"{base}/Conv1" and layers[-1] == f"{base}/out_relu"
    assert "pool" not in layers and base not in layers  # vectors and whole models are not


def test_a_model_without_maps_has_no_default_layer():
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    assert default_layer(layer_tree(model)) is None


@pytest.fixture(scope="module")
def second_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("second") / "pets.keras"
    tiny_cnn(classes=3, size=32).save(path)
    write_metadata(path, {"class_names": ["cat", "dog", "fish"], "preprocess": "tf"})
    return str(path)


def test_compare_explains_with_a_second_model_kept_loaded(scene_file, second_model, monkeypatch):
    loads = []
    real_load = loading.load_model
    monkeypatch.setattr(
        loading, "load_model", lambda *a, **k: loads.append(a) or real_load(*a, **k)
    )
    ctx = OpContext()
    first = run_request(None, CompareRequest(scene_file, second_model), ctx)
    assert first.model_name == "pets.keras" and len(first.labels) == 3
    assert {label.label for label in first.labels} == {"cat", "dog", "fish"}
    assert first.explanation.label == first.labels[0]  # its own top class by default
    assert first.explanation.layer == "conv2" and first.explanation.heatmap.shape == (32, 32)
    other = first.labels[1].index
    second = run_request(None, CompareRequest(scene_file, second_model, class_index=other), ctx)
    assert second.explanation.label.index == other
    assert len(loads) == 1  # kept loaded for the second request


def test_compare_with_a_missing_model_file_says_so(scene_file, tmp_path):
    from core.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="gone.keras"):
        run_request(None, CompareRequest(scene_file, str(tmp_path / "gone.keras")), OpContext())
