"""ActivationView.export_png as a user meets it on disk: permissions and unwritable folders."""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import pytest

from core.errors import ConvLensError
from gui.widgets.activation_view import ActivationView


@pytest.fixture
def view(qtbot):
    widget = ActivationView()
    qtbot.addWidget(widget)
    widget.show_activations("conv", np.random.default_rng(0).random((8, 8, 16), np.float32))
    return widget


def test_the_png_gets_the_usual_permissions(tmp_path, view):
    old = os.umask(0o022)
    try:
        view.export_png(tmp_path / "grid.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "grid.png").stat().st_mode) == 0o644  # not mkstemp's 0o600


def test_an_unwritable_folder_is_a_clear_error_and_leaves_nothing(tmp_path, view, monkeypatch):
    # Tests run as root, which a chmod'ed folder would not stop: fail the rename instead.
    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ConvLensError) as caught:
        view.export_png(tmp_path / "grid.png")
    assert str(caught.value) == (
        f"Could not write {tmp_path / 'grid.png'}: Permission denied; "
        f"you may not write in {tmp_path}: choose another folder."
    )
    assert os.listdir(tmp_path) == []
