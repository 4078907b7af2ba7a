"""Chat time to first token, in-process: from ``ChatService.answer`` to the first delta.

Runs a replay research of Stripe (with source latency, so part of it is still running),
then asks questions of every intent while it runs and again once it is complete: once
with the answer cache cold (every answer composed) and once warm. Prints p50/p99 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from dossier.app import open_services
from dossier.core.sessions import CreateSession
from dossier.core.types import Account
from dossier.settings import Settings

QUESTIONS = (
    "What technology do they use?",
    "Which teams are they hiring for?",
    "Who should I talk to?",
    "Have they raised money?",
    "What is new with them?",
    "How does our offer fit them?",
    "Give me an overview",
    "What is still pending?",
)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(rounds: int) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,
        data_dir=Path(tempfile.mkdtemp(prefix="bench-chat-")),
        sources="replay",
        replay_latency_ms=400,
        vendor_name="Acme Analytics",
        vendor_description="fraud and risk analytics for payment teams",
    )
    results: dict[str, Any] = {"ok": True}
    async with open_services(settings) as services:
        opened = await services.sessions.open(
            CreateSession(account=Account(name="Stripe")), "local"
        )
        session_id = opened.session_id

        async def ask_all(label: str, *, cold: bool) -> None:
            timings: list[float] = []
            for r in range(rounds):
                for i, question in enumerate(QUESTIONS):
                    first: list[float] = []
                    started = time.perf_counter()

                    async def emit(
                        frame: dict[str, Any], t0: float = started, box: list[float] = first
                    ) -> None:
                        if frame["type"] == "answer.delta" and not box:
                            box.append((time.perf_counter() - t0) * 1000)

                    chat = services.chat
                    cache = chat._cache
                    if cold:
                        chat._cache = None  # compose every answer
                    try:
                        await chat.answer(
                            session_id, f"{label}-{r}-{i}", question, emit, asker="bench"
                        )
                    finally:
                        chat._cache = cache
                    timings += first
            results[label] = {
                "p50_ms": round(statistics.median(timings), 3),
                "p99_ms": round(pct(timings, 99), 3),
                "n": len(timings),
            }

        await asyncio.sleep(1.5)  # part of the research has landed, part is pending
        state = await services.sessions.state(session_id)
        results["findings_mid_run"] = len(state.findings)
        await ask_all("partial_cold", cold=True)
        # Polling the state is what a client does; an Event would need a hook into the fold.
        while (await services.sessions.state(session_id)).status.value == "running":  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        results["findings_complete"] = len((await services.sessions.state(session_id)).findings)
        await ask_all("complete_cold", cold=True)
        await ask_all("complete_warm", cold=False)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.rounds))
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
