"""The ``convlens`` console command: the window with no arguments, else the command line.

Only the standard library is imported here, so the window path never pays for TensorFlow.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from gui.app import system_check

        if system_check.main() != 0:  # no screen or no Qt X11 libraries: say what to install
            return 1
        from gui.app.application import main as run_window

        return run_window()
    from core.cli.main import main as run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
