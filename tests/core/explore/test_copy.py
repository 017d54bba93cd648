"""Copying a selection of images into a folder: never replacing a file, reporting failures."""

from __future__ import annotations

import pytest

from core.errors import ExportError
from core.ops import OpContext, run_request
from core.ops.copy_images import CopyImagesRequest


def test_copies_keep_existing_files_and_report_missing_ones(album, tmp_path):
    target = tmp_path / "picked"
    target.mkdir()
    (target / "img1.png").write_bytes(b"mine")
    sources = (str(album / "red" / "img1.png"), str(album / "gone.png"))
    reports = []
    ctx = OpContext(progress=lambda d, t, m: reports.append((d, t)))
    result = run_request(None, CopyImagesRequest(sources, str(target)), ctx)
    assert [p.split("/")[-1] for p in result.copied] == ["img1 (2).png"]
    assert (target / "img1.png").read_bytes() == b"mine"
    assert (target / "img1 (2).png").read_bytes() == (album / "red" / "img1.png").read_bytes()
    assert [source for source, _ in result.failed] == [str(album / "gone.png")]
    assert reports[-1] == (2, 2)


def test_a_missing_folder_is_a_clear_error(album, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        run_request(None, CopyImagesRequest((str(album),), str(tmp_path / "nowhere")))
