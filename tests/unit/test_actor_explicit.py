"""Who is looking is always explicit: every core function that takes an ``actor`` requires it.

A missing argument must fail loudly (TypeError) instead of silently meaning "raw values" in one place and
"the public" in another. The check walks every public function of the core (quartier outside ui and cli),
so a new function with ``actor=None`` fails here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import quartier
from quartier.access import PUBLIC, SYSTEM

# The value-returning functions users' figures come from: they must exist and require the actor.
VALUE_FUNCTIONS = [
    "quartier.values.indicators.current_values",
    "quartier.values.query.current_raw",
    "quartier.values.protection.protected_table",
    "quartier.values.series.all_values",
    "quartier.values.series.references",
    "quartier.values.series.load_series",
    "quartier.values.series.profile",
    "quartier.values.series.population",
    "quartier.values.overview.headline",
    "quartier.values.exports.values_frame",
    "quartier.areas.corridor.analyse",
    "quartier.areas.corridor.over_years",
]


def _core_functions():
    for info in pkgutil.walk_packages(quartier.__path__, "quartier."):
        if info.name.startswith(("quartier.ui", "quartier.cli", "quartier.__main__")):
            continue
        mod = importlib.import_module(info.name)
        for name, fn in vars(mod).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue
            if "actor" in inspect.signature(fn).parameters:
                yield f"{mod.__name__}.{name}", fn


def _resolve(dotted: str):
    mod, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(mod), name)


def _call_without_actor(fn):
    sig = inspect.signature(fn)
    kwargs = {n: None for n, p in sig.parameters.items()
              if n != "actor" and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    return fn(**kwargs)


CORE = dict(_core_functions())


@pytest.mark.parametrize("dotted", sorted(CORE))
def test_actor_has_no_default(dotted):
    param = inspect.signature(CORE[dotted]).parameters["actor"]
    assert param.default is param.empty, f"{dotted}: actor hat einen Standardwert ({param.default!r})"


@pytest.mark.parametrize("dotted", sorted(set(CORE) | set(VALUE_FUNCTIONS)))
def test_calling_without_actor_is_a_type_error(dotted):
    fn = _resolve(dotted)
    with pytest.raises(TypeError, match="actor"):
        _call_without_actor(fn)


def test_named_actors():
    assert SYSTEM.can_see_raw and not PUBLIC.can_see_raw


def test_value_functions_are_found_by_the_walk():
    assert set(VALUE_FUNCTIONS) <= set(CORE)


def test_viewer_may_not_read_raw_rows(con):
    from quartier.access import PermissionDenied
    from quartier.values import query

    with pytest.raises(PermissionDenied):
        query.current_raw(con, None, None, actor=PUBLIC)
    assert len(query.current_raw(con, ["sgb2_u18"], [2025], actor=SYSTEM)) > 0
