"""Survey links: signed, expiring, refusing forgeries; settings and their defaults."""

from __future__ import annotations

import pytest

from plugins.csat import tokens
from plugins.csat.catalog import strings
from plugins.csat.settings import CsatSettings

SECRET = "s3cret"


def test_round_trip() -> None:
    token = tokens.make(SECRET, 42, 2_000_000_000, "abc")
    assert tokens.read(SECRET, token, 1_900_000_000) == tokens.SurveyToken(42, 2_000_000_000, "abc")


@pytest.mark.parametrize("mangle, status", [
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), 403),  # signature changed
    (lambda t: tokens.make("other-secret", 42, 2_000_000_000, "abc"), 403),  # someone else's key
    (lambda t: t.split(".")[0], 400),  # no signature
    (lambda t: "!!!." + t.split(".")[1], 400),  # payload not base64
])
def test_refuses_forged_and_malformed(mangle, status: int) -> None:
    token = mangle(tokens.make(SECRET, 42, 2_000_000_000, "abc"))
    with pytest.raises(tokens.TokenError) as caught:
        tokens.read(SECRET, token, 1_900_000_000)
    assert caught.value.status == status


def test_tampered_ticket_id_is_forged() -> None:
    token = tokens.make(SECRET, 42, 2_000_000_000, "abc")
    other_payload = tokens._b64(b"43.2000000000.abc")
    with pytest.raises(tokens.TokenError) as caught:
        tokens.read(SECRET, other_payload + "." + token.split(".")[1], 1_900_000_000)
    assert caught.value.status == 403


def test_expired() -> None:
    token = tokens.make(SECRET, 42, 1_000, "abc")
    with pytest.raises(tokens.TokenError) as caught:
        tokens.read(SECRET, token, 1_001)
    assert caught.value.status == 410


def test_no_secret_no_links() -> None:
    with pytest.raises(ValueError):
        tokens.make("", 1, 2, "n")


def test_marketplaces_are_off_by_default_with_the_reason() -> None:
    settings = CsatSettings()
    on, reason = settings.channel_enabled("amazon")
    assert not on and "Amazon" in reason
    assert not settings.channel_enabled("ebay")[0]
    assert settings.channel_enabled("email") == (True, None)
    assert CsatSettings(channels={"amazon": True, "email": False}).channel_enabled("amazon") == (True, None)
    assert not CsatSettings(channels={"email": False}).channel_enabled("email")[0]
    with pytest.raises(ValueError):
        CsatSettings(survey="stars")


def test_catalog_covers_the_languages() -> None:
    english = strings("en")
    for lang in ("zh", "de", "es", "fr"):
        local = strings(lang)
        assert set(local) == set(english)
        assert local["thanks"] != english["thanks"]
    assert strings("de-AT")["submit"] == "Senden"
    assert strings("xx")["submit"] == "Send"
