"""ActivationView: the paged channel grid, sorting, the enlarged channel, vectors, PNG export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt

from core.errors import ExportError
from gui.activation_view import PAGE_SIZE, ActivationView
from gui.colormaps import EXPORT_GAP, lookup_table

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
    """The pixels of the tile at slot (row by row, 8 per row) in the on-screen mosaic."""
    row, col = divmod(slot, 8)
    return view.mosaic.image[row * H : (row + 1) * H, col * W : (col + 1) * W]


def click_tile(qtbot, view, slot):
    row, col = divmod(slot, 8)
    scene_point = view.grid_box.mapViewToScene(QPointF((col + 0.5) * W, (row + 0.5) * H))
    pos = view.grid_widget.mapFromScene(scene_point)
    qtbot.mouseClick(view.grid_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_starts_with_a_hint_and_shows_messages(view):
    assert view.stack.currentWidget() is view.message
    assert "Select a layer" in view.message.text()
    view.show_activations("conv", layer_maps())
    view.show_message("Computing…")
    assert view.stack.currentWidget() is view.message
    assert view.message.text() == "Computing…"
    assert not view.has_grid()


def test_grid_pages_through_a_wide_layer(qtbot, view):
    maps = layer_maps(80)
    view.show_activations("block/conv", maps)
    assert view.stack.currentWidget() is view.splitter
    assert view.page_label.text() == "channels 1–32 of 80"
    assert visible_tile_labels(view) == [str(c) for c in range(32)]
    assert view.mosaic.image.shape == (4 * H, 8 * W)
    np.testing.assert_array_equal(tile(view, 9), maps[:, :, 9])
    assert not view.prev_button.isEnabled()

    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.page_label.text() == "channels 33–64 of 80"
    np.testing.assert_array_equal(tile(view, 0), maps[:, :, 32])

    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.page_label.text() == "channels 65–80 of 80"
    assert visible_tile_labels(view) == [str(c) for c in range(64, 80)]
    assert view.mosaic.image.shape == (2 * H, 8 * W)
    assert not view.next_button.isEnabled()

    view.page_spin.setValue(1)
    assert view.page_label.text() == "channels 1–32 of 80"


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
    view.show_activations("conv", layer_maps(20))  # 8 + 8 + 4 tiles: the last row is short
    with qtbot.assertNotEmitted(view.channel_selected):
        click_tile(qtbot, view, 22)
    assert view.selected_channel() is None


def test_a_new_image_keeps_the_page_and_channel_a_new_layer_resets_them(view):
    view.show_activations("conv", layer_maps(80))
    view.page_spin.setValue(2)
    view.select_channel(40)
    view.show_activations("conv", layer_maps(80, seed=1))
    assert view.page_label.text() == "channels 33–64 of 80"
    assert view.selected_channel() == 40
    view.show_activations("other", layer_maps(80))
    assert view.page_label.text() == "channels 1–32 of 80"
    assert view.selected_channel() is None
    assert "Click a channel" in view.detail_title.text()


def test_updates_reuse_the_same_graphics_items(view):
    view.show_activations("a", layer_maps(80))
    items = list(view.grid_box.addedItems)
    view.show_activations("b", np.random.default_rng(1).random((56, 56, 96), dtype=np.float32))
    view.page_spin.setValue(3)
    view.show_activations("c", np.random.default_rng(2).random((7, 7, 1280), dtype=np.float32))
    assert view.grid_box.addedItems == items
    assert len(view.tile_labels) == PAGE_SIZE


def test_vector_layers_show_a_plot_with_the_top_indices(view):
    vector = np.linspace(0, 1, 1000, dtype=np.float32)
    vector[3] = 7.0
    view.show_activations("avg_pool", vector)
    assert view.stack.currentWidget() is view.plot
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
    assert view.stack.currentWidget() is view.message
    assert "(2, 3, 4, 5)" in view.message.text()


def test_export_png_writes_the_visible_page(tmp_path, view):
    maps = np.zeros((16, 16, 40), dtype=np.float32)
    maps[:, :, 1] = 1.0  # the brightest tile, second in the first row
    view.show_activations("conv", maps)
    target = tmp_path / "grid.png"
    view.export_png(target)

    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary file left
    with Image.open(target) as image:
        assert image.format == "PNG"
        # 8 × 4 tiles of 16 px maps repeated 4× to 64 px, with gaps around and between.
        assert image.size == (8 * 64 + 9 * EXPORT_GAP, 4 * 64 + 5 * EXPORT_GAP)
        pixels = np.asarray(image.convert("RGB"))
    lut = lookup_table()
    centre = EXPORT_GAP + 32 + 20  # below the corner label
    assert tuple(pixels[centre, EXPORT_GAP + 64 + EXPORT_GAP + 32]) == tuple(lut[-1])
    assert tuple(pixels[centre, EXPORT_GAP + 32]) == tuple(lut[0])


def test_export_png_follows_the_page_and_optional_labels(tmp_path, view):
    view.show_activations("conv", layer_maps(40))
    view.page_spin.setValue(2)  # 8 channels: one row
    view.export_png(tmp_path / "plain.png", labels=False)
    view.export_png(tmp_path / "labelled.png")
    with Image.open(tmp_path / "plain.png") as plain, Image.open(tmp_path / "labelled.png") as lab:
        assert plain.size == lab.size == (8 * 72 + 9 * EXPORT_GAP, 60 + 2 * EXPORT_GAP)
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
    assert view.stack.currentWidget() is view.message
    assert view.title.text() == ""
    assert not view.has_grid()
