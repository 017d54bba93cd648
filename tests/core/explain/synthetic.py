"""Synthetic photos for the explanation tests: a bright coloured square on clutter.

The class is the square's colour, so a model that learned the task must look at the square:
the pointing game and the randomisation check have a known right answer. The clutter (grey
noise and dim coloured rectangles) keeps the square from being the only thing to see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 64
CLASSES = ["red", "green", "blue"]
_COLOURS = np.array([(235, 40, 40), (40, 220, 60), (60, 90, 245)], np.float32)


@dataclass
class Scenes:
    images: np.ndarray  # (N, SIZE, SIZE, 3) uint8
    labels: np.ndarray  # (N,) class index
    boxes: list[tuple[int, int, int]]  # (top, left, side) of each square


def scenes(count: int, seed: int) -> Scenes:
    rng = np.random.default_rng(seed)
    images = np.empty((count, SIZE, SIZE, 3), np.uint8)
    labels = rng.integers(0, len(CLASSES), count)
    boxes = []
    for i in range(count):
        image = rng.normal(70, 25, (SIZE, SIZE, 1)).repeat(3, axis=2)
        image += rng.normal(0, 10, (SIZE, SIZE, 3))
        for _ in range(6):
            height, width = rng.integers(4, 16, 2)
            top, left = rng.integers(0, SIZE - height), rng.integers(0, SIZE - width)
            image[top : top + height, left : left + width] = rng.uniform(20, 110, 3)
        side = int(rng.integers(12, 18))
        top, left = (int(v) for v in rng.integers(0, SIZE - side, 2))
        image[top : top + side, left : left + side] = _COLOURS[labels[i]] + rng.normal(0, 8, 3)
        images[i] = np.clip(image, 0, 255).astype(np.uint8)
        boxes.append((top, left, side))
    return Scenes(images, labels, boxes)


def spot_model():
    """A small CAM-friendly CNN: three conv layers, global average pooling, softmax."""
    import keras
    from keras import layers

    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1, name="scale")(inputs)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(name="pool1")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(name="pool2")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(len(CLASSES), activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="spots")


def trained_spot_model(seed: int = 0):
    """spot_model trained for a few seconds: it names the square's colour."""
    import keras

    keras.utils.set_random_seed(seed)
    data = scenes(480, seed)
    model = spot_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.images.astype(np.float32), data.labels, epochs=6, batch_size=32, verbose=0)
    return model
