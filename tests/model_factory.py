"""Small Keras models and weights files for tests: cheap to build, shaped like real ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SMALL = 96  # the smallest input MobileNetV2 has ImageNet weights for; cheap to run


def mobilenet_v2(include_top: bool = True, size: int = 224, **options):
    """Keras' MobileNetV2 with random weights (no download)."""
    import keras

    return keras.applications.MobileNetV2(
        include_top=include_top, weights=None, input_shape=(size, size, 3), **options
    )


def make_distinctive(model, seed: int = 0):
    """Give a randomly initialised model outputs that tell its weights apart.

    Fresh BatchNorm layers pass zero-mean activations through, so every random MobileNetV2
    predicts about 1/1000 for every class; random BN offsets make its features and
    predictions depend on the weights.
    """
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            beta = rng.uniform(0, 1, beta.shape).astype(np.float32)
            layer.set_weights([gamma, beta, mean, variance])
    return model


def save_legacy_weights(model, path: Path) -> Path:
    """Save weights in the HDF5 layout of Keras' ImageNet weights files (layer by layer)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path


def tiny_cnn(classes: int = 3, size: int = 32, name: str = "tiny_cnn"):
    """A plain CNN of no known architecture: ConvLens cannot guess its preprocessing."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3), name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(name="pool1")(x)
    x = layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def transfer_model(classes: int = 3, size: int = SMALL):
    """The classic transfer-learning model: a frozen MobileNetV2 base nested as one layer."""
    import keras
    from keras import layers

    base = mobilenet_v2(include_top=False, size=size)
    base.trainable = False
    inputs = keras.Input((size, size, 3), name="image")
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="flowers")


def random_images(count: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


# --- an HDF5 model as Keras 2 / tf.keras (2.15) wrote it --------------------------------


def _keras2_layer(class_name: str, name: str, config: dict, inbound: list[str]) -> dict:
    return {
        "class_name": class_name,
        "config": {"name": name, "trainable": True, "dtype": "float32", **config},
        "name": name,
        # Keras 2 nodes: [[[layer, node_index, tensor_index, kwargs], ...]]
        "inbound_nodes": [[[source, 0, 0, {}] for source in inbound]] if inbound else [],
    }


def _keras2_input(name: str, size: int) -> dict:
    return {
        "class_name": "InputLayer",
        "name": name,
        "inbound_nodes": [],
        "config": {
            "batch_input_shape": [None, size, size, 3],
            "dtype": "float32",
            "sparse": False,
            "ragged": False,
            "name": name,
        },
    }


_INIT = {"class_name": "GlorotUniform", "config": {"seed": None}}
_ZEROS = {"class_name": "Zeros", "config": {}}
_NO_REG = {
    "kernel_regularizer": None,
    "bias_regularizer": None,
    "activity_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
}


def write_keras2_h5(path: Path, size: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a tf.keras 2.15-style HDF5 transfer model (nested base, BN, Dropout, softmax).

    The config uses Keras 2's serialisation (string dtypes, batch_input_shape, list-style
    inbound nodes, no "module" keys) and the weights are stored under Keras 2's ":0"
    names. Returns the weights by name so a test can compute the expected output.
    """
    import h5py

    conv = {
        "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
        "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
        "activation": "linear", "use_bias": False, "kernel_initializer": _INIT,
        "bias_initializer": _ZEROS, **_NO_REG,
    }  # fmt: skip
    bn = {
        "axis": [3], "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
        "beta_initializer": _ZEROS, "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": _ZEROS,
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
        "gamma_constraint": None,
    }  # fmt: skip
    base = {
        "class_name": "Functional",
        "name": "base",
        "inbound_nodes": [[["input_1", 0, 0, {}]]],
        "config": {
            "name": "base",
            "trainable": True,
            "layers": [
                _keras2_input("base_input", size),
                _keras2_layer("Conv2D", "conv", conv, ["base_input"]),
                _keras2_layer("BatchNormalization", "bn", bn, ["conv"]),
                _keras2_layer(
                    "ReLU",
                    "relu",
                    {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0},
                    ["bn"],
                ),
            ],
            "input_layers": [["base_input", 0, 0]],
            "output_layers": [["relu", 0, 0]],
        },
    }
    dense = {
        "units": 3, "activation": "softmax", "use_bias": True, "kernel_initializer": _INIT,
        "bias_initializer": _ZEROS, **_NO_REG,
    }  # fmt: skip
    model = {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "trainable": True,
            "layers": [
                _keras2_input("input_1", size),
                base,
                _keras2_layer(
                    "GlobalAveragePooling2D",
                    "global_average_pooling2d",
                    {"data_format": "channels_last", "keepdims": False},
                    ["base"],
                ),
                _keras2_layer(
                    "Dropout",
                    "dropout",
                    {"rate": 0.2, "noise_shape": None, "seed": None},
                    ["global_average_pooling2d"],
                ),
                _keras2_layer("Dense", "dense", dense, ["dropout"]),
            ],
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["dense", 0, 0]],
        },
    }
    rng = np.random.default_rng(seed)
    weights = {
        "base": {
            "conv/kernel:0": rng.normal(size=(3, 3, 3, 4)),
            "bn/gamma:0": rng.uniform(0.5, 1.5, 4),
            "bn/beta:0": rng.normal(size=4),
            "bn/moving_mean:0": rng.normal(size=4),
            "bn/moving_variance:0": rng.uniform(0.5, 2.0, 4),
        },
        "dense": {"dense/kernel:0": rng.normal(size=(4, 3)), "dense/bias:0": rng.normal(size=3)},
    }
    layer_names = ["input_1", "base", "global_average_pooling2d", "dropout", "dense"]
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(model)
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode() for name in layer_names]
        group.attrs["keras_version"] = b"2.15.0"
        group.attrs["backend"] = b"tensorflow"
        for name in layer_names:
            layer_group = group.create_group(name)
            layer_weights = weights.get(name, {})
            layer_group.attrs["weight_names"] = [w.encode() for w in layer_weights]
            for weight_name, value in layer_weights.items():
                layer_group.create_dataset(weight_name, data=value.astype(np.float32))
    return {k: v.astype(np.float32) for group in weights.values() for k, v in group.items()}


def keras2_reference_output(weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """What the model of write_keras2_h5 computes, in numpy (conv 3×3 "same", stride 1)."""
    kernel = weights["conv/kernel:0"]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    h, w = x.shape[1:3]
    conv = np.zeros((len(x), h, w, kernel.shape[-1]), np.float64)
    for dy in range(3):
        for dx in range(3):
            conv += padded[:, dy : dy + h, dx : dx + w, :] @ kernel[dy, dx]
    bn = (conv - weights["bn/moving_mean:0"]) / np.sqrt(weights["bn/moving_variance:0"] + 1e-3)
    bn = bn * weights["bn/gamma:0"] + weights["bn/beta:0"]
    pooled = np.clip(bn, 0, 6).mean(axis=(1, 2))
    logits = pooled @ weights["dense/kernel:0"] + weights["dense/bias:0"]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)
