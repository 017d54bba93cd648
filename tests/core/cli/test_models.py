"""`convlens models`: the zoo, the built-in model, and whether weights are cached."""

from __future__ import annotations

import json

from core.cli.main import main


def test_models_lists_zoo_and_builtin_with_cache_state(capsys, keras_home):
    keras_home.mkdir(parents=True)
    (keras_home / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5").write_bytes(b"x")
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {
        "VGG16",
        "VGG19",
        "ResNet50",
        "ResNet50V2",
        "ResNet101",
        "InceptionV3",
        "Xception",
        "MobileNet",
        "MobileNetV2",
        "MobileNetV3Small",
        "MobileNetV3Large",
        "DenseNet121",
        "EfficientNetB0",
        "ConvNeXtTiny",
        "EfficientNet-Lite0",
    } <= set(rows)
    assert rows["EfficientNet-Lite0"]["builtin"] is True
    assert rows["MobileNetV2"]["weights_cached"] is True
    assert rows["VGG16"]["weights_cached"] is False
    assert rows["InceptionV3"]["input_size"] == [299, 299]


def test_models_table_says_what_must_be_downloaded(capsys, keras_home):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "built in (offline)" in out
    assert "download 528 MB" in out  # VGG16 with its top


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
