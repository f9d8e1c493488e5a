"""Subcommands of ``python -m quartier``; each module has ``register(subparsers, common)``."""
