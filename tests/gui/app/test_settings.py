"""Settings persist between runs in the config folder, isolated per test."""

from __future__ import annotations

from gui.app.settings import MAX_RECENT, Settings, settings_file


def test_settings_live_in_the_configured_folder(isolated_settings):
    assert settings_file() == isolated_settings / "settings.ini"


def test_values_survive_a_new_settings_object(tmp_path):
    first = Settings()
    assert first.last_model is None and first.recent_models == []
    first.last_model = "ResNet50"
    first.add_recent_model("/a.keras")
    first.add_recent_model("/b.keras")
    first.add_recent_model("/a.keras")  # used again: moves to the front, no duplicate
    first.last_export_dir = str(tmp_path)
    first.sync()
    second = Settings()
    assert second.last_model == "ResNet50"
    assert second.recent_models == ["/a.keras", "/b.keras"]
    assert second.last_export_dir == str(tmp_path)


def test_recent_lists_are_bounded_and_single_items_read_back_as_lists():
    settings = Settings()
    settings.add_recent_image_dir("/photos")
    settings.sync()
    assert Settings().recent_image_dirs == ["/photos"]
    for i in range(MAX_RECENT + 3):
        settings.add_recent_image_dir(f"/photos/{i}")
    assert len(settings.recent_image_dirs) == MAX_RECENT
    assert settings.last_image_dir == f"/photos/{MAX_RECENT + 2}"
