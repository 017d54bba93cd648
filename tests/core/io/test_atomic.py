"""core.io.atomic: files appear complete or not at all, with the user's usual permissions."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from core.errors import Cancelled, ConvLensError, ExportError, ModelLoadError
from core.io import atomic
from core.io.atomic import atomic_path


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def refuse_rename_to(monkeypatch, target, error):
    """os.replace fails, as it would in a read-only folder, for this one destination only."""
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.fspath(dst) == os.fspath(target):
            raise error
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_the_file_appears_complete_with_the_usual_permissions(tmp_path, umask_027):
    target = tmp_path / "model.keras"
    with atomic_path(target) as partial:
        assert partial.parent == tmp_path and partial.name.startswith(".model.keras.")
        assert partial.suffix == ".keras"  # for writers that choose the format by the name
        partial.write_bytes(b"done")
        assert not target.exists()
    assert target.read_bytes() == b"done"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # not mkstemp's 0o600
    assert os.listdir(tmp_path) == ["model.keras"]


def test_an_existing_file_is_replaced_only_when_allowed(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("mine")
    with pytest.raises(ExportError, match="choose another name or allow replacing it"):
        with atomic_path(target, overwrite=False) as partial:
            partial.write_text("new")
    assert target.read_text() == "mine"
    with atomic_path(target) as partial:
        partial.write_text("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["out.txt"]


def test_a_file_that_appears_meanwhile_is_not_replaced_without_overwrite(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(ExportError, match="File exists"):
        with atomic_path(target, overwrite=False) as partial:
            partial.write_text("new")
            target.write_text("written by someone else meanwhile")
    assert target.read_text() == "written by someone else meanwhile"
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("failure", [ValueError("bad data"), Cancelled(), KeyboardInterrupt()])
def test_an_error_or_cancel_leaves_the_old_file_and_no_temporary_one(tmp_path, failure):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(type(failure)):
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise failure
    assert os.listdir(tmp_path) == ["out.txt"] and target.read_text() == "old"


def test_a_read_only_folder_is_a_clear_error_with_no_file_left(tmp_path, monkeypatch):
    # Tests run as root, which a chmod'ed folder would not stop: fail the rename instead.
    target = tmp_path / "features.npz"
    refuse_rename_to(monkeypatch, target, OSError(errno.EROFS, "Read-only file system"))
    with pytest.raises(ConvLensError) as caught:
        with atomic_path(target) as partial:
            partial.write_bytes(b"x" * 1000)
    assert str(caught.value) == (
        f"Could not write {target}: Read-only file system; "
        "the folder is read-only: choose another folder."
    )
    assert os.listdir(tmp_path) == []


def test_no_permission_to_create_the_temporary_file(tmp_path, monkeypatch):
    def refuse(destination):
        raise PermissionError(errno.EACCES, "Permission denied", str(destination))

    monkeypatch.setattr(atomic, "_create_partial", refuse)
    ran = []
    with pytest.raises(ModelLoadError, match=f"Permission denied; you may not write in {tmp_path}"):
        with atomic_path(tmp_path / "cache.keras", error=ModelLoadError):
            ran.append(True)
    assert ran == [] and os.listdir(tmp_path) == []


def test_error_none_passes_the_os_error_through(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "missing" / "w.h5", error=None):
            pass


def test_an_unknown_os_error_keeps_its_own_reason(tmp_path):
    with pytest.raises(ExportError, match=r"^Could not write .*out\.txt: Connection reset\.$"):
        with atomic_path(tmp_path / "out.txt"):
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset")
    assert os.listdir(tmp_path) == []
