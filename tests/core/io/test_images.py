"""core.io.images: what a user sees when they drop photos, odd files and folders on ConvLens."""

from __future__ import annotations

import errno
import os
import threading

import numpy as np
import pytest
from PIL import Image

from core.errors import Cancelled, ImageLoadError
from core.io import images
from core.io.images import (
    DEFAULT_RESIZE,
    IMAGE_SUFFIXES,
    RESIZE_MODES,
    find_images,
    fit_to_input,
    iter_loaded,
    load_image,
    to_thumbnail,
)
from core.progress import CancelToken
from tests.image_corpus import write_noise, write_not_an_image, write_solid, write_truncated

CORAL = (200, 40, 60)


def assert_color(pixels: np.ndarray, expected: tuple[int, int, int], tol: int = 3) -> None:
    diff = np.abs(pixels.reshape(-1, 3).astype(int) - np.array(expected)).max()
    assert diff <= tol, f"{pixels.reshape(-1, 3)[:3]} is not {expected} (±{tol})"


def load_error(path) -> str:
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert info.value.path == path
    assert path.name in str(info.value)
    return str(info.value)


# --- formats and pixel modes -------------------------------------------------------------


@pytest.mark.parametrize("suffix", sorted(IMAGE_SUFFIXES))
def test_every_supported_format_loads_as_rgb(tmp_path, suffix):
    path = write_solid(tmp_path / f"coral{suffix}", CORAL, size=(24, 16))
    image = load_image(path)
    assert image.shape == (16, 24, 3)
    assert image.dtype == np.uint8
    assert_color(image, CORAL, tol=8)  # JPEG and lossy WebP shift colours slightly


def test_upper_case_suffix_and_str_path_load(tmp_path):
    path = write_solid(tmp_path / "PHOTO.JPG", CORAL)
    assert load_image(str(path)).shape == (16, 24, 3)


def test_exif_orientation_turns_a_phone_photo_upright(tmp_path):
    # Stored landscape 40x20 with a red top-left corner; orientation 6 means "rotate 90° CW".
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:] = (0, 0, 255)
    pixels[:10, :10] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)

    image = load_image(path)
    assert image.shape == (40, 20, 3)  # shown portrait
    assert_color(image[2:5, -5:-2], (255, 0, 0), tol=30)  # the red corner is now top-right
    assert_color(image[2:5, 2:5], (0, 0, 255), tol=30)


def test_grayscale_and_one_bit_become_gray_rgb(tmp_path):
    gray = load_image(write_solid(tmp_path / "gray.png", 77, mode="L"))
    assert_color(gray, (77, 77, 77), tol=0)
    bilevel = load_image(write_solid(tmp_path / "bilevel.tif", 1, mode="1"))
    assert_color(bilevel, (255, 255, 255), tol=0)


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_transparency_shows_white(tmp_path, suffix):
    img = Image.new("P", (8, 4), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.paste(1, (4, 0, 8, 4))  # right half green, and green is the transparent index
    path = tmp_path / f"sticker{suffix}"
    img.save(path, transparency=1)

    image = load_image(path)
    assert_color(image[:, :4], (255, 0, 0), tol=0)
    assert_color(image[:, 4:], (255, 255, 255), tol=0)


def test_half_transparent_pixels_are_composited_over_white(tmp_path):
    rgba = load_image(write_solid(tmp_path / "glass.png", (0, 0, 255, 128), mode="RGBA"))
    assert_color(rgba, (127, 127, 255), tol=1)
    gray_alpha = load_image(write_solid(tmp_path / "shadow.png", (0, 128), mode="LA"))
    assert_color(gray_alpha, (127, 127, 127), tol=1)


def test_cmyk_jpeg_keeps_its_colour(tmp_path):
    image = load_image(write_solid(tmp_path / "print.jpg", (0, 255, 255, 0), mode="CMYK"))
    assert_color(image, (255, 0, 0), tol=10)


@pytest.mark.parametrize("suffix,dtype", [(".png", "<u2"), (".tif", ">u2"), (".tif", "<i4")])
def test_high_bit_depth_is_scaled_not_clipped(tmp_path, suffix, dtype):
    samples = np.array([[0, 32768, 65535]], dtype=dtype)
    path = tmp_path / f"scan{suffix}"
    Image.fromarray(samples).save(path)
    image = load_image(path)
    assert image[0, :, 0].tolist() == [0, 128, 255]
    assert (image[..., 0] == image[..., 2]).all()


def test_float_tiff_in_unit_range_maps_to_full_range(tmp_path):
    path = tmp_path / "depth.tif"
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32)).save(path)
    assert load_image(path)[0, :, 1].tolist() == [0, 128, 255]


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), color) for color in [(255, 0, 0), (0, 255, 0)]]
    path = tmp_path / "blink.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert_color(load_image(path), (255, 0, 0), tol=0)


# --- files that are not usable pictures ---------------------------------------------------


def test_missing_file(tmp_path):
    assert "does not exist" in load_error(tmp_path / "gone.jpg")


def test_folder(tmp_path):
    folder = tmp_path / "holiday.jpg"
    folder.mkdir()
    assert "folder" in load_error(folder)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    assert "empty" in load_error(path)


@pytest.mark.parametrize(
    "name,keep",
    [
        ("cut.jpg", 0.5),
        ("cut.png", 0.5),
        ("header.png", 0.003),  # cut inside the PNG header
        ("header.jpg", 0.002),  # cut right after the JPEG signature
    ],
)
def test_truncated_file(tmp_path, name, keep):
    assert "truncated" in load_error(write_truncated(tmp_path / name, keep))


def test_text_file_with_image_suffix(tmp_path):
    assert "not an image file" in load_error(write_not_an_image(tmp_path / "notes.jpg"))


@pytest.mark.parametrize("name", ["favicon.ico", "frame.ppm", "old.pcx"])
def test_readable_but_unsupported_format_names_the_supported_ones(tmp_path, name):
    message = load_error(write_solid(tmp_path / name, CORAL))
    assert "not supported" in message
    assert "JPEG, PNG, BMP, GIF, TIFF, WebP, HEIC/HEIF and AVIF" in message


@pytest.mark.parametrize("side", [40, 100])  # Pillow warns above the limit, errors above 2x
def test_decompression_bomb_is_refused_with_its_size(tmp_path, monkeypatch, recwarn, side):
    path = write_solid(tmp_path / "bomb.png", CORAL, size=(side, side))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    message = load_error(path)
    assert "too large" in message
    assert f"{side * side / 1e6:.2g} megapixels" in message
    assert "limit 0.001 megapixels" in message
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_permission_denied(tmp_path, monkeypatch):
    path = write_solid(tmp_path / "private.png", CORAL)

    def refuse(fp, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(fp))

    # Running as root ignores file modes, so simulate what open() says to a normal user.
    monkeypatch.setattr(Image, "open", refuse)
    assert "permission denied" in load_error(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".gif", ".bmp", ".tif", ".webp"])
def test_corrupted_bytes_never_escape_as_raw_pillow_errors(tmp_path, suffix):
    data = bytearray(write_noise(tmp_path / f"noise{suffix}").read_bytes())
    rng = np.random.default_rng(1)
    for trial in range(20):
        damaged = bytearray(data)
        for offset in rng.integers(8, len(data), size=4):
            damaged[offset] ^= 0xFF
        path = tmp_path / f"damaged{trial}{suffix}"
        path.write_bytes(bytes(damaged))
        try:
            image = load_image(path)
        except ImageLoadError:
            continue
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


# --- fitting to a model's input ----------------------------------------------------------


def framed(width: int = 400, height: int = 200) -> np.ndarray:
    """A blue square in the middle of a wide picture, with red bands left and right."""
    pixels = np.full((height, width, 3), (255, 0, 0), np.uint8)
    band = (width - height) // 2
    pixels[:, band : band + height] = (0, 0, 255)
    return pixels


@pytest.mark.parametrize("mode", RESIZE_MODES)
@pytest.mark.parametrize("size", [(224, 224), (120, 80), (299, 310)])
def test_fit_gives_exactly_the_requested_size(mode, size):
    fitted = fit_to_input(framed(), size, mode)
    assert fitted.shape == (*size, 3)
    assert fitted.dtype == np.uint8


def test_crop_keeps_the_centre_only():
    assert_color(fit_to_input(framed(), (100, 100), "crop"), (0, 0, 255), tol=0)


def test_squash_keeps_the_whole_picture():
    fitted = fit_to_input(framed(), (100, 100), "squash")
    assert_color(fitted[:, :20], (255, 0, 0), tol=0)
    assert_color(fitted[:, 30:70], (0, 0, 255), tol=0)
    assert_color(fitted[:, 80:], (255, 0, 0), tol=0)


def test_crop_takes_seven_eighths_of_the_shorter_side():
    # A 256-pixel square in a 16-pixel white frame: "resize 256, crop 224" drops the frame.
    pixels = np.full((256, 256, 3), 255, np.uint8)
    pixels[16:-16, 16:-16] = 0
    assert_color(fit_to_input(pixels, (224, 224), "crop"), (0, 0, 0), tol=0)
    assert fit_to_input(pixels, (224, 224), "squash").max() == 255


def test_default_resize_is_a_known_mode():
    assert DEFAULT_RESIZE in RESIZE_MODES


def test_fit_rejects_unknown_mode_and_bad_arrays():
    with pytest.raises(ValueError, match="crop, squash"):
        fit_to_input(framed(), (10, 10), "stretch")
    with pytest.raises(ValueError, match="uint8"):
        fit_to_input(np.zeros((10, 10), np.uint8), (5, 5))


@pytest.mark.parametrize("mode", RESIZE_MODES)
def test_load_fitted_decodes_a_big_sideways_jpeg_to_what_the_full_path_gives(tmp_path, mode):
    # A smooth 1600x1000 picture stored sideways (EXIF orientation 6). load_fitted decodes it
    # at reduced scale; the network input must still be upright and look the same.
    y, x = np.mgrid[0:1000, 0:1600].astype(np.float32)
    wave = 128 + 100 * np.sin(x / 60) * np.cos(y / 45)
    pixels = np.stack([x * 255 / 1600, y * 255 / 1000, wave], axis=-1).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "big.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=90)

    fitted = images.load_fitted(path, (224, 224), mode)
    reference = fit_to_input(load_image(path), (224, 224), mode)
    assert fitted.shape == reference.shape == (224, 224, 3)
    assert np.abs(fitted.astype(int) - reference).mean() < 2


def test_thumbnail_keeps_aspect_ratio():
    assert to_thumbnail(framed(400, 200), max_side=100).shape == (50, 100, 3)
    assert to_thumbnail(framed(40, 20)).shape == (20, 40, 3)  # never enlarges


# --- finding images in folders -----------------------------------------------------------


@pytest.fixture
def photo_tree(tmp_path):
    root = tmp_path / "photos"
    names = [
        "img10.jpg",
        "img2.jpg",
        "IMG1.PNG",
        "notes.txt",
        ".hidden.jpg",
        "._img3.jpg",  # macOS resource fork on a USB stick
        "sub/a.jpeg",
        ".cache/x.jpg",
        "trip/day 2/b.WebP",
        "trip/day 10/c.tiff",
    ]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    return root


def test_find_images_recurses_skips_hidden_and_sorts_naturally(photo_tree):
    found = find_images([photo_tree])
    assert [p.relative_to(photo_tree).as_posix() for p in found] == [
        "IMG1.PNG",
        "img2.jpg",
        "img10.jpg",
        "sub/a.jpeg",
        "trip/day 2/b.WebP",
        "trip/day 10/c.tiff",
    ]


def test_find_images_without_recursion(photo_tree):
    assert [p.name for p in find_images([str(photo_tree)], recursive=False)] == [
        "IMG1.PNG",
        "img2.jpg",
        "img10.jpg",
    ]


def test_explicit_files_are_kept_even_when_unknown_or_missing(photo_tree):
    notes, missing = photo_tree / "notes.txt", photo_tree / "gone.jpg"
    assert find_images([notes, missing]) == [notes, missing]


def test_find_images_drops_duplicates_and_survives_symlink_loops(photo_tree):
    os.symlink(photo_tree, photo_tree / "sub" / "loop")
    again = photo_tree / "sub" / ".." / "img2.jpg"
    found = find_images([photo_tree / "img2.jpg", photo_tree, again])
    assert len(found) == 6
    assert found[0] == photo_tree / "img2.jpg"


# --- loading ahead of the consumer -------------------------------------------------------


def loader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("convlens-images")]


@pytest.fixture
def colour_files(tmp_path):
    """Eight images, each a different shade, so a result can be matched to its file."""
    return [write_solid(tmp_path / f"{i}.png", (i * 30, 0, 0), size=(30, 20)) for i in range(8)]


def test_iter_loaded_keeps_order_and_reports_a_broken_file_in_between(tmp_path, colour_files):
    files = list(colour_files)
    files.insert(3, write_not_an_image(tmp_path / "notes.jpg"))
    results = list(iter_loaded(files, (16, 16), "squash", workers=3, prefetch=4))

    assert [path for path, _, _ in results] == files
    path, array, error = results[3]
    assert array is None and "notes.jpg" in error and "not an image file" in error
    good = [(array, error) for i, (_, array, error) in enumerate(results) if i != 3]
    for shade, (array, error) in enumerate(good):
        assert error is None
        assert array.shape == (16, 16, 3)
        assert_color(array, (shade * 30, 0, 0), tol=0)
    assert not loader_threads()


def test_iter_loaded_looks_ahead_a_bounded_number_of_files(colour_files):
    taken = []

    def source():
        for path in colour_files:
            taken.append(path)
            yield path

    results = iter_loaded(source(), (8, 8), prefetch=3)
    next(results)
    assert 2 <= len(taken) <= 4  # decoding runs ahead, but not through the whole folder
    results.close()
    assert not loader_threads()


def test_cancel_stops_loading_and_leaves_no_threads(colour_files, monkeypatch):
    cancel = CancelToken()
    decoded = []
    real_load = images.load_fitted  # what iter_loaded decodes each file with

    def load_and_cancel(path, *fit):
        decoded.append(path)
        if path == colour_files[1]:
            cancel.cancel()  # the user presses Cancel while the second image decodes
        return real_load(path, *fit)

    monkeypatch.setattr(images, "load_fitted", load_and_cancel)
    many = colour_files * 10
    received = []
    with pytest.raises(Cancelled):
        for path, _, _ in iter_loaded(many, (8, 8), workers=2, prefetch=4, cancel=cancel):
            received.append(path)

    assert received in ([], [colour_files[0]])
    assert len(decoded) <= 6  # the prefetch window at most, not the 80 files asked for
    assert not loader_threads()


def test_iter_loaded_checks_its_arguments_before_starting():
    with pytest.raises(ValueError, match="resize mode"):
        iter_loaded([], (8, 8), "zoom")
    with pytest.raises(ValueError, match="prefetch"):
        iter_loaded([], (8, 8), prefetch=0)
