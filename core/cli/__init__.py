"""The ``convlens`` command line: one module per command, registered in core.cli.main."""
