"""`make bench`: the product against the raw baseline, measured in the same run.

Every step runs on a fresh server process (free loopback port, no heap carried over),
baseline and product interleaved, ``BENCH_ROUNDS`` times (default 3); the table reports
medians and the ratio product/baseline. Tools and the baseline server come from
``../shared/bench`` (the team's reference toolkit; bench only, never at run time).

    python bench/run.py [--rounds N] [--only sse1,fan,...] [--update-readme]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

import cluster
import httpx
from procs import (
    PY,
    ROOT,
    SHARED,
    STEP_TIMEOUT_S,
    Server,
    bench_session,
    free_port,
    product_server,
    running,
    tool,
)

RESULTS = ROOT / "bench" / "results"


def baseline_server() -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    return running([PY, str(SHARED / "baseline_app.py"), "--port", str(port)], {}, port)


# -- the steps: each returns (baseline result, product result)

SSE_STEPS: dict[str, dict[str, Any]] = {
    "sse1": {"n": 200_000, "rate": 0, "subs": 1, "clients": 1, "extra": []},
    "fan": {"n": 200, "rate": 50, "subs": 1000, "clients": 1000, "extra": []},
    "resume": {"n": 200, "rate": 0, "subs": 1000, "clients": 1000, "extra": ["--resume-at", "100"]},
}


def sse_step(name: str, which: str) -> dict[str, Any]:
    spec = SSE_STEPS[name]
    args = ["--clients", str(spec["clients"]), "--expect", str(spec["n"]), "--timeout", "60"]
    if which == "baseline":
        with baseline_server() as srv:
            query = f"n={spec['n']}&rate={spec['rate']}&subscribers={spec['subs']}"
            url = f"{srv.base}/api/sessions/{name}/events?{query}"
            return tool("sseload.py", url, *args, *spec["extra"], "--pid", str(srv.pid))
    with product_server() as srv:
        sid = bench_session(srv, spec["n"], spec["rate"], spec["subs"])
        url = f"{srv.base}/api/sessions/{sid}/events"
        return tool("sseload.py", url, *args, *spec["extra"], "--pid", str(srv.pid))


def idle_step(which: str) -> dict[str, Any]:
    conns = os.environ.get("BENCH_IDLE_CONNS", "5000")
    if which == "baseline":
        with baseline_server() as srv:
            url = f"{srv.base}/api/sessions/idle/events?n=10&rate=0.0001"
            return tool("idlemem.py", url, "--pid", str(srv.pid), "--conns", conns)
    with product_server() as srv:
        sid = bench_session(srv, 1, 0, 0)
        time.sleep(0.5)
        url = f"{srv.base}/api/sessions/{sid}/events?follow=true&last_event_id=1"
        return tool("idlemem.py", url, "--pid", str(srv.pid), "--conns", conns)


SILENT_EVENTS = 33_500  # synthetic frames of ~313 bytes: a 10 MB stream
SILENT_STALL_S = "10"


def silent_step() -> dict[str, Any]:
    """2,000 clients that ask for a 10 MB stream and never read (the stall watchdog set
    to 10 s so the run sees them dropped)."""
    conns = os.environ.get("BENCH_SILENT_CONNS", "2000")
    with product_server(DOSSIER_SSE_STALL_TIMEOUT_S=SILENT_STALL_S) as srv:
        sid = bench_session(srv, SILENT_EVENTS, 0, 0)
        url = f"{srv.base}/api/sessions/{sid}/events"
        args = ("--pid", str(srv.pid), "--conns", conns, "--stall-s", SILENT_STALL_S)
        # Two waves, each up to the watchdog plus 45 s to see every client dropped.
        return tool("silent_readers.py", url, *args, folder=ROOT / "bench", timeout_s=240)


def wal_step() -> dict[str, Any]:
    return tool("wal_growth.py", folder=ROOT / "bench")


# A made-up account whose every request has a (constructed) recording in
# bench/recordings: its research ends `completed`, so a second look is a cached session.
# (A demo account's research is partial -- some of its requests were never recorded --
# and a partial research is never served whole from cache.)
BENCH_ACCOUNT: dict[str, Any] = {
    "name": "Benchmark Labs",
    "cik": "1234567",
    "boards": dict.fromkeys(
        ("greenhouse", "lever", "ashby", "smartrecruiters", "workable"), "benchmarklabs"
    ),
}
BENCH_RECORDINGS = ROOT / "bench" / "recordings"


def session_timings(
    server: Server, runs: int, account: dict[str, Any] | None = None
) -> list[float]:
    """POST /api/sessions -> session.completed seen on the stream, in ms."""
    timings: list[float] = []
    body = {"account": account or {"name": "Stripe"}}
    with httpx.Client(base_url=server.base, timeout=30) as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            opened = client.post("/api/sessions", json=body).json()
            with client.stream("GET", f"/api/sessions/{opened['session_id']}/events") as stream:
                for line in stream.iter_lines():
                    if line == "event: session.completed":
                        break
            timings.append((time.perf_counter() - t0) * 1000)
    return timings


def cached_step() -> dict[str, Any]:
    with product_server(
        DOSSIER_REPLAY_DIR=str(BENCH_RECORDINGS),
        # our side known by what we sell: nothing of ours to look up, so it completes too
        DOSSIER_VENDOR_DESCRIPTION="fraud and risk analytics for payment teams",
    ) as srv:
        session_timings(srv, 1, BENCH_ACCOUNT)  # the first research fills the cache
        first = httpx.get(f"{srv.base}/api/sessions?limit=1", timeout=10).json()["sessions"][0]
        if first["status"] != "completed":
            return {"ok": False, "error": f"the first research ended {first['status']}"}
        timings = session_timings(srv, 30, BENCH_ACCOUNT)
        last = httpx.get(f"{srv.base}/api/sessions?limit=1", timeout=10).json()["sessions"][0]
        if not last["cached"]:
            return {"ok": False, "error": "the second look was not served from cache"}
    return {
        "ok": True,
        "p50_ms": statistics.median(timings),
        "p99_ms": max(timings),
        "runs": len(timings),
    }


def first_research_step() -> dict[str, Any]:
    timings = []
    for _ in range(3):
        with product_server(DOSSIER_VENDOR_NAME="Acme Analytics") as srv:
            timings += session_timings(srv, 1)
    return {
        "ok": True,
        "p50_ms": statistics.median(timings),
        "max_ms": max(timings),
        "runs": len(timings),
    }


def ws_step(which: str) -> dict[str, Any]:
    args = ["--clients", "200", "--questions", "5", "--timeout", "60"]
    if which == "baseline":
        with baseline_server() as srv:
            url = srv.base.replace("http://", "ws://") + "/ws/sessions/chat1/chat"
            return tool("wsload.py", url, *args, "--pid", str(srv.pid))
    with product_server(
        DOSSIER_VENDOR_NAME="Acme Analytics", DOSSIER_QUESTION_RATE_PER_MIN="10000000"
    ) as srv:
        session_timings(srv, 1)  # a finished Stripe research to talk about
        sessions = httpx.get(f"{srv.base}/api/sessions", timeout=10).json()["sessions"]
        url = (
            srv.base.replace("http://", "ws://") + f"/ws/sessions/{sessions[0]['session_id']}/chat"
        )
        # the reference client, its question ids made unique in the session (see the file)
        return tool("wsload_ids.py", url, *args, "--pid", str(srv.pid), folder=ROOT / "bench")


def chat_step() -> dict[str, Any]:
    out = subprocess.run(
        [PY, str(ROOT / "bench" / "chat_ttft.py"), "--json"],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
    )
    try:
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "error": out.stderr[-500:]}
    for label in ("partial_cold", "complete_cold", "complete_warm"):
        for key, value in result.get(label, {}).items():
            result[f"{label}_{key}"] = value
    return result


def mcp_step() -> dict[str, dict[str, Any]]:
    """MCP (``/mcp``) vs the HTTP API on one server, mid-research (bench/mcp_latency.py).
    Both sides come from the same run: ``baseline`` is the HTTP API here (the same calls
    without MCP), not the raw baseline server."""
    with product_server(
        DOSSIER_VENDOR_NAME="Acme Analytics",
        DOSSIER_REPLAY_LATENCY_MS="3000",  # the research stays running while we ask
        DOSSIER_QUESTION_RATE_PER_MIN="10000000",
    ) as srv:
        out = subprocess.run(
            [PY, str(ROOT / "bench" / "mcp_latency.py"), "--base", srv.base, "--json"],
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
        )
    try:
        raw: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        failed = {"ok": False, "error": out.stderr[-500:]}
        return {"baseline": failed, "product": failed}
    ok = bool(raw.get("ok")) and bool(raw.get("mid_research"))
    return {
        which: {
            "ok": ok,
            "start_p50_ms": raw[f"{side}_start_p50_ms"],
            "ask_p50_ms": raw[f"{side}_ask_p50_ms"],
            "raw": raw,
        }
        for which, side in (("baseline", "http"), ("product", "mcp"))
    }


def step_overhead_step() -> dict[str, Any]:
    out = subprocess.run(
        [PY, str(ROOT / "bench" / "step_overhead.py"), "--json"],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
    )
    try:
        result: dict[str, Any] = json.loads(out.stdout)
    except ValueError:
        return {"ok": False, "error": out.stderr[-500:]}
    return result


def per_side(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A step measuring several sides returns one result each, or one failure for all."""
    if "ok" in result:  # (the step itself failed)
        return {"product": result}
    return result


def median_of(results: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in results if isinstance(r.get(key), (int, float))]
    return statistics.median(values) if values else None


def summarize(raw: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def pair(step: str, key: str, title: str, target: str, higher_is_better: bool) -> None:
        if step not in raw:
            return
        base = median_of(raw[step].get("baseline", []), key)
        prod = median_of(raw[step].get("product", []), key)
        ratio = prod / base if base and prod is not None else None
        rows.append(
            {
                "metric": title,
                "baseline": base,
                "product": prod,
                "ratio": ratio,
                "target": target,
                "higher_is_better": higher_is_better,
            }
        )

    pair("sse1", "events_per_s", "SSE 1 client x 200k, events/s", ">= 0.95x", True)
    pair("fan", "lat_p99_ms", "SSE 1,000 x 200 @ 50 ev/s, delivery p99 ms", "<= 1.1x", False)
    pair("fan", "lat_p50_ms", "SSE 1,000 x 200 @ 50 ev/s, delivery p50 ms", "(info)", False)
    pair("resume", "lost", "Resume 1,000 clients mid-stream, lost", "0", False)
    pair("resume", "duplicated", "Resume 1,000 clients mid-stream, duplicated", "0", False)
    pair("idle", "kib_per_conn", "Idle SSE connection, KiB", "<= 0.6x", False)
    pair("ws", "ttft_p50_ms", "Chat 200 WS clients x 5, first token p50 ms", "(info)", False)
    pair("ws", "ttft_p99_ms", "Chat 200 WS clients x 5, first token p99 ms", "<= 1.5x", False)
    pair("ws", "errors", "Chat 200 WS clients x 5, protocol errors", "0", False)
    # baseline: the same calls over the HTTP API (not the raw baseline server)
    pair(
        "mcp",
        "start_p50_ms",
        "MCP research_start round trip p50 ms (vs HTTP API)",
        "<= 1.5x",
        False,
    )
    pair(
        "mcp",
        "ask_p50_ms",
        "MCP ask first answer, mid-research, p50 ms (vs HTTP API)",
        "<= 1.5x",
        False,
    )
    for step, key, title, target in (
        ("cached", "p50_ms", "Cached account: POST -> session.completed p50 ms", "< 100 ms"),
        ("cached", "p99_ms", "Cached account: POST -> session.completed max ms", "< 100 ms"),
        ("first", "p50_ms", "First replay research, builtin analyst, p50 ms", "< 2000 ms"),
        ("steps", "ms_per_step", "Durable step overhead (SQLite), ms/step", "<= 2 ms"),
        (
            "silent",
            "kib_per_conn",
            "2,000 silent SSE readers of a 10 MB stream, KiB per connection",
            "<= 64 KiB",
        ),
        (
            "silent",
            "kib_per_conn_after_drop",
            "The same, once the watchdog dropped them, KiB per connection",
            "~0 (returned)",
        ),
        (
            "silent",
            "kib_per_conn_second_wave",
            "A second wave of 2,000 after the first, KiB per connection kept on top",
            "~0 (reused)",
        ),
        ("wal", "wal_ratio", "SQLite WAL / database after 10k chat questions", "<= 4x"),
        ("wal", "wal_peak_ratio", "SQLite WAL / database, peak while asking", "(info)"),
        (
            "chat",
            "partial_cold_p50_ms",
            "Chat first token in-process, mid-research, p50 ms",
            "< 5 ms",
        ),
        (
            "chat",
            "partial_cold_p99_ms",
            "Chat first token in-process, mid-research, p99 ms",
            "(info)",
        ),
        (
            "chat",
            "complete_warm_p50_ms",
            "Chat first token in-process, answer cache warm, p50 ms",
            "(info)",
        ),
    ):
        if step in raw:
            rows.append(
                {
                    "metric": title,
                    "baseline": None,
                    "product": median_of(raw[step]["product"], key),
                    "ratio": None,
                    "target": target,
                    "higher_is_better": False,
                }
            )
    return rows + cluster.summary_rows(raw, median_of)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}"


def to_markdown(rows: list[dict[str, Any]], rounds: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; medians of {rounds} interleaved rounds "
        "(`make bench`).",
        "",
        "| metric | raw baseline | dossier | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
        lines.append(
            f"| {row['metric']} | {_num(row['baseline'])} | {_num(row['product'])} | {ratio} "
            f"| {row['target']} |"
        )
    return "\n".join(lines) + "\n"


def update_readme(markdown: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(f"{head}{start}\n{markdown}{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated steps: sse1,fan,resume,idle,silent,wal,cached,first,steps,ws,"
        "chat,mcp; on the local PostgreSQL and Redis (bench/cluster.py): pgstep,append,fan2,"
        "takeover",
    )
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    if not (SHARED / "sseload.py").exists():
        sys.exit(f"benchmark tools not found in {SHARED} (set DOSSIER_SHARED_BENCH)")
    only = set(filter(None, args.only.split(",")))

    def want(step: str) -> bool:
        return not only or step in only

    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def record(step: str, which: str, result: dict[str, Any]) -> None:
        raw.setdefault(step, {}).setdefault(which, []).append(result)
        status = (
            "ok"
            if result.get("ok", True)
            else f"NOT OK {result.get('error') or result.get('errors')}"
        )
        print(f"  {step:7} {which:8} {status}", file=sys.stderr, flush=True)

    for round_no in range(1, args.rounds + 1):
        print(f"round {round_no}/{args.rounds}", file=sys.stderr, flush=True)
        for step in ("sse1", "fan", "resume"):
            if want(step):
                for which in ("baseline", "product"):
                    record(step, which, sse_step(step, which))
        if want("idle"):
            for which in ("baseline", "product"):
                record("idle", which, idle_step(which))
        if want("silent"):
            record("silent", "product", silent_step())
        if want("wal"):
            record("wal", "product", wal_step())
        if want("cached"):
            record("cached", "product", cached_step())
        if want("first"):
            record("first", "product", first_research_step())
        if want("steps"):
            record("steps", "product", step_overhead_step())
        if want("ws"):
            for which in ("baseline", "product"):
                record("ws", which, ws_step(which))
        if want("chat"):
            record("chat", "product", chat_step())
        if want("mcp"):
            for which, result in mcp_step().items():
                record("mcp", which, result)
        if want("pgstep"):
            for which, result in per_side(cluster.pgstep_step()).items():
                record("pgstep", which, result)
        if want("append"):
            record("append", "product", cluster.append_step())
        if want("fan2"):
            for subscribers in cluster.FAN_SUBSCRIBERS:
                for which, result in cluster.fan2_step(subscribers).items():
                    record(f"fan2_{subscribers}", which, result)
        if want("takeover"):
            record("takeover", "product", cluster.takeover_step())
    rows = summarize(raw)
    markdown = to_markdown(rows, args.rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(
        json.dumps({"rows": rows, "raw": raw}, indent=1, default=str)
    )
    (RESULTS / "latest.md").write_text(markdown)
    print(markdown)
    if args.update_readme:
        update_readme(markdown)


if __name__ == "__main__":
    main()
