"""The request body, read in chunks and abandoned past the cap: a sender cannot make the
gateway buffer more than `limit` bytes, whatever Content-Length says (or a chunked body)."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(ValueError):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length") or ""
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
