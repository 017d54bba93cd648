"""Is this ConvLens' own code? A start-up check of the three top-level packages.

Standard library only, and outside ``core``: the ``convlens`` launcher runs it before it
imports anything that a package of the same name could have replaced.

The wheel installs top-level ``core``, ``gui`` and ``resources``: generic names that another
distribution may use too. Installed into the same environment, one shadows the other on
``sys.path`` or overwrites its files, and ConvLens then fails in baffling ways. This check
finds each package without importing it, makes sure the three sit side by side and hold
ConvLens' own files, and names any other installed distribution that claims the same names.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from dataclasses import dataclass
from importlib.machinery import PathFinder
from importlib.util import find_spec
from pathlib import Path

DISTRIBUTION = "convlens"
# A file each package of ConvLens has and another package of that name is unlikely to.
MARKERS = {
    "core": "cli/main.py",
    "gui": "app/install_check.py",
    "resources": "imagenet_class_index.json",
}
ADVICE = (
    "Install ConvLens in an environment of its own: 'pipx install convlens' (or 'pipx install "
    ".' in its source folder), or 'make run', which uses the project's .venv."
)


@dataclass(frozen=True)
class Problem:
    message: str
    fatal: bool  # ConvLens would run someone else's code: refuse to start


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _package_dir(name: str, search_path: list[str] | None) -> Path | None:
    # find_spec locates a top-level package without running its __init__; the default
    # lookup also sees editable installs, which add a finder rather than a sys.path entry.
    spec = PathFinder.find_spec(name, search_path) if search_path else find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def other_claimants(search_path: list[str] | None = None) -> dict[str, list[str]]:
    """Installed distributions other than ConvLens that provide a top-level core, gui or
    resources, by package name."""
    found: dict[str, list[str]] = {}
    dists = metadata.distributions(path=search_path) if search_path else metadata.distributions()
    for dist in dists:
        top_level = dist.read_text("top_level.txt")
        if top_level is not None:
            tops = set(top_level.split())
        else:  # wheels built without setuptools: the first folder of each installed file
            record = dist.read_text("RECORD") or ""
            tops = {line.split("/", 1)[0] for line in record.splitlines() if "/" in line}
        claimed = [package for package in MARKERS if package in tops]
        if not claimed:
            continue  # most: their metadata (slow to parse) is never read
        name = dist.metadata["Name"] or "?"
        if _normalise(name) == DISTRIBUTION:
            continue
        for package in claimed:
            if name not in found.setdefault(package, []):
                found[package].append(name)
    return {package: names for package, names in found.items() if names}


def problems(search_path: list[str] | None = None) -> list[Problem]:
    """What is wrong with the installation; empty when ConvLens' packages are its own.

    search_path: where to look instead of sys.path (tests).
    """
    claims = other_claimants(search_path)
    found, dirs = [], {}
    for package, marker in MARKERS.items():
        location = _package_dir(package, search_path)
        dirs[package] = location
        if location is None:
            found.append(Problem(f"ConvLens' package '{package}' cannot be found. {ADVICE}", True))
        elif not (location / marker).is_file():
            owners = claims.get(package)
            owner = f" (installed by {', '.join(owners)})" if owners else ""
            found.append(
                Problem(
                    f"The package '{package}' Python finds, {location}{owner}, is not "
                    f"ConvLens' own: another installed package has the same name. {ADVICE}",
                    True,
                )
            )
    homes = {location.parent for location in dirs.values() if location is not None}
    if not any(problem.fatal for problem in found) and len(homes) > 1:
        where = ", ".join(f"{package} in {location.parent}" for package, location in dirs.items())
        found.append(
            Problem(f"ConvLens' packages come from different places ({where}). {ADVICE}", True)
        )
    for package, owners in claims.items():
        if not any(package in problem.message for problem in found):
            found.append(
                Problem(
                    f"{', '.join(owners)} also install{'s' if len(owners) == 1 else ''} a "
                    f"top-level '{package}' package; in one environment it may overwrite "
                    f"ConvLens' files or be overwritten by them. {ADVICE}",
                    False,
                )
            )
    return found
