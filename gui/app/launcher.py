"""The ``convlens`` console command: the window with no arguments, else the command line.

Only the standard library is imported here, so the window path never pays for TensorFlow.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from gui.app.install_check import problems

    found = problems()  # another package called core, gui or resources in the way?
    for problem in found:
        print(
            f"convlens: {'error' if problem.fatal else 'warning'}: {problem.message}",
            file=sys.stderr,
        )
    if any(problem.fatal for problem in found):
        return 1
    if not argv:
        from gui.app import system_check

        if system_check.main() != 0:  # no screen or no Qt X11 libraries: say what to install
            return 1
        from gui.app.application import main as run_window

        return run_window(notices=[problem.message for problem in found])
    from core.cli.main import main as run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
