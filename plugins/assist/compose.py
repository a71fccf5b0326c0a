"""The text of a "where is my order" answer from ShippingFacts, in one of phrases.LANGUAGES."""

from __future__ import annotations

from datetime import date

from plugins.assist.facts import ShippingFacts
from plugins.assist.phrases import PHRASES


def _date(value: date, language: str) -> str:
    from babel.dates import format_date

    return format_date(value, format="long", locale={"zh": "zh_Hans_CN"}.get(language, language))


def compose(facts: ShippingFacts, language: str, *, links: bool) -> str:
    """Every sentence states a fact of the order; `links` False leaves tracking URLs out (channels
    whose far end refuses links)."""
    p = PHRASES[language]
    lines = [p["intro"].format(order=facts.order), ""]
    for parcel in facts.parcels:
        line = (p["parcel"] if parcel.carrier else p["parcel_nocarrier"]).format(carrier=parcel.carrier, number=parcel.number)
        lines.append(f"{line}: {parcel.url}" if links and parcel.url else line)
    lines.append("")
    if facts.status == "shipped":
        lines.append(p["shipped"].format(date=_date(facts.shipped_on, language)) if facts.shipped_on else p["shipped_nodate"])
    else:
        lines.append(p[facts.status])
    if facts.eta:
        lines.append(p["eta"].format(date=_date(facts.eta, language)))
    lines.append(p["follow_link"] if links and any(x.url for x in facts.parcels) else p["follow_number"])
    lines.append(p["closing"])
    return "\n".join(lines)
