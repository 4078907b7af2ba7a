"""A local cluster in one command (``make run-cluster``): 2 API replicas, 2 workers and a
tiny round-robin load balancer, on the local PostgreSQL and Redis.

    lb        http://127.0.0.1:8000   (TCP round robin over the API replicas)
    api-1     http://127.0.0.1:8001   (DOSSIER_ROLE=api)
    api-2     http://127.0.0.1:8002
    worker-1  http://127.0.0.1:9101   (/healthz, /readyz, /metrics only)
    worker-2  http://127.0.0.1:9102

Every process gets the same DOSSIER_DATABASE_URL and DOSSIER_REDIS_URL and its own
DOSSIER_EXECUTOR_ID; the rest of the environment (sources, vendor, provider) passes
through. The processes start together, in no order: the schema is created under an
advisory lock. Ctrl-C stops everything; kill a worker (its pid is printed) to watch its
sessions move to the other one (``session.resumed`` on the stream).

The balancer is connection-level (no sticky routing is needed: any replica serves any
session, streams resume by Last-Event-ID), good for trying failover on one machine; use a
real one in production (README: Running a cluster).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys

import psycopg

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/dossier"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def ensure_database(url: str) -> None:
    """Create the database if it does not exist yet (the tables are dossier's business)."""
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        conn.execute(f'CREATE DATABASE "{name}"')  # (a name from our own settings)


def start(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "dossier", *args], env=env)
    print(f"{name:9} pid {proc.pid}  {' '.join(args)}", flush=True)
    return proc


async def balance(port: int, backends: list[int]) -> None:
    """Round robin per connection over the replicas that accept one."""
    turn = itertools.cycle(range(len(backends)))

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        for _ in backends:
            backend = backends[next(turn)]
            try:
                server_r, server_w = await asyncio.open_connection("127.0.0.1", backend)
            except OSError:
                continue  # that replica is down: the next one
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))
            return
        client_w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lb-port", type=int, default=8000)
    parser.add_argument("--api-ports", type=int, nargs="+", default=[8001, 8002])
    parser.add_argument("--worker-ports", type=int, nargs="+", default=[9101, 9102])
    opts = parser.parse_args()
    env = {
        **os.environ,
        "DOSSIER_DATABASE_URL": os.environ.get("DOSSIER_DATABASE_URL", DEFAULT_DB),
        "DOSSIER_REDIS_URL": os.environ.get("DOSSIER_REDIS_URL", DEFAULT_REDIS),
    }
    ensure_database(env["DOSSIER_DATABASE_URL"])
    procs = []
    for i, port in enumerate(opts.api_ports, 1):
        api_env = {**env, "DOSSIER_ROLE": "api", "DOSSIER_EXECUTOR_ID": f"api-{i}"}
        procs.append(start(f"api-{i}", ["serve", "--port", str(port)], api_env))
    for i, port in enumerate(opts.worker_ports, 1):
        worker_env = {**env, "DOSSIER_EXECUTOR_ID": f"worker-{i}"}
        procs.append(start(f"worker-{i}", ["worker", "--port", str(port)], worker_env))
    print(f"load balancer http://127.0.0.1:{opts.lb_port}  (Ctrl-C stops the cluster)", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lb = asyncio.create_task(balance(opts.lb_port, opts.api_ports))
    try:
        await stop.wait()
    finally:
        lb.cancel()
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
