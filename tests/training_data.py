"""A small, real image-classification dataset for training tests, made from scikit-image textures.

Three classes (brick, grass, gravel) of random crops of scikit-image's bundled photographs.
Training crops come from the left 60 % of each photograph and validation crops from the
right 40 %, so no validation pixel was ever seen in training. Each crop is normalised to
the same mean and spread of grey levels, so a class cannot be told by its brightness alone:
the network has to see the texture. Files alternate between JPEG and PNG.
Shared by the core, CLI, GUI tests and the training benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

TEXTURES = ("brick", "grass", "gravel")
_TRAIN_FRACTION = 0.6  # of each photograph's width; the rest is for validation
_CROP_SIDES = (72, 128)  # random square crops between these sides, in pixels
_MEAN, _STD = 120.0, 32.0


@dataclass(frozen=True)
class TextureDataset:
    train_dir: Path  # one subfolder per class
    val_dir: Path  # the same classes, from disjoint regions
    classes: tuple[str, ...]
    train_per_class: int
    val_per_class: int


def _photo(name: str) -> np.ndarray:
    return getattr(skimage.data, name)().astype(np.float32)


def _normalise(crop: np.ndarray) -> np.ndarray:
    std = max(float(crop.std()), 1e-3)
    scaled = (crop - crop.mean()) / std * _STD + _MEAN
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def random_crops(name: str, region: str, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """count RGB crops of a texture from its "train" (left) or "val" (right) region."""
    photo = _photo(name)
    height, width = photo.shape
    split = int(width * _TRAIN_FRACTION)
    left, right = (0, split) if region == "train" else (split, width)
    crops = []
    for _ in range(count):
        side = int(rng.integers(_CROP_SIDES[0], min(_CROP_SIDES[1], right - left) + 1))
        top = int(rng.integers(0, height - side + 1))
        x = int(rng.integers(left, right - side + 1))
        gray = _normalise(photo[top : top + side, x : x + side])
        crops.append(np.repeat(gray[:, :, None], 3, axis=2))
    return crops


def write_class_folders(root: Path, region: str, per_class: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for name in TEXTURES:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, crop in enumerate(random_crops(name, region, per_class, rng)):
            suffix = ".jpg" if i % 2 == 0 else ".png"
            Image.fromarray(crop).save(folder / f"{name}_{i:03d}{suffix}", quality=92)
    return root


def make_texture_dataset(
    root: str | Path, train_per_class: int = 30, val_per_class: int = 10, seed: int = 0
) -> TextureDataset:
    """Write root/train/<class>/… and root/val/<class>/… and describe them."""
    root = Path(root)
    train = write_class_folders(root / "train", "train", train_per_class, seed)
    val = write_class_folders(root / "val", "val", val_per_class, seed + 1)
    return TextureDataset(train, val, TEXTURES, train_per_class, val_per_class)


def rotated_validation(val_dir: Path, target: Path) -> Path:
    """A copy of val_dir with each class's images filed under the next class's name: the
    better a run learns the classes, the worse it validates, so its best epoch comes early
    and the last epoch is not the best (for "a stopped run keeps its best epoch")."""
    import shutil

    for source, name in zip(TEXTURES, TEXTURES[1:] + TEXTURES[:1], strict=True):
        shutil.copytree(Path(val_dir) / source, Path(target) / name)
    return Path(target)
