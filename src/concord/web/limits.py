"""Refuse oversized request bodies before they are read into memory.

Why a middleware: lint and crosswalk endpoints accept user text; without a cap one huge POST
could exhaust the node's memory. Bodies without Content-Length are read up to the limit (so
memory stays bounded) and then replayed to the app.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from concord.web.problems import PROBLEM_MEDIA_TYPE, problem


class BodySizeLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, overrides: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        #: path → a larger limit (file uploads), which must then declare Content-Length
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        limit = self.overrides.get(scope.get("path", ""), self.max_bytes)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        if declared is None and scope.get("path", "") in self.overrides:
            await self._refuse(scope, send, limit, length_required=True)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked upload): read at most max_bytes, then replay it to the app.
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body = message.get("body", b"")
            received += len(body)
            if received > self.max_bytes:
                await self._refuse(scope, send, self.max_bytes)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        buffered = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": buffered, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self, scope: Scope, send: Send, limit: int, *, length_required: bool = False
    ) -> None:
        status = 411 if length_required else 413
        detail = (
            "uploads must declare their Content-Length"
            if length_required
            else f"the request body is larger than the limit of {limit:,} bytes "
            "(CONCORD_MAX_UPLOAD_BYTES / CONCORD_MAX_IMPORT_BYTES)"
        )
        body = problem(status, detail, instance=scope.get("path"))
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
