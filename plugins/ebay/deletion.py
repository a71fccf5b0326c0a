"""eBay's mandatory marketplace account deletion notifications, at ``/ebay/account-deletion``.

eBay sends them to one endpoint per application keyset, not per seller account, and verifies the
endpoint first with a GET, so they get a route of their own rather than ``/hooks/{plugin}/{account}``
(whose parse_webhook may do no I/O, while checking a notification needs the Notification API's
public key).

GET ``?challenge_code=...``: answer ``{"challengeResponse": hex(sha256(challengeCode +
verificationToken + endpoint))}`` as JSON, where endpoint is exactly the URL registered with eBay.

POST: the ``X-EBAY-SIGNATURE`` header is base64 of ``{"alg", "kid", "signature", "digest"}``. The
public key for ``kid`` comes from ``GET /commerce/notification/v1/public_key/{kid}`` (an application
token; cached for an hour); the ECDSA signature (DER, base64) is checked over the body with the named
digest (SHA1). A check that fails answers 412 and nothing is read; a key we cannot fetch answers 500
so eBay sends it again; a verified notification erases the user and answers 204. Erasure: the
customers whose eBay identity is the named username or userId (with everything the core holds for
them, through core.privacy) and this plugin's orders, returns, cases and conversation links of that
buyer. The notification id is recorded, so a replay changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
from typing import Any

import msgspec
from litestar import Request, Response, get, post

from core.plugin_api import audit, privacy as core_privacy
from core.plugin_api import ChannelError, NotFound, PayloadTooLarge
from core.plugin_api import Identity
from plugins.ebay import state, wire
from plugins.ebay.tables import EbayConversation, EbayDeletion, EbayDispute, EbayOrder

log = logging.getLogger("relaydesk.ebay")

PATH = "/ebay/account-deletion"
TOPIC = "MARKETPLACE_ACCOUNT_DELETION"
KEY_TTL_SECONDS = 3600.0
ACTOR = "ebay:account-deletion"


class CheckFailed(Exception):
    """The notification's signature did not verify (412)."""


def challenge_response(challenge_code: str, verification_token: str, endpoint: str) -> str:
    return hashlib.sha256((challenge_code + verification_token + endpoint).encode()).hexdigest()


def _configured() -> Any:
    settings = state.settings()
    if not settings.verification_token or not settings.deletion_endpoint:
        raise NotFound("eBay account deletion notifications are not configured "
                       "(set verification_token and deletion_endpoint under [plugins.ebay])")
    return settings


@get(PATH, include_in_schema=False)
async def deletion_challenge(request: Request) -> Response:
    settings = _configured()
    code = request.query_params.get("challenge_code") or ""
    if not code or len(code) > 512:
        return Response({"error": {"code": "invalid_request", "message": "challenge_code is missing or too long"}},
                        status_code=400)
    answer = challenge_response(code, settings.verification_token, settings.deletion_endpoint)
    return Response({"challengeResponse": answer}, status_code=200, media_type="application/json")


def decode_signature(header: str | None) -> dict[str, str]:
    if not header:
        raise CheckFailed("the X-EBAY-SIGNATURE header is missing")
    try:
        decoded = json.loads(base64.b64decode(header.strip(), validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise CheckFailed("the X-EBAY-SIGNATURE header is not base64 JSON") from None
    if not isinstance(decoded, dict) or not all(isinstance(decoded.get(k), str) and decoded.get(k)
                                                for k in ("kid", "signature")):
        raise CheckFailed("the X-EBAY-SIGNATURE header lacks kid or signature")
    return decoded


def pem(key: str) -> bytes:
    """eBay returns the PEM on one line; put the base64 body on lines of its own."""
    body = key.replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "")
    body = "".join(body.split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n").encode()


async def public_key(kid: str) -> dict[str, Any]:
    """The Notification API's key for ``kid``: {"key", "algorithm", "digest"}; cached for an hour."""
    cached = state.public_keys.get(kid)
    if cached and time.monotonic() - cached[1] < KEY_TTL_SECONDS:
        return cached[0]
    desk = state.desk
    accounts = [a for a in desk.registry.accounts.values() if a.channel_type == "ebay"] if desk else []
    wanted = state.settings().notification_account
    account = next((a for a in accounts if a.name == wanted), None) if wanted else (accounts[0] if accounts else None)
    if account is None:
        raise ChannelError("no eBay account is configured to fetch notification public keys", retryable=True)
    client = state.client_for(account)
    answer = await client.request("GET", f"/commerce/notification/v1/public_key/{kid}", auth="app",
                                  what="fetch the notification public key (getPublicKey)")
    if not isinstance(answer, dict) or not answer.get("key"):
        raise ChannelError("eBay's getPublicKey answered without a key", retryable=True)
    state.public_keys[kid] = (answer, time.monotonic())
    return answer


def verify(key_info: dict[str, Any], signature: dict[str, str], body: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    algorithm = str(key_info.get("algorithm") or signature.get("alg") or "").upper()
    if algorithm != "ECDSA":
        raise CheckFailed(f"unsupported signature algorithm {algorithm!r}")
    digest = str(signature.get("digest") or key_info.get("digest") or "SHA1").upper()
    hash_type = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}.get(digest)
    if hash_type is None:
        raise CheckFailed(f"unsupported digest {digest!r}")
    try:
        key = load_pem_public_key(pem(str(key_info["key"])))
        raw_signature = base64.b64decode(signature["signature"], validate=True)
    except (ValueError, binascii.Error):
        raise CheckFailed("the public key or the signature is malformed") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise CheckFailed("the public key is not an EC key")
    candidates = [body]
    try:
        # eBay's own SDKs verify the JSON as their serializer writes it; accept that form too.
        candidates.append(json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode())
    except (ValueError, RecursionError):
        pass
    for candidate in candidates:
        try:
            key.verify(raw_signature, candidate, ec.ECDSA(hash_type()))
            return
        except InvalidSignature:
            continue
    raise CheckFailed("the signature does not match the notification")


def _failed(status: int, code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message}}, status_code=status)


@post(PATH, include_in_schema=False, opt={"exclude_from_csrf": True}, status_code=200)
async def deletion_notification(request: Request) -> Response:
    settings = _configured()
    body = await request.body()
    if len(body) > settings.max_notification_bytes:
        raise PayloadTooLarge(f"the notification is larger than {settings.max_notification_bytes} bytes")
    try:
        signature = decode_signature(request.headers.get("x-ebay-signature"))
        key_info = await public_key(signature["kid"])
        verify(key_info, signature, body)
    except CheckFailed as exc:
        log.warning("eBay account deletion notification rejected: %s", exc)
        return _failed(412, "signature_invalid", str(exc))
    except ChannelError as exc:
        log.error("eBay account deletion notification not checked: %s", exc.message)
        return _failed(500, "public_key_unavailable", "the signature could not be checked now; send it again")
    try:
        message = msgspec.json.decode(body, type=wire.Envelope)
        if message.metadata.topic != TOPIC:
            return Response(None, status_code=204)  # a topic we did not subscribe to: acknowledge, do nothing
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
        return _failed(400, "invalid_request", f"the notification is not the documented JSON: {exc}")
    try:
        data = msgspec.json.decode(message.notification.data, type=wire.AccountDeletion)
    except msgspec.ValidationError as exc:
        return _failed(400, "invalid_request", f"the account deletion data is not the documented JSON: {exc} "
                                               "(in `$.notification.data`)")
    notification_id = message.notification.notificationId
    if not notification_id:
        return _failed(400, "invalid_request", "the notification has no notificationId")
    await erase(request.app.state.desk, notification_id, data.username, data.userId)
    return Response(None, status_code=204)


async def erase(desk: Any, notification_id: str, username: Any, user_id: Any) -> dict[str, Any] | None:
    """Erase everything held about the eBay user. Returns the summary, or None for a replay."""
    from core.plugin_api import db

    names = sorted({str(n) for n in (username, user_id) if n})
    async with db.transaction():
        if await EbayDeletion.exists().where(EbayDeletion.notification_id == notification_id):
            return None
        customers: list[int] = []
        orders = disputes = conversations = 0
        if names:
            rows = await Identity.select(Identity.customer).where(
                (Identity.channel_type == "ebay") & Identity.handle.is_in(names))
            customers = sorted({r["customer"] for r in rows})
            orders = len(await EbayOrder.select(EbayOrder.id).where(EbayOrder.buyer_username.is_in(names)))
            disputes = len(await EbayDispute.select(EbayDispute.id).where(EbayDispute.buyer_username.is_in(names)))
            conversations = len(await EbayConversation.select(EbayConversation.id).where(
                EbayConversation.buyer_username.is_in(names)))
            await EbayOrder.delete().where(EbayOrder.buyer_username.is_in(names))
            await EbayDispute.delete().where(EbayDispute.buyer_username.is_in(names))
            await EbayConversation.delete().where(EbayConversation.buyer_username.is_in(names))
        plan = await core_privacy.erase_rows(customers, actor=ACTOR, reason="eBay marketplace account deletion")
        summary = {"orders": orders, "disputes": disputes, "conversations": conversations, **plan.summary()}
        await EbayDeletion.insert(EbayDeletion(notification_id=notification_id[:200], summary=summary))
        await audit.record(ACTOR, "ebay.account_deleted", "customer", customers[0] if customers else 0, summary)
    await core_privacy.remove_files(desk.data_dir, plan)
    return summary
