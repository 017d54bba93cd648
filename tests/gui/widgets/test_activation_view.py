"""ActivationView: the paged channel grid, sorting, the enlarged channel, vectors, PNG export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QApplication

from core.errors import ExportError
from gui.widgets.activation_grid import MAX_PAGE, PAGE_SIZE, fit_grid
from gui.widgets.activation_view import ActivationView
from gui.widgets.colormaps import BACKGROUND, EXPORT_GAP, lookup_table
from gui.widgets.grid_png import COLORBAR_HEIGHT, TITLE_HEIGHT

H, W = 10, 12  # not square, so a swapped axis shows


def layer_maps(channels=80, seed=0):
    """Distinct maps whose channel 5 has by far the largest mean."""
    rng = np.random.default_rng(seed)
    maps = rng.random((H, W, channels), dtype=np.float32)
    maps[:, :, 5] += 10.0
    return maps


@pytest.fixture
def view(qtbot):
    widget = ActivationView()
    qtbot.addWidget(widget)
    widget.resize(960, 560)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def visible_tile_labels(view):
    return [label.toPlainText() for label in view.tile_labels if label.isVisible()]


def tile(view, slot):
    """The pixels of the tile at slot (row by row) in the on-screen mosaic."""
    row, col = divmod(slot, view.grid_shape()[0])
    return view.mosaic.image[row * H : (row + 1) * H, col * W : (col + 1) * W]


def click_tile(qtbot, view, slot):
    row, col = divmod(slot, view.grid_shape()[0])
    scene_point = view.grid_box.mapViewToScene(QPointF((col + 0.5) * W, (row + 0.5) * H))
    pos = view.grid_widget.mapFromScene(scene_point)
    qtbot.mouseClick(view.grid_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def grid_fill(view):
    """How much of the grid's view the page's tiles span: (width fraction, height fraction)."""
    columns, rows = view.grid_shape()
    height, width = view._maps.shape[:2]
    scene = view.grid_box.mapViewToScene(QRectF(0, 0, columns * width, rows * height))
    box = view.grid_box.sceneBoundingRect()
    bounds = scene.boundingRect()
    return bounds.width() / box.width(), bounds.height() / box.height()


def test_starts_with_a_hint_and_shows_messages(view):
    assert view.showing() == "message" and view.message.isVisible()
    assert "Select a layer" in view.message.text()
    view.show_activations("conv", layer_maps())
    assert view.showing() == "grid" and not view.message.isVisible()
    view.show_message("Computing…")
    assert view.showing() == "message" and view.message.isVisible()
    assert view.message.text() == "Computing…"
    assert not view.has_grid()


def test_fit_grid_follows_the_shape_of_the_view_and_of_the_maps():
    assert fit_grid(32, (600, 600), (10, 10)) == (6, 6)  # square: as square as it gets
    columns, rows = fit_grid(32, (1600, 400), (10, 10))
    assert columns >= 3 * rows and columns * rows >= 32  # a wide strip: long rows
    columns, rows = fit_grid(32, (400, 1600), (10, 10))
    assert rows >= 3 * columns
    columns, rows = fit_grid(32, (600, 600), (10, 40))  # wide maps stack in a column
    assert rows > columns
    assert fit_grid(12, (900, 300), (10, 10)) == (6, 2)  # no empty slot at the same size
    assert fit_grid(1, (50, 50), (7, 7)) == (1, 1)
    for tiles in range(1, 49):
        columns, rows = fit_grid(tiles, (800, 500), (7, 7))
        assert tiles <= columns * rows <= max(MAX_PAGE, tiles)
        assert columns * (rows - 1) < tiles  # never a whole empty row


def test_grid_pages_through_a_wide_layer(qtbot, view):
    maps = layer_maps(80)
    view.show_activations("block/conv", maps)
    assert view.showing() == "grid"
    columns, rows = view.grid_shape()
    page = columns * rows  # wide layers fill every slot of the page
    assert PAGE_SIZE <= page <= MAX_PAGE
    assert view.page_label.text() == f"channels 1–{page} of 80"
    assert visible_tile_labels(view) == [str(c) for c in range(page)]
    assert view.mosaic.image.shape == (rows * H, columns * W)
    np.testing.assert_array_equal(tile(view, 9), maps[:, :, 9])
    assert not view.prev_button.isEnabled()
    full_page = grid_fill(view)

    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    last = min(80, 2 * page)
    assert view.page_label.text() == f"channels {page + 1}–{last} of 80"
    np.testing.assert_array_equal(tile(view, 0), maps[:, :, page])
    assert visible_tile_labels(view) == [str(c) for c in range(page, last)]

    view.page_spin.setValue(view.page_spin.maximum())
    assert view.page_label.text().endswith("–80 of 80")
    assert not view.next_button.isEnabled()
    assert grid_fill(view) == pytest.approx(full_page)  # a short last page: same tile size

    view.page_spin.setValue(1)
    assert view.page_label.text() == f"channels 1–{page} of 80"


def test_a_layer_of_few_channels_shows_on_one_page(view):
    view.show_activations("conv", layer_maps(MAX_PAGE))
    assert view.page_label.text() == f"channels 1–{MAX_PAGE} of {MAX_PAGE}"
    assert view.page_spin.maximum() == 1


def test_tiles_fill_the_view_and_follow_its_shape(qtbot, view):
    view.show_activations("conv", np.random.default_rng(0).random((16, 16, 100), np.float32))
    view.resize(1500, 420)
    qtbot.waitUntil(lambda: view.grid_shape()[0] >= 2 * view.grid_shape()[1])
    assert max(grid_fill(view)) > 0.95 and min(grid_fill(view)) <= 1.0
    view.page_spin.setValue(2)
    first = int(visible_tile_labels(view)[0])

    view.resize(520, 1000)
    qtbot.waitUntil(lambda: view.grid_shape()[1] >= 2 * view.grid_shape()[0])
    assert max(grid_fill(view)) > 0.95 and min(grid_fill(view)) <= 1.0
    assert str(first) in visible_tile_labels(view)  # the page shown stays in view
    columns, rows = view.grid_shape()
    assert view.mosaic.image.shape[1] == columns * 16


def test_the_level_control_is_a_strip_under_the_grid(view):
    view.show_activations("conv", layer_maps())
    bar, grid = view.histogram.sceneBoundingRect(), view.grid_box.sceneBoundingRect()
    assert bar.top() >= grid.bottom() - 1  # below the tiles, not beside them
    assert bar.width() >= 0.9 * grid.width()
    assert bar.height() <= 0.2 * view.grid_widget.height()


def test_showing_maps_does_not_re_lay_out_the_grid(view):
    """The grid is laid out once, with the panel: new results only repaint it."""
    resizes = []
    view.grid_box.sigResized.connect(lambda *_: resizes.append(1))
    updates = [
        lambda: view.show_activations("conv", layer_maps()),  # the first display
        lambda: view.show_activations("conv", layer_maps(seed=1)),  # another image
        lambda: view.show_activations("pool", np.arange(5, dtype=np.float32)),
        lambda: view.show_activations("other_layer_with_a_long_name", layer_maps(20) * 1e6),
        lambda: view.show_message("Computing…"),
        lambda: view.show_activations("other", layer_maps(20)),
    ]
    for update in updates:
        update()
        QApplication.processEvents()  # deferred layout requests, if any
    assert resizes == []


def test_summary_statistics(view):
    maps = np.zeros((4, 4, 3), dtype=np.float32)
    maps[:, :, 0] = 2.0
    maps[0, 0, 1] = 6.0
    view.show_activations("relu", maps)
    text = view.stats.text()
    assert "max 6" in text
    assert "min 0" in text
    assert "dead (all-zero) channels 1 of 3" in text
    assert f"zeros {(maps == 0).mean():.1%}" in text
    assert "4×4×3" in view.title.text()


def test_sorting_by_mean_puts_the_brightest_channel_first(view):
    view.show_activations("conv", layer_maps())
    view.sort_combo.setCurrentText("Mean activation ↓")
    assert visible_tile_labels(view)[0] == "5"
    np.testing.assert_array_equal(tile(view, 0), layer_maps()[:, :, 5])
    view.sort_combo.setCurrentText("Channel order")
    assert visible_tile_labels(view)[:2] == ["0", "1"]


def test_all_tiles_share_one_level_range(view):
    maps = layer_maps()
    view.show_activations("conv", maps)
    assert view.histogram.getLevels() == pytest.approx((maps.min(), maps.max()))
    view.select_channel(3)
    view.histogram.setLevels(0.2, 0.8)
    assert view.mosaic.levels == pytest.approx([0.2, 0.8])
    # The enlarged channel reads in the same colours as its tile.
    assert view.overlay.levels == pytest.approx([0.2, 0.8])
    np.testing.assert_allclose(view.overlay.lut, lookup_table(), atol=1)  # gradient rounding


def test_clicking_a_tile_enlarges_it_over_the_input_image(qtbot, view):
    photo = np.full((40, 48, 3), 128, dtype=np.uint8)
    view.show_activations("conv", layer_maps(), photo)
    with qtbot.waitSignal(view.channel_selected) as blocker:
        click_tile(qtbot, view, 5)
    assert blocker.args == [5]
    assert view.selected_channel() == 5
    assert view.detail_title.text().startswith("Channel 5:")
    assert view.overlay.image.shape == (40, 48)  # upsampled to the photo
    assert view.photo.image.shape == (40, 48, 3)
    assert view.highlight.isVisible()
    assert view.highlight.rect().topLeft() == QPointF(5 * W, 0)

    view.opacity_slider.setValue(25)
    assert view.overlay.opacity() == pytest.approx(0.25)


def test_clicking_a_tile_of_a_sorted_page_selects_that_tiles_channel(qtbot, view):
    view.show_activations("conv", layer_maps())
    view.sort_combo.setCurrentText("Mean activation ↓")
    with qtbot.waitSignal(view.channel_selected) as blocker:
        click_tile(qtbot, view, 0)
    assert blocker.args == [5]
    assert view.overlay.image.shape == (H, W)  # no photo: the map itself


def test_clicking_outside_the_tiles_selects_nothing(qtbot, view):
    view.show_activations("conv", layer_maps(13))  # a prime: the last row is short
    columns, rows = view.grid_shape()
    assert columns * rows > 13
    with qtbot.assertNotEmitted(view.channel_selected):
        click_tile(qtbot, view, columns * rows - 1)
    assert view.selected_channel() is None


def test_a_new_image_keeps_the_page_and_channel_a_new_layer_resets_them(view):
    view.show_activations("conv", layer_maps(80))
    view.page_spin.setValue(2)
    second_page = view.page_label.text()
    first_page = second_page.replace("channels ", "").split("–")[0]
    view.select_channel(int(first_page))
    view.show_activations("conv", layer_maps(80, seed=1))
    assert view.page_label.text() == second_page
    assert view.selected_channel() == int(first_page)
    view.show_activations("other", layer_maps(80))
    assert view.page_label.text().startswith("channels 1–")
    assert view.selected_channel() is None
    assert "Click a channel" in view.detail_title.text()


def test_updates_reuse_the_same_graphics_items(view):
    view.show_activations("a", layer_maps(80))
    items = list(view.grid_box.addedItems)
    view.show_activations("b", np.random.default_rng(1).random((56, 56, 96), dtype=np.float32))
    view.page_spin.setValue(3)
    view.show_activations("c", np.random.default_rng(2).random((7, 7, 1280), dtype=np.float32))
    assert view.grid_box.addedItems == items
    assert len(view.tile_labels) == MAX_PAGE


def test_vector_layers_show_a_plot_with_the_top_indices(view):
    vector = np.linspace(0, 1, 1000, dtype=np.float32)
    vector[3] = 7.0
    view.show_activations("avg_pool", vector)
    assert view.showing() == "vector" and view.stack.currentWidget() is view.plot
    assert not view.grid_controls.isVisible()
    x, y = view.line.getData()
    np.testing.assert_array_equal(y, vector)
    assert view.stats.text().split("top: ")[1].startswith("3 (7)")
    assert "1000 values" in view.title.text()
    assert not view.has_grid()


def test_short_vectors_show_as_bars(view):
    view.show_activations("predictions", np.array([0.1, 0.7, 0.2], dtype=np.float32))
    assert view.bars.isVisible() and not view.line.isVisible()
    np.testing.assert_allclose(view.bars.opts["height"], [0.1, 0.7, 0.2], rtol=1e-6)


def test_unsupported_shapes_say_so(view):
    view.show_activations("odd", np.zeros((2, 3, 4, 5), dtype=np.float32))
    assert view.showing() == "message"
    assert "(2, 3, 4, 5)" in view.message.text()


def test_export_png_writes_the_visible_page(tmp_path, view):
    maps = np.zeros((16, 16, 40), dtype=np.float32)
    maps[:, :, 1] = 1.0  # the brightest tile, second in the first row
    view.show_activations("conv", maps)
    columns, rows = view.grid_shape()  # the page's layout on screen
    target = tmp_path / "grid.png"
    view.export_png(target)

    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary file left
    with Image.open(target) as image:
        assert image.format == "PNG"
        # 16 px maps repeated 4× to 64 px tiles, with gaps around and between.
        assert image.size == (
            columns * 64 + (columns + 1) * EXPORT_GAP,
            TITLE_HEIGHT + rows * 64 + (rows + 1) * EXPORT_GAP + COLORBAR_HEIGHT,
        )
        pixels = np.asarray(image.convert("RGB"))
    lut = lookup_table()
    centre = TITLE_HEIGHT + EXPORT_GAP + 32 + 20  # below the corner label
    assert tuple(pixels[centre, EXPORT_GAP + 64 + EXPORT_GAP + 32]) == tuple(lut[-1])
    assert tuple(pixels[centre, EXPORT_GAP + 32]) == tuple(lut[0])


def test_export_png_follows_the_page_and_optional_labels(tmp_path, view):
    view.show_activations("conv", layer_maps(80))
    columns, rows = view.grid_shape()
    view.page_spin.setValue(2)
    left = 80 - columns * rows  # the second page's channels
    rows = min(rows, -(-left // columns))
    view.export_png(tmp_path / "plain.png", labels=False)
    view.export_png(tmp_path / "labelled.png")
    with Image.open(tmp_path / "plain.png") as plain, Image.open(tmp_path / "labelled.png") as lab:
        # 10×12 maps repeated 6× to 60×72 px tiles
        grid_height = rows * 60 + (rows + 1) * EXPORT_GAP
        size = (
            columns * 72 + (columns + 1) * EXPORT_GAP,
            TITLE_HEIGHT + grid_height + COLORBAR_HEIGHT,
        )
        assert plain.size == lab.size == size
        assert np.any(np.asarray(plain) != np.asarray(lab))


def test_export_png_without_a_grid_raises(tmp_path, view):
    with pytest.raises(ExportError):
        view.export_png(tmp_path / "nothing.png")
    view.show_activations("pool", np.ones(8, dtype=np.float32))
    with pytest.raises(ExportError):
        view.export_png(tmp_path / "nothing.png")
    assert list(tmp_path.iterdir()) == []


def test_clear_returns_to_the_hint(view):
    view.show_activations("conv", layer_maps())
    view.clear()
    assert view.showing() == "message"
    assert view.title.text() == ""
    assert not view.has_grid()


def test_the_png_has_a_title_and_a_colour_bar(tmp_path, view):
    maps = np.zeros((16, 16, 40), dtype=np.float32)
    maps[:, :, 1] = 2.5
    view.show_activations("block3_conv", maps)
    view.export_png(tmp_path / "grid.png")
    with Image.open(tmp_path / "grid.png") as image:
        pixels = np.asarray(image.convert("RGB"))
    height, width = pixels.shape[:2]
    background = np.array(BACKGROUND.getRgb()[:3])
    # The title band has text in it (light pixels on the dark background).
    assert (pixels[:TITLE_HEIGHT].max(axis=2) > 200).any()
    # The colour bar runs from the colour map's first to its last colour, left to right.
    lut = lookup_table()
    bar_row = pixels[height - COLORBAR_HEIGHT + 6 + 6]
    assert tuple(bar_row[8]) == tuple(lut[0]) and tuple(bar_row[width - 9]) == tuple(lut[-1])
    assert not (pixels[height - COLORBAR_HEIGHT :] == background).all(axis=2).all()
