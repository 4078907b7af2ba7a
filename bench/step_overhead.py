"""Durable-step overhead: a DBOS workflow of N trivial steps vs the same calls undecorated.

Uses dossier's own DBOS configuration: SQLite (WAL, synchronous=NORMAL) in a temp dir, or
PostgreSQL with ``--database-url`` (its pool as engine.py sets it; ``--no-sync-commit``
measures ``DOSSIER_STEP_SYNCHRONOUS_COMMIT=false``). Prints ms per step (median of
several workflows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from dbos import DBOS

from dossier.settings import Settings
from dossier.workflows.engine import launch, shutdown


@DBOS.step(name="bench.noop")
async def noop_step(i: int) -> int:
    return i + 1


async def noop_plain(i: int) -> int:
    return i + 1


@DBOS.workflow(name="bench.steps")
async def many_steps(n: int) -> int:
    total = 0
    for i in range(n):
        total += await noop_step(i)
    return total


async def measure(
    n: int, runs: int, database_url: str | None = None, *, sync_commit: bool = True
) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="bench-steps-"))
    settings = Settings(
        _env_file=None,
        data_dir=data,
        database_url=database_url,
        step_synchronous_commit=sync_commit,
    )
    await launch(settings)
    try:
        await (await DBOS.start_workflow_async(many_steps, 10)).get_result()  # warm up
        per_step: list[float] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await (await DBOS.start_workflow_async(many_steps, n)).get_result()
            durable = time.perf_counter() - t0
            t0 = time.perf_counter()
            for i in range(n):
                await noop_plain(i)
            plain = time.perf_counter() - t0
            per_step.append((durable - plain) / n * 1000)
    finally:
        shutdown()
    return {"ok": True, "ms_per_step": statistics.median(per_step), "runs": runs, "steps": n}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (DBOS system database)")
    parser.add_argument(
        "--no-sync-commit", action="store_true", help="PostgreSQL: synchronous_commit=off"
    )
    args = parser.parse_args()
    result = asyncio.run(
        measure(args.steps, args.runs, args.database_url, sync_commit=not args.no_sync_commit)
    )
    print(json.dumps(result) if args.json else f"{result['ms_per_step']:.3f} ms per durable step")


if __name__ == "__main__":
    main()
