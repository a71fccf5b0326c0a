"""Export and erase a customer, shared by the API and the inbox: the same code the privacy
webhooks (Shopify, eBay) use (core.privacy), audited, admins only."""

from __future__ import annotations

from typing import Any, AsyncIterator

from litestar import Request
from litestar.response import Stream

from core import audit, privacy
from core.errors import NotFound
from core.tables import Customer

CHUNK = 64 * 1024


async def require_customer(customer_id: int) -> dict[str, Any]:
    row = await Customer.select(Customer.id, Customer.name, Customer.email).where(Customer.id == customer_id).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return row


async def export_response(request: Request, customer_id: int, actor: str) -> Stream:
    await require_customer(customer_id)
    archive, summary = await privacy.export_zip(request.app.state.desk.data_dir, [customer_id])
    await audit.record(actor, "customer.exported", "customer", customer_id, summary)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while block := archive.read(CHUNK):
                yield block
        finally:
            archive.close()

    return Stream(chunks(), media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="customer-{customer_id}.zip"', "cache-control": "no-store"})


async def erase(request: Request, customer_id: int, actor: str, reason: str) -> dict[str, Any]:
    await require_customer(customer_id)
    plan = await privacy.erase_customers(request.app.state.desk, [customer_id], actor=actor, reason=reason)
    return plan.summary()


async def erase_preview(customer_id: int) -> dict[str, int]:
    """What an erase would remove, for the confirmation."""
    data = await privacy.export_customers([customer_id])
    return {"customers": len(data["customers"]), "tickets": len(data["tickets"]), "messages": len(data["messages"]),
            "attachments": len(data["attachments"])}
