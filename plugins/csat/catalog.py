"""The survey's strings in the customers' languages (a small catalog kept with the plugin, since
the page is public and not part of the agent UI's babel catalogs). Unknown languages fall back to
English; a missing key in a language falls back to the English string."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "How did we do?",
        "csat_question": "How satisfied are you with the help you received?",
        "nps_question": "How likely are you to recommend us to a friend or colleague?",
        "nps_low": "Not at all likely", "nps_high": "Extremely likely",
        "csat_1": "Very unsatisfied", "csat_2": "Unsatisfied", "csat_3": "Neutral", "csat_4": "Satisfied",
        "csat_5": "Very satisfied",
        "comment": "Anything you would like to add? (optional)",
        "submit": "Send",
        "thanks": "Thank you for your feedback!",
        "invite": "Your request has been solved. How did we do? Tell us in one click: {url}",
        "error_title": "This survey link cannot be used",
        "error_400": "This link is incomplete or damaged.",
        "error_403": "This link is not valid.",
        "error_410_expired": "This link has expired.",
        "error_410_used": "This survey has already been answered. Thank you!",
        "error_score": "Please choose a rating.",
        "error_comment": "The comment is too long (at most 4000 characters).",
    },
    "de": {
        "title": "Wie waren wir?",
        "csat_question": "Wie zufrieden sind Sie mit der Hilfe, die Sie erhalten haben?",
        "nps_question": "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?",
        "nps_low": "Sehr unwahrscheinlich", "nps_high": "Sehr wahrscheinlich",
        "csat_1": "Sehr unzufrieden", "csat_2": "Unzufrieden", "csat_3": "Neutral", "csat_4": "Zufrieden",
        "csat_5": "Sehr zufrieden",
        "comment": "Möchten Sie noch etwas hinzufügen? (optional)",
        "submit": "Senden",
        "thanks": "Vielen Dank für Ihr Feedback!",
        "invite": "Ihre Anfrage wurde gelöst. Wie waren wir? Sagen Sie es uns mit einem Klick: {url}",
        "error_title": "Dieser Umfragelink kann nicht verwendet werden",
        "error_400": "Dieser Link ist unvollständig oder beschädigt.",
        "error_403": "Dieser Link ist ungültig.",
        "error_410_expired": "Dieser Link ist abgelaufen.",
        "error_410_used": "Diese Umfrage wurde bereits beantwortet. Vielen Dank!",
        "error_score": "Bitte wählen Sie eine Bewertung.",
    },
    "fr": {
        "title": "Comment avons-nous fait ?",
        "csat_question": "Êtes-vous satisfait de l'aide que vous avez reçue ?",
        "nps_question": "Quelle est la probabilité que vous nous recommandiez à un ami ou un collègue ?",
        "nps_low": "Pas du tout probable", "nps_high": "Très probable",
        "csat_1": "Très insatisfait", "csat_2": "Insatisfait", "csat_3": "Neutre", "csat_4": "Satisfait",
        "csat_5": "Très satisfait",
        "comment": "Souhaitez-vous ajouter quelque chose ? (facultatif)",
        "submit": "Envoyer",
        "thanks": "Merci pour votre avis !",
        "invite": "Votre demande a été résolue. Qu'en avez-vous pensé ? Dites-le-nous en un clic : {url}",
        "error_title": "Ce lien de sondage ne peut pas être utilisé",
        "error_400": "Ce lien est incomplet ou endommagé.",
        "error_403": "Ce lien n'est pas valide.",
        "error_410_expired": "Ce lien a expiré.",
        "error_410_used": "Ce sondage a déjà reçu une réponse. Merci !",
        "error_score": "Veuillez choisir une note.",
    },
    "es": {
        "title": "¿Qué tal lo hicimos?",
        "csat_question": "¿Qué tan satisfecho está con la ayuda que recibió?",
        "nps_question": "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
        "nps_low": "Nada probable", "nps_high": "Muy probable",
        "csat_1": "Muy insatisfecho", "csat_2": "Insatisfecho", "csat_3": "Neutral", "csat_4": "Satisfecho",
        "csat_5": "Muy satisfecho",
        "comment": "¿Quiere añadir algo? (opcional)",
        "submit": "Enviar",
        "thanks": "¡Gracias por su opinión!",
        "invite": "Su solicitud se ha resuelto. ¿Qué tal lo hicimos? Díganoslo con un clic: {url}",
        "error_title": "Este enlace de encuesta no se puede usar",
        "error_400": "Este enlace está incompleto o dañado.",
        "error_403": "Este enlace no es válido.",
        "error_410_expired": "Este enlace ha caducado.",
        "error_410_used": "Esta encuesta ya fue respondida. ¡Gracias!",
        "error_score": "Elija una valoración.",
    },
    "zh": {
        "title": "我们的服务如何？",
        "csat_question": "您对收到的帮助满意吗？",
        "nps_question": "您有多大可能向朋友或同事推荐我们？",
        "nps_low": "完全不可能", "nps_high": "非常可能",
        "csat_1": "非常不满意", "csat_2": "不满意", "csat_3": "一般", "csat_4": "满意", "csat_5": "非常满意",
        "comment": "还有什么想补充的吗？（可选）",
        "submit": "提交",
        "thanks": "感谢您的反馈！",
        "invite": "您的问题已解决。我们的服务如何？点击告诉我们：{url}",
        "error_title": "此调查链接无法使用",
        "error_400": "此链接不完整或已损坏。",
        "error_403": "此链接无效。",
        "error_410_expired": "此链接已过期。",
        "error_410_used": "此调查已提交过，谢谢！",
        "error_score": "请选择一个评分。",
    },
}


def strings(language: str | None) -> dict[str, str]:
    """Every string for `language` ("de", "de-AT", "zh-Hans"...), English where it has none."""
    code = (language or "en").lower().replace("_", "-").split("-")[0]
    return {**STRINGS["en"], **STRINGS.get(code, {})}


def page_language(language: str | None) -> str:
    code = (language or "en").lower().replace("_", "-").split("-")[0]
    return code if code in STRINGS else "en"
