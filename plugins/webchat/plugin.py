"""The webchat channel: a contact widget on any store page. Messages arrive through its own routes
(routes.py), replies go out through send_message: they are stored, the visitor's event stream
shows them; a visitor who has left gets them by email when they gave an address."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from pluggy import HookimplMarker

from core.plugin_api import ChannelLimits, ChannelType, SendResult

hookimpl = HookimplMarker("relaydesk")
CHANNEL = "webchat"
MIGRATIONS = str(Path(__file__).parent / "migrations")
_desk = None


@hookimpl
def register_channels(register):
    from plugins.webchat.settings import WebchatSettings

    register(ChannelType(name=CHANNEL, label="Web chat", account_settings=WebchatSettings,
                         limits=ChannelLimits(max_text_length=5000, max_attachments=0)))


@hookimpl
def register_migrations(register):
    register("webchat", MIGRATIONS)


@hookimpl
def register_routes(register):
    from plugins.webchat.routes import ROUTES

    for route in ROUTES:
        register(route)


@hookimpl
def startup(desk):
    global _desk
    _desk = desk


@hookimpl
def shutdown(desk):
    from plugins.webchat.stats import flush

    return flush()


@hookimpl(optionalhook=True)  # the reports' hook (report_figures); harmless on a desk without it
def report_figures(start, end):
    from plugins.webchat.stats import report_figures as figures

    return figures(start, end)


@hookimpl
def send_message(channel_type, account, message):
    if channel_type != CHANNEL:
        return None
    return _deliver(account, message)


async def _deliver(account, message) -> SendResult:
    """The reply is already in the conversation the widget streams; if the visitor is away (their
    stream has not been seen for away_seconds) and left an email, it goes there too."""
    from core.plugin_api import desk_mail
    from plugins.webchat.tables import WebchatSession
    from web.plugin_api import i18n

    session = await WebchatSession.select().where((WebchatSession.handle == message.recipient_handle)
                                                  & (WebchatSession.account == account.id)).first()
    away = session is not None and session["last_seen"] < datetime.now(timezone.utc) - timedelta(
        seconds=account.settings.away_seconds)
    if away and session["email"] and _desk is not None:
        _ = i18n.translator(Path(__file__).parent / "translations")
        subject = _("A reply to your message", session["language"])
        problem = await desk_mail.send(_desk, session["email"], subject, message.text)
        if problem is None:
            return SendResult(external_id=f"webchat-mail-{message.message_id}", status="sent")
    return SendResult(external_id=f"webchat-{message.message_id}", status="delivered")
