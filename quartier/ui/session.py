"""Who is using the app. Until login lands (access-control issue) everyone is a local administrator."""

from __future__ import annotations

import streamlit as st

from quartier.access import ADMIN, Actor

ACTOR_KEY = "quartier_actor"


def current_actor() -> Actor:
    actor = st.session_state.get(ACTOR_KEY)
    if isinstance(actor, Actor):
        return actor
    return Actor("lokal", ADMIN, raw_data=True)
