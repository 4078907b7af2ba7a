"""``POST /api/sessions/{id}/questions``: the chat for clients without WebSocket.

The answer streams as SSE with the same event names and payloads as the WebSocket
(``answer.start``, ``answer.delta``, ``answer.citation``, ``answer.end``, then
``suggestions``). If the answer waited for data still being collected, the stream stays
open until its ``answer.revised`` (or the session ends, or ``revise_wait_s`` passes).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dossier.core import frames
from dossier.core.chat import MAX_QUESTION_CHARS
from dossier.core.events import encode_sse_comment, encode_sse_message
from dossier.core.privacy import Viewer
from dossier.core.tasks import cancel_all
from dossier.core.types import ClientId
from dossier.errors import DossierError
from dossier.transport.deps import Services, client_key, principal_of_conn, services_of
from dossier.transport.sse import SSE_HEADERS

router = APIRouter()
_QUEUE_FRAMES = 256
REVISE_WAIT_S = 120.0


class QuestionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    id: ClientId | None = None
    wait_for_revision: bool = True

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # refused here, with the other field errors, rather than as an error event after
        # a 200 (the socket's answer to the same question is an invalid_input error frame)
        if not value.strip():
            raise ValueError("the question is empty")
        return value


@router.post("/api/sessions/{session_id}/questions", tags=["chat"])
async def ask(session_id: str, body: QuestionBody, request: Request) -> StreamingResponse:
    """Ask while the research runs; the answer streams back as server-sent events."""
    services = services_of(request)
    principal = principal_of_conn(request)
    record = await services.sessions.record(session_id, principal)
    viewer = services.sessions.viewer(record, principal)
    await services.question_limiter.hit(client_key(request) + ":" + session_id)
    question_id = body.id or "q_" + secrets.token_hex(4)
    # A used id (409 duplicate_id) or one question too many (409 too_many_turns) is refused
    # before the answer stream starts, so the status says it.
    await services.chat.turns.check(session_id, question_id, principal)
    # bounded: a client that reads slowly slows the answer down, it does not grow memory
    out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=_QUEUE_FRAMES)

    async def produce() -> None:
        try:
            end = await services.chat.answer(
                session_id, question_id, body.content, out.put, asker=principal
            )
            await out.put(frames.suggestions(await services.chat.suggestions(session_id, viewer)))
            if end.get("pending") and body.wait_for_revision:
                revised = await _wait_for_revision(services, session_id, question_id, viewer)
                if revised is not None:
                    await out.put(frames.answer_revised(revised))
        except DossierError as exc:
            await out.put(frames.error(exc.code, exc.message, question_id))
        finally:
            await out.put(None)

    async def stream() -> AsyncIterator[bytes]:
        # the producer is this response's: it ends with the stream (a client gone too)
        task = asyncio.ensure_future(produce())
        try:
            yield encode_sse_comment("connected")
            while (frame := await out.get()) is not None:
                yield encode_sse_message(frame["type"], frames.body(frame))
        finally:
            await cancel_all([task])

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={k.decode(): v.decode() for k, v in SSE_HEADERS[1:]},
    )


async def _wait_for_revision(
    services: Services, session_id: str, question_id: str, viewer: Viewer | None
) -> dict[str, Any] | None:
    revised: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def on_revision(frame: dict[str, Any]) -> None:
        if frame.get("id") == question_id and not revised.done():
            revised.set_result(frames.body(frame))

    stop = services.chat.listen(session_id, on_revision, viewer)
    try:
        async with asyncio.timeout(REVISE_WAIT_S):
            return await revised
    except TimeoutError:
        return None
    finally:
        stop()
