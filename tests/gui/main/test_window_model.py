"""Choosing models: switching while a batch runs, bad files, questions, and what is remembered."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from core.models.zoo import BUILTIN_NAME
from core.ops.load import LoadModelRequest
from gui.app.settings import Settings
from gui.main import model_dialogs
from gui.main.chunk_sizes import SMALLEST
from gui.main.session import INTERACTIVE_PRIORITY
from gui.widgets.image_list import DONE
from tests.gui.conftest import WORKER_THREAD, open_window, wait_for_model, wait_idle

IMAGENET_CATS = {"tiger_cat", "Egyptian_cat", "tabby", "lynx", "Persian_cat"}


def message_boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def close_message_boxes() -> None:
    for box in message_boxes():
        box.close()


def test_first_start_selects_the_built_in_model(window):
    assert window.session.model.name == BUILTIN_NAME
    assert window.model_selector.current_key() == BUILTIN_NAME
    assert window.windowTitle() == f"ConvLens — {BUILTIN_NAME}"
    assert window.session.model.layers  # the layer tree has something to show


def hold_after_first_result(worker):
    """Hold the worker once the job it runs has streamed its first result: a gate job, queued
    ahead of the rest from the worker thread itself, waits until the test releases it."""
    held, release = threading.Event(), threading.Event()

    def gate(ctx):
        held.set()
        release.wait(120)  # a safety net; the test releases it

    def on_partial_result(job, payloads):  # on the worker thread, between two batches
        if job.kind != "gate" and not held.is_set() and not gate_jobs:
            gate_jobs.append(
                worker.submit("gate", gate, model_bound=False, priority=INTERACTIVE_PRIORITY)
            )

    gate_jobs = []
    worker.partial_result.connect(on_partial_result, Qt.ConnectionType.DirectConnection)
    return held, release


def test_esc_while_other_work_holds_the_worker_reports_the_cancelled_batch_once(
    window, many_photos, qtbot, tmp_path
):
    """All of the batch's jobs were still queued behind other work (a Grad-CAM, a layer):
    the cancel was reported, then "Classified 0 images" replaced it."""
    photos = [str(p) for p in many_photos]
    for copy in range(2):  # more photos than the jobs handed to the worker at a time hold
        photos += [str(shutil.copy(p, tmp_path / f"{copy}_{Path(p).name}")) for p in many_photos]
    said = []
    window.session.task_done.connect(lambda key, text: key == "classify" and said.append(text))
    held, release = hold_after_first_result(window.session.worker)
    try:
        window.add_images(photos)
        assert held.wait(60)
        qtbot.waitUntil(lambda: len(window.session.images.paths([DONE])) == SMALLEST)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    finally:
        release.set()
    wait_idle(window)

    total = len(photos)
    assert said == [f"Classification cancelled: {SMALLEST} of {total} images classified"]
    assert window.task_status.text() == said[-1]


def test_switching_model_while_a_batch_runs_leaves_no_stale_result(
    window, many_photos, small_classifier, qtbot
):
    held, release = hold_after_first_result(window.session.worker)
    try:
        window.add_images([str(p) for p in many_photos])
        # The batch gets going with the ImageNet model: one chunk, then the worker is held
        # with the rest still queued, and the user switches model.
        assert held.wait(60)
        qtbot.waitUntil(lambda: len(window.session.images.paths([DONE])) == SMALLEST)
        assert SMALLEST < len(many_photos)  # a batch's first job is the smallest
        window.load_model(LoadModelRequest(str(small_classifier)))
    finally:
        release.set()
    wait_for_model(qtbot, window, "fruit.keras")
    wait_idle(window)

    entries = window.session.images.entries()
    assert all(e.state == DONE for e in entries)
    # Every image shows the new model's classes; none kept an ImageNet label.
    assert {label.label for e in entries for label in e.labels} <= {"apple", "banana", "cherry"}
    window.image_pane.select_path(entries[0].path)
    assert "fruit.keras" in window.top5.text()


def test_a_bad_model_file_keeps_the_previous_model(window, photos, tmp_path, qtbot):
    window.add_images([str(photos["chelsea"])])
    wait_idle(window)
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"this is not a zip archive")
    window.load_model(LoadModelRequest(str(bad)))
    qtbot.waitUntil(lambda: bool(message_boxes()), timeout=60_000)
    (box,) = message_boxes()
    assert "broken.keras" in box.text() and box.detailedText()  # "Details": the traceback
    close_message_boxes()
    wait_idle(window)
    assert window.session.model.name == BUILTIN_NAME
    assert window.model_selector.current_key() == BUILTIN_NAME
    entry = window.session.images.entry(str(photos["chelsea"]))
    assert entry.state == DONE and entry.labels[0].label in IMAGENET_CATS
    assert Settings().last_model == BUILTIN_NAME


def test_unavailable_weights_offer_random_weights(window, monkeypatch, qtbot):
    asked = []

    def answer(parent, name, error):
        asked.append((name, error.filename))
        return model_dialogs.RANDOM

    monkeypatch.setattr(model_dialogs, "ask_weights_action", answer)
    window.load_model(LoadModelRequest("MobileNet"))
    wait_for_model(qtbot, window, "MobileNet")
    assert asked == [("MobileNet", "mobilenet_1_0_224_tf.h5")]
    assert window.session.model.weights == "random"
    assert window.model_selector.current_key() == "MobileNet"


def test_declining_the_weights_question_keeps_the_model(window, monkeypatch, qtbot):
    monkeypatch.setattr(model_dialogs, "ask_weights_action", lambda *a: None)
    window.load_model(LoadModelRequest("MobileNet"))
    qtbot.waitUntil(lambda: not window.session.is_loading(), timeout=60_000)
    wait_idle(window)
    assert window.session.model.name == BUILTIN_NAME
    assert window.model_selector.current_key() == BUILTIN_NAME


def test_a_model_of_unknown_preprocessing_asks_for_it(window, tmp_path, monkeypatch, qtbot):
    import keras

    path = tmp_path / "mystery.keras"
    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x)).save(path)
    questions = []

    def choose(parent, name, message):
        questions.append(name)
        return "torch"

    monkeypatch.setattr(model_dialogs, "ask_preprocessing", choose)
    window.load_model(LoadModelRequest(str(path)))
    wait_for_model(qtbot, window, "mystery.keras")
    assert questions == ["mystery.keras"]
    assert window.session.model.preprocess == "torch"


def test_settings_restore_the_last_model_and_recent_files(qtbot, small_classifier):
    first = open_window(qtbot)
    first.load_model(LoadModelRequest(str(small_classifier)))
    wait_for_model(qtbot, first, "fruit.keras")
    first.resize(790, 520)  # not the first-start size, so restoring it is what is tested
    expected = (first.width(), first.height())
    first.close()

    second = open_window(qtbot)
    assert second.session.model.name == "fruit.keras"
    assert second.model_selector.current_key() == str(small_classifier)
    assert str(small_classifier) in second.model_selector.keys()
    assert (second.width(), second.height()) == expected
    assert expected[1] == 520  # not the first-start default


def test_closing_while_busy_ends_the_worker(qtbot, many_photos):
    window = open_window(qtbot)
    window.add_images([str(p) for p in many_photos])
    qtbot.waitUntil(lambda: window.task_status.is_busy("classify"))
    thread = next(t for t in threading.enumerate() if t.name == WORKER_THREAD)
    window.close()
    assert window.worker_stopped  # the worker ended within the close's timeout
    assert not thread.is_alive()


def test_cancelling_a_load_keeps_the_model(window, small_classifier, qtbot):
    window.load_model(LoadModelRequest(str(small_classifier)))
    assert window.task_status.text() == "Loading fruit.keras…"
    window.task_status.cancel_current()
    qtbot.waitUntil(lambda: not window.session.is_loading())
    wait_idle(window)
    assert window.session.model.name == BUILTIN_NAME
    assert window.model_selector.current_key() == BUILTIN_NAME
    assert window.task_status.text() == "Loading fruit.keras cancelled"


def test_a_model_with_code_asks_for_trust(window, tmp_path, monkeypatch, qtbot):
    import keras

    path = tmp_path / "lambda.keras"
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t / 255.0, name="scale")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x)).save(path)
    asked = []
    monkeypatch.setattr(model_dialogs, "ask_trust", lambda parent, text: asked.append(text) or True)
    monkeypatch.setattr(model_dialogs, "ask_preprocessing", lambda *a: "none")
    window.load_model(LoadModelRequest(str(path)))
    wait_for_model(qtbot, window, "lambda.keras")
    assert asked and "Lambda" in asked[0]


def test_a_missing_last_model_falls_back_to_the_built_in_model(qtbot, tmp_path):
    settings = Settings()
    settings.last_model = str(tmp_path / "gone.keras")
    settings.sync()
    window = open_window(qtbot, start=False)
    window.start()
    wait_for_model(qtbot, window, BUILTIN_NAME)
    assert any("gone.keras" in box.text() for box in message_boxes())
    close_message_boxes()


def test_open_images_from_the_file_menu(window, photos, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    chosen = [str(photos["coffee"]), str(photos["chelsea"])]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (chosen, ""))
    window.actions["open_images"].trigger()
    assert window.session.images.paths() == chosen
    wait_idle(window)
    assert Settings().recent_image_dirs == [str(photos["coffee"].parent)]


def test_choosing_another_model_while_the_first_loads(qtbot, small_classifier):
    window = open_window(qtbot, start=False)
    window.start()  # the built-in model starts loading…
    window.load_model(LoadModelRequest(str(small_classifier)))  # …and the user picks another
    wait_for_model(qtbot, window, "fruit.keras")
    wait_idle(window)
    assert window.session.model.name == "fruit.keras"
    assert window.model_selector.current_key() == str(small_classifier)
    assert message_boxes() == []
