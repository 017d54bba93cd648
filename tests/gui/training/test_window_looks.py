"""What the training window looks like before and between runs: an idle progress bar, plots
with readable empty axes and whole epochs, legends clear of the curves, and a hint where the
base's layers will show."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from core.training.config import EpochLog
from gui.training.plots import TrainingCurves
from gui.training.window import BASE_LAYERS_HINT
from tests.gui.training.test_window import _finished
from tests.training_data import make_texture_dataset


def test_idle_window_has_no_busy_bar_and_says_where_base_layers_show(qtbot, view, tmp_path):
    data = make_texture_dataset(tmp_path, 4, 2)
    assert view.progress_bar.maximum() > 0
    view.set_dataset(str(data.train_dir))
    _finished(qtbot, view)  # listed, then checked on the worker
    assert view.progress_bar.maximum() > 0  # a busy bar animates: not once the check ended
    tabs = view.results.tabs
    assert tabs.tabText(0) == "Base layers" and tabs.widget(0) is view.base_layers_page
    tabs.setCurrentIndex(0)
    assert view.base_layers_hint.isVisible() and view.base_layers_hint.text() == BASE_LAYERS_HINT
    assert not view.layer_tree.isVisible()


def epoch(n: int, stage: int = 1) -> EpochLog:
    acc = min(0.99, 0.6 + 0.13 * n)  # a run that climbs to the top right
    return EpochLog(stage, n, 12, 1.0 / n, acc, 1.2 / n, acc - 0.02, 1.0)


def test_curves_show_whole_epochs_and_legends_clear_of_the_curves(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(600, 500)
    curves.show()
    qtbot.waitExposed(curves)
    for plot in (curves.loss_plot, curves.accuracy_plot):
        (low, high) = plot.getViewBox().viewRange()[1]
        assert low >= -0.1 and high <= 1.2  # not −400…400 before the first epoch
        assert plot.getAxis("left").autoSIPrefixScale == 1.0  # no "(x0.001)"
    for n in range(1, 4):
        curves.add_epoch(epoch(n))
    ticks = curves.accuracy_plot.getAxis("bottom")._tickLevels[0]
    assert [value for value, _ in ticks] == [1, 2, 3]
    assert [text for _, text in ticks] == ["1", "2", "3"]
    for metric, plot in (("accuracy", curves.accuracy_plot), ("loss", curves.loss_plot)):
        legend = plot.plotItem.legend.sceneBoundingRect()
        box = plot.getViewBox()
        for name in (metric, f"val_{metric}"):
            xs, ys = curves.points(name)
            for x, y in zip(xs, ys, strict=True):
                assert not legend.contains(box.mapViewToScene(QPointF(x, y)))
    curves.add_epoch(epoch(20))
    values = [value for value, _ in curves.loss_plot.getAxis("bottom")._tickLevels[0]]
    assert all(float(v).is_integer() for v in values) and len(values) <= 10
    assert np.isfinite(curves.points("loss")[1]).all()
