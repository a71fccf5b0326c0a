"""Sample customers and messages for the demo desk."""

CUSTOMERS = [
    ("Anna Schmidt", "anna.schmidt@example.de", "de"),
    ("John Miller", "john.miller@example.com", "en"),
    ("Lucía García", "lucia.garcia@example.es", "es"),
    ("Marie Dubois", "marie.dubois@example.fr", "fr"),
    ("王小明", "xiaoming.wang@example.cn", "zh"),
    ("Emily Clark", "emily.clark@example.co.uk", "en"),
    ("Marco Rossi", "marco.rossi@example.it", "it"),
    ("佐藤 花子", "hanako.sato@example.jp", "ja"),
]

MESSAGES = {
    "en": ["Where is my order #{order}? It was supposed to arrive last week.",
           "The charger I received for order #{order} does not fit. Can I return it?",
           "Hi, can you confirm the size of the jacket in order #{order}?"],
    "de": ["Wo bleibt meine Bestellung #{order}? Sie sollte letzte Woche ankommen.",
           "Das Paket #{order} ist beschädigt angekommen. Was nun?"],
    "es": ["¿Dónde está mi pedido #{order}? Ya pasaron dos semanas.",
           "Quiero devolver el artículo del pedido #{order}, ¿cómo lo hago?"],
    "fr": ["Bonjour, ma commande #{order} n'est toujours pas arrivée.",
           "Puis-je changer l'adresse de livraison de la commande #{order} ?"],
    "zh": ["你好，我的订单 #{order} 什么时候发货？", "订单 #{order} 收到的颜色不对，可以换货吗？"],
    "it": ["Il mio ordine #{order} non è ancora arrivato, potete controllare?"],
    "ja": ["注文 #{order} の配送状況を教えてください。"],
}
