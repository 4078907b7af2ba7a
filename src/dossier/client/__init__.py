"""A small async Python client for a dossier server (HTTP, SSE and the WebSocket chat).

For embedding::

    from dossier import Client

    async with Client("http://127.0.0.1:8000") as client:
        opened = await client.create_session("Stripe")
        async for event in client.events(opened["session_id"]):
            print(event.seq, event.type)  # resumes by itself if the connection drops
        async for frame in client.ask(opened["session_id"], "Who should I talk to?"):
            ...

It speaks only HTTP/WebSocket (it never imports the server); events are
:class:`dossier.Event` values. Errors: :class:`APIError` when the server answered with
one (status, code, message), :class:`ConnectionFailed` when it could not be reached or a
stream could not be resumed; both are :class:`ClientError`.
"""

from __future__ import annotations

from dossier.client._chat import ChatTransport, Frame
from dossier.client._client import Client, ExportFormat
from dossier.client._errors import APIError, ClientError, ConnectionFailed
from dossier.client._sse import SSEMessage, SSEParser

__all__ = [
    "APIError",
    "ChatTransport",
    "Client",
    "ClientError",
    "ConnectionFailed",
    "ExportFormat",
    "Frame",
    "SSEMessage",
    "SSEParser",
]
