"""Start-up check: core, gui and resources must be ConvLens' own, not another package's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui.app.install_check import ADVICE, problems

ROOT = Path(__file__).resolve().parents[3]  # the folder holding core/, gui/, resources/


def fake_distribution(site: Path, name: str, packages: list[str], top_level: bool = True) -> Path:
    """An installed distribution `name` in site that provides top-level `packages`."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    record = []
    for package in packages:
        (site / package).mkdir()
        (site / package / "__init__.py").write_text("# not ConvLens\n")
        record.append(f"{package}/__init__.py,,")
    if top_level:
        (info / "top_level.txt").write_text("\n".join(packages) + "\n")
    else:  # as wheels built by hatchling or flit: RECORD only
        (info / "RECORD").write_text("\n".join(record) + "\n")
    return site


def test_convlens_own_packages_pass():
    assert problems() == []
    assert problems([str(ROOT)]) == []


def test_a_shadowing_package_is_named_and_stops_start_up(tmp_path):
    site = fake_distribution(tmp_path / "site", "fancy-resources", ["resources"])
    [problem] = problems([str(site), str(ROOT)])
    assert problem.fatal
    assert problem.message == (
        f"The package 'resources' Python finds, {(site / 'resources').resolve()} (installed by "
        f"fancy-resources), is not ConvLens' own: another installed package has the same name. "
        f"{ADVICE}"
    )


def test_another_distribution_claiming_a_name_is_a_warning(tmp_path):
    site = fake_distribution(tmp_path / "site", "helpers", ["gui"], top_level=False)
    (site / "gui" / "__init__.py").unlink()
    (site / "gui").rmdir()  # its files were overwritten by ours, or the other way round
    [problem] = problems([str(ROOT), str(site)])
    assert not problem.fatal
    assert problem.message.startswith("helpers also installs a top-level 'gui' package")
    assert "pipx install" in problem.message and ".venv" in problem.message


def test_the_convlens_command_refuses_to_run_someone_elses_core(tmp_path):
    site = fake_distribution(tmp_path / "site", "core-utils", ["core"])
    command = Path(sys.executable).with_name("convlens")  # the installed console command
    done = subprocess.run(
        [str(command), "models"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},  # the other package comes first
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(
        f"convlens: error: The package 'core' Python finds, {(site / 'core').resolve()} "
        "(installed by core-utils), is not ConvLens' own"
    )
    assert done.stdout == ""
