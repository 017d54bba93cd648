"""The training window, driven as a user would: choose or drop a folder, start, watch the
curves, stop, look at the evaluation, save, export, and reopen the model in the main window.

Runs use the real built-in base on the scikit-image texture dataset, at small input sizes.
"""

from __future__ import annotations

import shutil
import threading

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton

from gui.training import controller as training_controller
from gui.training import window as training_view
from gui.training.window import ask_stop_training, stop_training_box
from tests.gui.conftest import open_window, wait_for_model, wait_idle
from tests.gui.dialogs import answer_next_dialog
from tests.image_corpus import write_truncated
from tests.training_data import TEXTURES, make_texture_dataset

RUN_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def textures(tmp_path_factory):
    return make_texture_dataset(tmp_path_factory.mktemp("gui-textures"), 12, 4)


def _finished(qtbot, view) -> None:
    qtbot.waitUntil(
        lambda: not view.is_listing() and not view.is_training() and not view.controller.has_jobs(),
        timeout=RUN_TIMEOUT_MS,
    )


def hold(worker):
    """Keep the worker busy until the returned event is set: jobs submitted meanwhile wait."""
    started, release = threading.Event(), threading.Event()

    def run(ctx):
        started.set()
        while not release.wait(0.01):
            ctx.cancel.raise_if_cancelled()  # closing the window ends it too

    worker.submit("hold", run, model_bound=False)
    assert started.wait(10)
    return release


def drop_folder(widget, folder) -> QDragEnterEvent:
    """A real drag-enter and drop of a folder URL, as a file manager sends them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    args = (
        QPoint(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(*args)
    QApplication.sendEvent(widget, enter)
    if enter.isAccepted():
        QApplication.sendEvent(widget, QDropEvent(*args))
    return enter


def _small_run(view, textures, epochs=4, input_size=64) -> None:
    view.set_dataset(str(textures.train_dir))
    view.settings.val_dir_edit.setText(str(textures.val_dir))
    view.settings.input_size.setValue(input_size)
    view.settings.epochs.setValue(epochs)
    view.settings.lr.setValue(0.003)
    view.settings.patience.setValue(0)


def test_dropping_a_folder_lists_classes_warnings_and_unreadable_images(
    qtbot, view, textures, tmp_path
):
    data = tmp_path / "data"
    shutil.copytree(textures.train_dir, data)
    write_truncated(data / "grass" / "broken.jpg")
    (data / "empty").mkdir()
    release = hold(view.worker)  # the check of the images waits: the listing shows first
    try:
        with qtbot.waitSignal(view.dataset_listed, timeout=RUN_TIMEOUT_MS):
            assert drop_folder(view, data).isAccepted()
            assert view.settings.folder_edit.text() == str(data)
            assert view.settings.dataset_status.text() == "Scanning…"
        rows = {
            view.settings.class_table.item(r, 0).text(): view.settings.class_table.item(r, 1).text()
            for r in range(view.settings.class_table.rowCount())
        }
        assert rows == {"brick": "12", "empty": "0", "grass": "13", "gravel": "12"}
        assert "Checking the images…" in view.settings.dataset_status.text()
    finally:
        release.set()
    _finished(qtbot, view)  # the images are checked on the worker
    rows = {
        view.settings.class_table.item(r, 0).text(): view.settings.class_table.item(r, 1).text()
        for r in range(view.settings.class_table.rowCount())
    }
    assert rows["grass"] == "12"
    assert (
        view.settings.unreadable_list.count() == 1
        and "broken.jpg" in view.settings.unreadable_list.item(0).text()
    )
    status = view.settings.dataset_status.text()
    assert "'empty' has no images" in status and "1 unreadable image(s)" in status


def test_a_folder_without_classes_says_why(qtbot, view, tmp_path):
    view.set_dataset(str(tmp_path))
    view.start()  # before the listing has answered
    assert "Wait until the folder is scanned" in view.progress_label.text()
    qtbot.waitUntil(lambda: not view.is_listing())
    assert "has no subfolders" in view.settings.dataset_status.text()
    view.start()
    assert "Choose a dataset folder first" in view.progress_label.text()


def test_folders_are_listed_off_the_gui_thread(qtbot, view, textures, monkeypatch):
    threads = []
    scan = training_controller.scan_dataset

    def recording_scan(*args, **kwargs):
        threads.append(threading.current_thread())
        return scan(*args, **kwargs)

    monkeypatch.setattr(training_controller, "scan_dataset", recording_scan)
    release = hold(view.worker)  # a busy worker does not delay the listing
    try:
        with qtbot.waitSignal(view.dataset_listed, timeout=RUN_TIMEOUT_MS):
            view.set_dataset(str(textures.train_dir))
        assert view.settings.class_table.rowCount() == 3
        assert threads and threading.main_thread() not in threads
    finally:
        release.set()
    _finished(qtbot, view)


def test_only_the_latest_folder_is_shown(qtbot, view, textures, tmp_path):
    view.set_dataset(str(tmp_path))  # no classes: its answer must not win
    with qtbot.waitSignal(view.dataset_listed, timeout=RUN_TIMEOUT_MS) as listed:
        view.set_dataset(str(textures.train_dir))
    assert listed.args == [str(textures.train_dir)]
    _finished(qtbot, view)
    assert view.settings.folder_edit.text() == str(textures.train_dir)
    assert "has no subfolders" not in view.settings.dataset_status.text()


def test_closing_during_a_run_asks_before_stopping_it(qtbot, view, textures, monkeypatch):
    answers = []
    monkeypatch.setattr(training_view, "ask_stop_training", lambda parent: answers.pop(0))
    _small_run(view, textures)
    _finished(qtbot, view)
    release = hold(view.worker)  # the run stays queued behind it: deterministically running
    try:
        view.start()
        (run,) = view.worker.pending("train")
        answers.append(False)  # Keep training
        assert not view.close()
        assert view.isVisible() and view.is_training() and answers == []
        answers.append(True)  # Stop and close
        assert view.close()
        assert not view.isVisible() and answers == []
        assert run.state == "cancelled"
    finally:
        release.set()
    _finished(qtbot, view)
    assert view.result is None


def test_closing_the_main_window_during_a_run_asks_too(qtbot, textures, monkeypatch):
    window = open_window(qtbot)
    window.actions["train"].trigger()
    view = window.training_window
    answers = []
    monkeypatch.setattr(training_view, "ask_stop_training", lambda parent: answers.pop(0))
    _small_run(view, textures)
    _finished(qtbot, view)
    release = hold(view.worker)
    try:
        view.start()
        answers.append(False)  # Keep training: nothing closes
        assert not window.close()
        assert window.isVisible() and view.isVisible() and view.is_training()
        answers.append(True)  # Stop and close: both windows, and the worker, end
        assert window.close()
        assert not view.isVisible() and answers == []
    finally:
        release.set()
    assert window.worker_stopped


def test_closing_without_a_run_does_not_ask(view, monkeypatch):
    monkeypatch.setattr(training_view, "ask_stop_training", lambda parent: pytest.fail("asked"))
    assert view.close()


def test_the_question_offers_stop_and_close_and_defaults_to_keep_training(qtbot, view):
    box = stop_training_box(view)
    qtbot.addWidget(box)
    assert sorted(b.text() for b in box.buttons()) == ["Keep training", "Stop and close"]
    assert box.defaultButton().text() == box.escapeButton().text() == "Keep training"

    def answer(name):
        box = QApplication.activeModalWidget()
        buttons = {b.text(): b for b in box.findChildren(QPushButton)}
        buttons[name].click()

    QTimer.singleShot(0, lambda: answer("Keep training"))
    assert ask_stop_training(view) is False
    QTimer.singleShot(0, lambda: answer("Stop and close"))
    assert ask_stop_training(view) is True


def test_bad_options_are_reported_without_starting(qtbot, view, textures):
    _small_run(view, textures)
    _finished(qtbot, view)
    view.settings.freeze_combo.setCurrentIndex(2)  # up to a layer, but none named
    view.settings.two_stage.setChecked(True)
    view.start()
    assert not view.is_training()
    assert "--freeze must be all, none or up-to:LAYER" in view.progress_label.text()


def test_train_watch_curves_evaluate_save_and_export(qtbot, view, textures, tmp_path, monkeypatch):
    _small_run(view, textures, epochs=5)
    _finished(qtbot, view)
    with qtbot.waitSignal(
        view.worker.job_finished,
        timeout=RUN_TIMEOUT_MS,
        check_params_cb=lambda job, r: job.kind == "train",
    ):
        view.start()
        assert view.is_training() and not view.start_button.isEnabled()
    epochs, losses = view.curves.points("loss")
    assert list(epochs) == list(range(1, len(epochs) + 1)) and len(epochs) == 5
    assert losses[-1] < losses[0]
    assert len(view.curves.points("val_accuracy")[1]) == 5
    result = view.result
    assert result is not None and not result.cancelled
    assert f"{result.evaluation.accuracy:.1%}" in view.results.summary.text()
    assert (view.results.confusion.matrix == result.evaluation.confusion).all()
    assert view.results.confusion.cell_texts() == [
        str(n) for n in result.evaluation.confusion.ravel()
    ]
    assert [view.results.metrics_table.item(r, 0).text() for r in range(3)] == list(TEXTURES)
    assert view.results.misclassified_list.count() == len(result.evaluation.misclassified)

    target = tmp_path / "textures"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(view.model_saved, timeout=RUN_TIMEOUT_MS) as saved:
        view.save_button.click()
    assert saved.args == [str(target) + ".keras"] and (tmp_path / "textures.keras").is_file()
    assert view.open_button.isEnabled()
    view.export_tflite()  # the dialog answers "textures" again: .tflite is appended
    _finished(qtbot, view)
    assert (tmp_path / "textures.tflite").is_file()
    assert (tmp_path / "textures_labels.txt").read_text().split() == list(TEXTURES)


def test_stop_keeps_the_best_epoch_so_far(qtbot, view, textures):
    _small_run(view, textures, epochs=50, input_size=64)
    view.settings.augment_boxes["flip"].setChecked(True)  # trains on images: seconds per epoch
    _finished(qtbot, view)
    view.start()
    qtbot.waitUntil(lambda: len(view.curves.points("loss")[0]) >= 1, timeout=RUN_TIMEOUT_MS)
    assert view.stop_button.isEnabled()
    view.stop_button.click()
    _finished(qtbot, view)
    result = view.result
    assert result is not None and result.cancelled
    assert 1 <= len(result.history) < 50
    assert "Stopped" in view.progress_label.text()
    assert view.save_button.isEnabled()


def test_from_the_main_window_train_save_reopen_and_open_a_mistake(
    qtbot, textures, tmp_path, monkeypatch
):
    window = open_window(qtbot)
    window.actions["train"].trigger()
    view = window.training_window
    assert view.isVisible() and view.worker is window.session.worker
    _small_run(view, textures, epochs=2)
    view.settings.weights_combo.setCurrentIndex(1)  # a random base: plenty of mistakes to click
    _finished(qtbot, view)
    view.start()
    _finished(qtbot, view)
    assert view.results.misclassified_list.count() > 0
    # A click on a mistake opens it in the main window, says what the classifier answered
    # and offers to switch the main window to that classifier (asked once per run).
    mistakes = view.results.misclassified_list
    view.results.tabs.setCurrentWidget(mistakes)
    item = mistakes.item(0)
    path = item.data(Qt.ItemDataRole.UserRole)
    wrong = view.result.evaluation.misclassified[0]
    answer = answer_next_dialog("Use the trained classifier")
    qtbot.mouseClick(
        mistakes.viewport(),
        Qt.MouseButton.LeftButton,
        pos=mistakes.visualItemRect(item).center(),
    )
    assert answer.done() and answer.seen[0]["title"] == "Use the trained classifier?"
    assert window.image_pane.current_path() == path
    assert f"for {wrong.predicted_label}" in window.statusBar().currentMessage()
    wait_for_model(qtbot, window, name=view.result.loaded.name)
    wait_idle(window)
    qtbot.waitUntil(lambda: bool(window.top5.labels()))
    assert window.top5.labels()[0].label == wrong.predicted_label  # its answer, not ImageNet's
    assert window.settings.last_model != window.session.model.key  # not loadable next time
    if mistakes.count() > 1:  # asked once: a second mistake opens without a question
        second = mistakes.item(1)
        qtbot.mouseClick(
            mistakes.viewport(),
            Qt.MouseButton.LeftButton,
            pos=mistakes.visualItemRect(second).center(),
        )
        assert window.image_pane.current_path() == second.data(Qt.ItemDataRole.UserRole)
        assert len(answer.seen) == 1

    target = tmp_path / "random.keras"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    view.save_button.click()
    _finished(qtbot, view)
    assert str(target) in window.model_selector.keys()
    assert window.settings.recent_models[0] == str(target)
    view.open_button.click()
    wait_for_model(qtbot, window, name="random.keras")
    wait_idle(window)
    model = window.session.model
    assert (model.class_count, model.preprocess, model.input_size) == (3, "none", (64, 64))
    assert "efficientnet_lite0" in [node["name"] for node in model.layers]  # nested base
    entry = window.session.current_entry()
    assert entry is not None and entry.labels and entry.labels[0].label in TEXTURES


def test_layers_ticked_in_the_layer_tree_are_the_ones_trained(qtbot, view, textures):
    _small_run(view, textures, epochs=1)
    _finished(qtbot, view)
    view.settings.freeze_combo.setCurrentIndex(view.settings.freeze_combo.findData("choose"))
    _finished(qtbot, view)  # the base's layers come from the worker
    assert view.results.tabs.currentWidget() is view.base_layers_page
    assert view.layer_tree.isVisible() and not view.base_layers_hint.isVisible()
    state = view.layer_tree.trainable_state()
    assert len(state) > 100 and not any(state.values())  # a frozen base to start from
    view.layer_tree.set_trainable_state({"top_conv": True})  # as a ticked checkbox does
    view.start()
    _finished(qtbot, view)
    result = view.result
    assert result.config.trainable_layers == ("top_conv",)
    assert not result.fast_path  # a layer of the base trains: the images go through it
    base = result.loaded.model.get_layer("efficientnet_lite0")
    assert [w.path for w in base.trainable_weights] == ["top_conv/kernel"]
