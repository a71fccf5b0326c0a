"""/api/v1/blocklist and /api/v1/tickets/{id}/spam: spam and blocked senders (core.spam)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post

from core import spam
from core.errors import NotFound
from web.api.openapi import errors, with_body
from web.api.params import text
from web.auth import actor, current_agent, require

Kind = Literal["sender", "domain", "phone"]


class BlockIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Kind
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class SpamIn(msgspec.Struct, forbid_unknown_fields=True):
    block_sender: bool = True


class SpamController(Controller):
    path = "/api/v1"
    tags = ["spam"]

    @get("/blocklist", guards=[require("supervisor")], responses=errors())
    async def list_blocks(self) -> list[dict[str, Any]]:
        return await spam.entries()

    @post("/blocklist", guards=[require("supervisor")], status_code=201, responses=with_body())
    async def add_block(self, request: Request, data: BlockIn) -> dict[str, Any]:
        """Block a sender ("<channel>:<handle>"), an e-mail domain or a phone number: their messages
        are stored as spam from now on (earlier conversations stay where they are)."""
        return await spam.block(data.kind, data.value, actor=actor(await current_agent(request)))

    @delete("/blocklist", guards=[require("supervisor")], status_code=204, responses=errors(404))
    async def remove_block(self, request: Request, kind: Kind, value: str = text(255)) -> None:
        if not value or not await spam.unblock(kind, value, actor=actor(await current_agent(request))):
            raise NotFound("no such block")

    @post("/tickets/{ticket_id:int}/spam", guards=[require("agent")], status_code=200, responses=with_body(404))
    async def mark_spam(self, request: Request, ticket_id: int, data: SpamIn | None = None) -> dict[str, Any]:
        """Move the ticket to Spam (no assignee, no SLA) and, unless block_sender is false, block its sender."""
        blocked = await spam.mark_spam(request.app.state.desk, ticket_id, actor=actor(await current_agent(request)),
                                       block_sender=data.block_sender if data else True)
        return {"ticket_id": ticket_id, "status": "spam", "blocked": blocked}

    @post("/tickets/{ticket_id:int}/not-spam", guards=[require("agent")], status_code=200, responses=errors(404))
    async def not_spam(self, request: Request, ticket_id: int) -> dict[str, Any]:
        unblocked = await spam.not_spam(request.app.state.desk, ticket_id, actor=actor(await current_agent(request)))
        return {"ticket_id": ticket_id, "status": "open", "unblocked": unblocked}
