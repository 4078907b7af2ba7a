"""The reference WebSocket load client (``../shared/bench/wsload.py``), with question ids
unique in the session.

Its 200 clients all ask ``q0`` … ``q4`` in the same session; dossier refuses a question id
already used in a session (``error duplicate_id``: an id names one turn of the chat, which
the snapshot, the export and revisions find it by; README, chat protocol). So each question
the client sends gets a prefix of its own (``c17-q3``), taken off again in what the server
sends back: the client's logic and timing are the reference's, untouched.

    python bench/wsload_ids.py URL --clients C --questions Q [--json]
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

SHARED = Path(
    os.environ.get("DOSSIER_SHARED_BENCH", Path(__file__).resolve().parents[2] / "shared" / "bench")
)
_sent = itertools.count()


class _Json:
    """``json`` as wsload uses it, giving each question it sends an id of its own."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(obj, dict) and obj.get("type") == "question" and "id" in obj:
            obj = {**obj, "id": f"c{next(_sent)}-{obj['id']}"}
        return json.dumps(obj, *args, **kwargs)

    @staticmethod
    def loads(raw: str | bytes, *args: Any, **kwargs: Any) -> Any:
        msg = json.loads(raw, *args, **kwargs)
        if isinstance(msg, dict) and isinstance(msg.get("id"), str) and msg["id"].startswith("c"):
            msg["id"] = msg["id"].split("-", 1)[-1]
        return msg


def main() -> None:
    spec = importlib.util.spec_from_file_location("wsload", SHARED / "wsload.py")
    if spec is None or spec.loader is None:
        sys.exit(f"wsload.py not found in {SHARED}")
    wsload = importlib.util.module_from_spec(spec)
    sys.modules["wsload"] = wsload  # its dataclasses look their module up there
    spec.loader.exec_module(wsload)
    wsload.json = _Json  # type: ignore[attr-defined]
    wsload.main()


if __name__ == "__main__":
    main()
