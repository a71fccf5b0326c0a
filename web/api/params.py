"""Query parameter types with the bounds the database holds, so litestar refuses a bad value (400)
before a handler queries anything and the OpenAPI schema says what is taken."""

from __future__ import annotations

from typing import Annotated, Optional

from litestar.params import Parameter

from core.bounds import MAX_ID

OptionalId = Annotated[Optional[int], Parameter(ge=1, le=MAX_ID, description="a row id")]


def text(max_length: int, description: str | None = None) -> object:
    """An optional text parameter of at most `max_length` characters (control characters are
    refused for every parameter by web.strict)."""
    return Parameter(default=None, max_length=max_length, description=description)
