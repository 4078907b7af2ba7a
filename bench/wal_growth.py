"""WAL size after 10k chat questions, in-process on the real SQLite event log.

    python bench/wal_growth.py [--questions N] [--askers K] [--json]

Each question is what the chat logs for a fast answer: one append of ``chat.question`` and
``answer.end`` (the answer's text and citations, ~1.2 KB), from K askers at once on one
session, while a reader polls the log like a client catching up. Samples the WAL file
every 50 ms; reports the database and WAL sizes at the end (after one checkpoint
interval, as a server keeps running) and the peak WAL, in MB, and the ratio WAL/database.
Target: WAL <= 4x the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from dossier.core.events import EventType, NewEvent
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor, iso_ms, utcnow
from dossier.eventlog.sqlite import SqliteEventLog

ANSWER = (
    "They are hiring for payments risk and fraud operations in Dublin and New York "
    "(6 open roles), and their engineering posts name Kafka, Snowflake and dbt. "
) * 6
CITATIONS = [
    {"finding": f"f_{i:04d}", "source": "greenhouse", "title": "Risk Analyst"} for i in range(4)
]
MB = 1024 * 1024


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


async def run(questions: int, askers: int) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="bench-wal-"))
    db = data / "dossier.sqlite"
    wal = data / "dossier.sqlite-wal"
    log = SqliteEventLog(db)
    await log.start()
    session_id = "s_walbench"
    await log.create_session(
        SessionRecord(
            session_id=session_id,
            account=Account(name="Bench Corp"),
            vendor=Vendor(),
            status=SessionStatus.COMPLETED,
            created_at=iso_ms(utcnow()),
            owners={"local"},
        )
    )
    peak = 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, size(wal))
            await asyncio.sleep(0.05)

    async def reader() -> None:
        pos = 0
        while not done.is_set():
            events = await log.read_after(session_id, pos, limit=256)
            pos = events[-1].seq if events else pos
            await asyncio.sleep(0.01)

    queue = iter(range(questions))

    async def asker() -> None:
        for n in queue:
            qid = f"q{n}"
            await log.append(
                session_id,
                [
                    NewEvent(
                        type=EventType.CHAT_QUESTION,
                        data={"id": qid, "content": f"What are they hiring for? ({n})"},
                        dedup=f"chat.question:{qid}",
                    ),
                    NewEvent(
                        type=EventType.ANSWER_END,
                        data={"id": qid, "text": ANSWER, "citations": CITATIONS, "complete": True},
                    ),
                ],
            )
            await asyncio.sleep(0.0005)  # the answer's composition, between two questions

    started = time.perf_counter()
    helpers = [asyncio.create_task(sample()), asyncio.create_task(reader())]
    await asyncio.gather(*(asker() for _ in range(askers)))
    elapsed = time.perf_counter() - started
    wal_at_end = size(wal)
    await asyncio.sleep(2.5)  # one checkpoint interval of a server that keeps running
    done.set()
    await asyncio.gather(*helpers)
    peak = max(peak, size(wal))
    result = {
        "ok": True,
        "questions": questions,
        "seconds": round(elapsed, 2),
        "db_mb": round(size(db) / MB, 2),
        "wal_mb_at_last_write": round(wal_at_end / MB, 2),
        "wal_mb": round(size(wal) / MB, 2),
        "wal_peak_mb": round(peak / MB, 2),
    }
    await log.close()
    result["wal_ratio"] = round(result["wal_mb"] / max(result["db_mb"], 0.01), 2)
    result["wal_peak_ratio"] = round(result["wal_peak_mb"] / max(result["db_mb"], 0.01), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--askers", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.questions, args.askers))
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
