"""Sign eBay notifications the way eBay does (ECDSA over the body, SHA1, the header as base64 JSON)
with a key of the test's own, served by the loopback Notification API, so any body can be sent."""

from __future__ import annotations

import base64
import json
from typing import Any

KID = "relaydesk-test-key"


class NotificationSigner:
    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = ec.generate_private_key(ec.SECP256R1())

    def serve(self, fake: Any) -> None:
        from cryptography.hazmat.primitives import serialization

        pem = self._key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        fake.public_keys[KID] = {"key": "".join(pem.splitlines()), "algorithm": "ECDSA", "digest": "SHA1"}

    def headers(self, body: bytes) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        signature = base64.b64encode(self._key.sign(body, ec.ECDSA(hashes.SHA1()))).decode()
        header = {"alg": "ecdsa", "kid": KID, "signature": signature, "digest": "SHA1"}
        return {"content-type": "application/json",
                "x-ebay-signature": base64.b64encode(json.dumps(header).encode()).decode()}
