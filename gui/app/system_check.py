"""Before opening a window: is there a screen, and are Qt's X11 (xcb) libraries installed?

Minimal Linux installs lack them; Qt then aborts with a cryptic "could not load the Qt
platform plugin xcb". This check names what is missing and how to install it.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# Library name (for find_library) -> Debian/Ubuntu package.
XCB_LIBRARIES = {
    "xcb-icccm": "libxcb-icccm4",
    "xcb-image": "libxcb-image0",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-xkb": "libxcb-xkb1",
    "xcb-shape": "libxcb-shape0",
    "xcb-xinerama": "libxcb-xinerama0",
    "xcb-randr": "libxcb-randr0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-cursor": "libxcb-cursor0",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
}


def missing_packages() -> list[str]:
    return [
        package
        for library, package in XCB_LIBRARIES.items()
        if ctypes.util.find_library(library) is None
    ]


def problems() -> list[str]:
    """Human-readable reasons the window cannot open; empty when all is well."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM", "").startswith(
        ("offscreen", "wayland")
    ):
        return []
    found = []
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        found.append(
            "No screen: DISPLAY is not set. Run ConvLens in a desktop session, or on a headless "
            "machine start a virtual screen: sudo apt-get install xvfb, then xvfb-run make run."
        )
    missing = missing_packages()
    if missing:
        found.append(
            "Qt's X11 libraries are missing. Install them with:\n"
            f"    sudo apt-get install {' '.join(missing)}"
        )
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"convlens: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
