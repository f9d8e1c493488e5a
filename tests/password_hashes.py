"""Shared by the tests that create accounts or build a city: cheap Argon2id parameters.

The product hashes with the library's recommended Argon2id parameters (about 0.1 s of CPU and 64 MiB per hash,
by design). Tests that are about logins, sessions or a demo build, not about the hash parameters, swap in the
cheapest parameters argon2 allows; the hash is still a real Argon2id hash that verifies. The product's
parameters are asserted in tests/unit/test_auth.py (``test_product_hashes_with_the_strong_parameters``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_CHEAP_DUMMY = CHEAP_HASHER.hash("kein-konto-vorhanden")


@contextlib.contextmanager
def cheap_hashes() -> Iterator[None]:
    """:func:`use_cheap_hashes` for a block (e.g. building a fixture database in a session fixture)."""
    with pytest.MonkeyPatch.context() as mp:
        use_cheap_hashes(mp)
        yield


def use_cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the rest of the test: new hashes and the unknown-account check use cheap Argon2id parameters."""
    from quartier.admin import auth

    monkeypatch.setattr(auth, "_HASHER", CHEAP_HASHER)
    monkeypatch.setattr(auth, "_DUMMY_HASH", _CHEAP_DUMMY)
