"""The assist plugin's labels: intents and sentiments as stored on tickets and read by rules.

The codes are stable (rules and routing skills name them); `INTENT_LABELS` and `SENTIMENT_LABELS`
hold the English text the inbox translates through the plugin's catalogs.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a msgid for extraction; translated where it is shown."""
    return message


INTENTS = ("wismo", "return_refund", "exchange_size", "cancel", "address_change", "invoice", "product_question",
           "damaged_wrong", "complaint", "thanks", "other")
INTENT_LABELS = {
    "wismo": N_("Where is my order"), "return_refund": N_("Return or refund"), "exchange_size": N_("Exchange or size"),
    "cancel": N_("Cancel"), "address_change": N_("Address change"), "invoice": N_("Invoice"),
    "product_question": N_("Product question"), "damaged_wrong": N_("Damaged or wrong item"),
    "complaint": N_("Complaint"), "thanks": N_("Thanks or closing"), "other": N_("Other"),
}
# The model's sentiment classes: "angry" is a negative message with an angry tone. Tickets store
# negative/neutral/positive (what rules' `sentiment` condition lists) and tag angry ones "angry".
CLASSES_SENTIMENT = ("pos", "neu", "neg", "angry")
SENTIMENTS = ("negative", "neutral", "positive")
SENTIMENT_OF = {"pos": "positive", "neu": "neutral", "neg": "negative", "angry": "negative"}
SENTIMENT_LABELS = {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")}
LANGUAGES = ("en", "de", "fr", "es", "it", "zh", "ja")
ANGRY_TAG = "angry"
