"""OIDC with the example secrets from secrets.toml.example must not start (issue 20: placeholder cookie_secret).

Anyone can read the example's cookie_secret, so a login cookie signed with it can be forged: the login page shows
a German error naming what to fix, offers no st.login button, and a (forged) logged-in st.user is not trusted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from quartier.ui.session import ACTOR_KEY

APP = Path(__file__).resolve().parents[2] / "app.py"
GOOD = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "k3" * 20, "client_id": "quartier",
        "client_secret": "ein-echtes-geheimnis", "server_metadata_url": "https://login.stadt.example/.well-known/openid-configuration"}
ROLES = {"claim": "groups", "map": {"jhp-planung": "Bearbeitung"}, "users": {"chefin@stadt.example": "Administration"}}


def _app(auth: dict, user: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = auth
    at.secrets["quartier_roles"] = ROLES
    at.user = user
    at.run()
    return at


@pytest.mark.parametrize(("changed", "named"), [
    ({"cookie_secret": "HIER-ZUFAELLIGES-GEHEIMNIS-EINTRAGEN"}, "cookie_secret"),
    ({"client_secret": "HIER-CLIENT-SECRET-DES-ANBIETERS-EINTRAGEN"}, "client_secret"),
    ({"cookie_secret": "kurz"}, "cookie_secret"),
])
def test_placeholder_secret_stops_oidc_with_a_german_error(app_db, changed, named):
    at = _app({**GOOD, **changed}, {"is_logged_in": False})
    assert not at.exception
    assert not [b for b in at.button if "anmelden" in b.label.lower()], "no login button with a placeholder secret"
    errors = "\n".join(e.value for e in at.error)
    assert named in errors and "secrets.toml" in errors and "nicht gestartet" in errors


def test_forged_login_with_placeholder_secret_is_not_trusted(app_db):
    at = _app({**GOOD, "cookie_secret": "HIER-ZUFAELLIGES-GEHEIMNIS-EINTRAGEN"},
              {"is_logged_in": True, "email": "chefin@stadt.example", "groups": []})
    assert not at.exception
    assert ACTOR_KEY not in at.session_state
    assert not at.metric and at.title[0].value == "Anmeldung"


def test_real_secrets_still_offer_the_login_button(app_db):
    at = _app(GOOD, {"is_logged_in": False})
    assert not at.exception and not at.error
    assert [b.label for b in at.button] == ["Mit dem städtischen Konto anmelden"]
