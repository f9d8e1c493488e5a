"""Roles and their enforcement in the core. Every write function takes an ``Actor`` and calls ``require``."""

from __future__ import annotations

from dataclasses import dataclass

from quartier.errors import QuartierError

VIEWER, EDITOR, ADMIN = "Betrachtung", "Bearbeitung", "Administration"
ROLES = (VIEWER, EDITOR, ADMIN)
_RANK = {VIEWER: 0, EDITOR: 1, ADMIN: 2}


class PermissionDenied(QuartierError):
    """The caller's role does not allow this action (German message)."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str = VIEWER
    raw_data: bool = False  # may see values below the small-number threshold

    @property
    def can_see_raw(self) -> bool:
        return self.raw_data or self.role in (EDITOR, ADMIN)

    def has(self, role: str) -> bool:
        return _RANK.get(self.role, -1) >= _RANK[role]


# Named actors for work nobody in particular is looking at. Every function that returns values takes a required
# keyword ``actor``: pass SYSTEM where the raw values are meant (imports, computations stored for staff, the CLI's
# internal work) and PUBLIC where the result may reach anyone (the protected view). ``None`` means nothing.
SYSTEM = Actor("system", ADMIN, raw_data=True)
PUBLIC = Actor("öffentlich", VIEWER, raw_data=False)


def require(actor: Actor | None, role: str, action: str = "diese Aktion") -> Actor:
    """Raise PermissionDenied unless ``actor`` has at least ``role``."""
    if actor is None or not isinstance(actor, Actor) or not actor.has(role):
        who = getattr(actor, "name", "unbekannt")
        raise PermissionDenied(f"{who} darf {action} nicht ausführen: dafür ist die Rolle „{role}“ nötig.")
    return actor


def cli_actor(user: str) -> Actor:
    """Whoever runs the command line has file access to the database: administrator rights."""
    return Actor(user, ADMIN, raw_data=True)
