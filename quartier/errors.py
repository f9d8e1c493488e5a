"""One base for every error Quartier raises on purpose.

Each carries a German message meant for the person at the screen or the command line. The UI catches
``QuartierError`` and shows the message; the CLI turns it into exit code 2 unless a command says otherwise.
Programming errors (``TypeError``, ``KeyError`` …) are not ``QuartierError`` and are never shown as a user
message.
"""

from __future__ import annotations


class QuartierError(Exception):
    """An expected failure with a German message for the user."""


class InputError(QuartierError, ValueError):
    """A value given by the user (a file, an option, a form field) cannot be used."""
