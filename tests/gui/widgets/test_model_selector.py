"""The model selector: grouped by source, download sizes and cache state, recent files."""

from __future__ import annotations

from core.models.zoo import BUILTIN_NAME, get_spec
from gui.widgets.model_selector import KEY_ROLE, OPEN_FILE, ModelSelector, describe


def entries(selector: ModelSelector) -> list[tuple[str, str | None, bool]]:
    model = selector.model()
    return [
        (
            model.item(row).text().strip(),
            model.item(row).data(KEY_ROLE),
            model.item(row).isSelectable(),
        )
        for row in range(model.rowCount())
    ]


def test_models_are_grouped_by_source(qtbot):
    selector = ModelSelector()
    qtbot.addWidget(selector)
    selector.set_recent(["/models/flowers.keras"])
    rows = entries(selector)
    headers = [text for text, _key, selectable in rows if not selectable and text]
    assert headers == ["Built-in (offline)", "Keras ImageNet", "Recent model files"]
    keys = selector.keys()
    assert keys[0] == BUILTIN_NAME
    assert "ResNet50" in keys and "/models/flowers.keras" in keys
    assert rows[-1][1] == OPEN_FILE  # "Open model file…" comes last


def test_zoo_entries_show_download_size_or_cached(keras_home):
    spec = get_spec("MobileNetV2")
    assert describe(spec).endswith(f"{spec.download_mb} MB download")
    keras_home.mkdir(parents=True)
    (keras_home / spec.weights_file).write_bytes(b"weights")
    assert describe(spec).endswith("weights cached")
    assert "offline" in describe(get_spec(BUILTIN_NAME))


def test_choosing_emits_the_key_and_open_file_asks_for_a_file(qtbot):
    selector = ModelSelector()
    qtbot.addWidget(selector)
    selector.set_current(BUILTIN_NAME)
    chosen, opened = [], []
    selector.model_chosen.connect(chosen.append)
    selector.open_file_requested.connect(lambda: opened.append(True))
    rows = [key for _text, key, _ in entries(selector)]
    selector.activated.emit(rows.index("VGG16"))
    selector.activated.emit(rows.index(OPEN_FILE))
    assert chosen == ["VGG16"] and opened == [True]
    # While the file dialog is open the combo keeps showing the model that was chosen.
    assert selector.current_key() == "VGG16"
    assert selector.currentData(KEY_ROLE) == "VGG16"


def test_an_unknown_current_model_file_is_added_to_the_recent_files(qtbot):
    selector = ModelSelector()
    qtbot.addWidget(selector)
    selector.set_current("/data/mine.keras")
    assert "/data/mine.keras" in selector.keys()
    assert selector.currentText().strip() == "mine.keras"
