"""The command line (``python -m quartier``): one module per group of commands, shared helpers in ``base``."""

from quartier.cli.base import main

__all__ = ["main"]
