"""Mail an agent their invitation or password-reset link, in the agent's own language.

Used by the agents page, the API and the sign-in page's "forgot your password" form. Sending goes
through core.desk_mail (the email plugin's SMTP account); a desk without outgoing mail shows the
link to the admin instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import desk_mail, people
from web import i18n
from web.i18n import N_

if TYPE_CHECKING:
    from core.desk import Desk

SUBJECTS = {
    "invite": N_("You are invited to the Relaydesk inbox"),
    "reset": N_("Reset your Relaydesk password"),
}
BODIES = {
    "invite": N_("Hello %(name)s,\n\nYou have been invited to answer customers in the Relaydesk inbox.\n"
                 "Open this link to choose your password and sign in:\n\n%(url)s\n\n"
                 "The link works once, for 7 days."),
    "reset": N_("Hello %(name)s,\n\nSomeone asked to reset the password of %(email)s in the Relaydesk inbox.\n"
                "Open this link to choose a new password:\n\n%(url)s\n\n"
                "The link works once, for 2 hours. If you did not ask for it, ignore this mail: your "
                "password stays as it is."),
}


def link_for(desk: "Desk", agent: dict[str, Any]) -> tuple[str, str]:
    """A fresh signed link for the agent: (purpose, url); an invitation while they have no password."""
    purpose = "reset" if agent.get("password_hash") else "invite"
    settings = desk.settings
    return purpose, people.link_url(settings.public_url, people.make_link_token(settings.secret, agent, purpose))


async def mail_link(desk: "Desk", agent: dict[str, Any], purpose: str, url: str) -> str | None:
    """Mail the link; None when it went out, else the reason it did not (the caller shows the link)."""
    translations = i18n.catalog(i18n.language_of(agent.get("locale")))
    subject = translations.gettext(SUBJECTS[purpose])
    text = translations.gettext(BODIES[purpose]) % {"name": agent["name"], "email": agent["email"], "url": url}
    return await desk_mail.send(desk, agent["email"], subject, text)
