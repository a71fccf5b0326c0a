"""Customer-facing notices the desk sends by itself, in the customer's language.

A small catalog kept with the core (like the CSAT survey's): the text goes to customers over their
channel, not into the agent UI's babel catalogs. Unknown languages fall back to English; Chinese
variants (zh, zh-CN, zh-Hans, zh-TW) use Simplified Chinese.
"""

from __future__ import annotations

PEAK_NOTICE: dict[str, str] = {
    "en": "Thank you for your message. Because of {campaign}, we are receiving many more messages than usual, "
          "so our replies may take longer (up to {hours} hours). We will get back to you as soon as we can.",
    "zh": "感谢您的来信。由于{campaign}期间咨询量远高于平时，我们的回复可能会比平时慢（最长 {hours} 小时）。"
          "我们会尽快回复您。",
    "de": "Vielen Dank für Ihre Nachricht. Wegen {campaign} erhalten wir deutlich mehr Anfragen als sonst, "
          "daher kann unsere Antwort länger dauern (bis zu {hours} Stunden). Wir melden uns so schnell wie möglich.",
    "fr": "Merci pour votre message. En raison de {campaign}, nous recevons beaucoup plus de messages que "
          "d'habitude : notre réponse peut prendre plus de temps (jusqu'à {hours} heures). Nous revenons vers vous "
          "au plus vite.",
    "es": "Gracias por su mensaje. Debido a {campaign}, estamos recibiendo muchos más mensajes de lo habitual, "
          "por lo que nuestra respuesta puede tardar más (hasta {hours} horas). Le responderemos lo antes posible.",
    "ja": "お問い合わせありがとうございます。{campaign}のため、通常より多くのお問い合わせをいただいており、"
          "ご返信にお時間をいただく場合があります（最大 {hours} 時間）。できるだけ早くご連絡いたします。",
}


def language_of(language: str | None) -> str:
    base = (language or "").lower().replace("_", "-").split("-")[0]
    return base if base in PEAK_NOTICE else "en"


def peak_notice(language: str | None, campaign: str, hours: int | None) -> str:
    """The notice about longer response times during a campaign, in the customer's language."""
    text = PEAK_NOTICE[language_of(language)]
    if hours is None:  # no first-response target: drop the "(up to N hours)" part
        text = text.replace(" (up to {hours} hours)", "").replace("（最长 {hours} 小时）", "") \
            .replace(" (bis zu {hours} Stunden)", "").replace(" (jusqu'à {hours} heures)", "") \
            .replace(" (hasta {hours} horas)", "").replace("（最大 {hours} 時間）", "")
    return text.format(campaign=campaign, hours=hours)
