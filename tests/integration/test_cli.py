"""The ``dossier`` CLI against a real server: research (embedded and with --server), chat
from piped input while the research runs, ask, export, and the exit codes of bad usage
and server errors (one line, no traceback)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from dossier.app import Overrides, create_app
from dossier.cli.chat import Command, parse_command
from dossier.cli.main import app
from dossier.cli.progress import ResearchProgress
from dossier.cli.terminal import KeyInput
from dossier.client import Client
from dossier.core.events import Event, NewEvent
from dossier.settings import Settings
from tests.fakes import OfflineTransport
from tests.sse import running_server

SESSION_RE = re.compile(r"session (s_[0-9a-f]+)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Replay with a little latency, so a question asked at once lands mid-research."""
    return settings.model_copy(update={"replay_latency_ms": 150})


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What an embedded run reads: replay sources in a fresh data dir, no .env, no token."""
    monkeypatch.chdir(tmp_path)
    for name in ("DOSSIER_API_TOKEN", "DOSSIER_HOST", "DOSSIER_PORT", "DOSSIER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return {
        "DOSSIER_DATA_DIR": str(tmp_path / "embedded"),
        "DOSSIER_SOURCES": "replay",
        "DOSSIER_VENDOR_NAME": "Acme Analytics",
    }


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)


async def invoke_async(*args: str, input: str | None = None) -> Result:
    """The CLI in a worker thread (it runs its own event loop) while the server runs here."""
    return await asyncio.to_thread(invoke, *args, input=input)


async def finished_session(server: str) -> str:
    async with Client(server) as client:
        opened = await client.create_session("Stripe")
        async for _ in client.events(opened["session_id"]):
            pass
    return str(opened["session_id"])


# -- research


def test_research_embedded_json_prints_the_final_snapshot(env: dict[str, str]) -> None:
    result = invoke("research", "Stripe", "--json", env=env)
    # the demo has no recording of Stripe's filings or homepage: partial, exit status 3
    assert result.exit_code == 3, result.output
    snapshot = json.loads(result.stdout)
    assert snapshot["status"] == "partial"
    assert snapshot["account"]["name"] == "Stripe"
    titles = {f["title"] for f in snapshot["findings"]}
    assert "Abuse Investigator" in titles
    people = {f["fields"].get("name") for f in snapshot["findings"] if f["kind"] == "person"}
    assert {"Patrick Collison", "John Collison"} <= people
    assert "Patrick Collison" in snapshot["analysis"]["customer_intelligence"]["text"]


async def test_research_with_a_server_and_no_chat_streams_progress_then_the_analysis(
    server: str,
) -> None:
    result = await invoke_async("research", "Stripe", "--server", server, "--no-chat")
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert "+ job_posting  Abuse Investigator  (greenhouse)" in out
    assert "+ person  Patrick Collison — CEO and Founder of Stripe  (wikidata)" in out
    assert "✓ customer_intelligence · collect.greenhouse  done · 2 found" in out
    assert "Research partial: Stripe" in out
    assert re.search(r"funding\s+found\s+1 funding round; SEC EDGAR not in this demo's", out)
    assert re.search(r"jobs\s+found\s+2 open roles", out)
    assert "◐ customer_intelligence  partial" in out  # never a green tick over gaps
    assert "[sample data]" in out  # the demo's invented headlines say so
    findings = "findings  7 news_article · 2 job_posting · 2 person · 1 company_profile"
    assert f"{findings} · 1 funding_round" in out
    analysis = out[out.index("\nAnalysis\n") :]
    assert "Patrick Collison" in analysis and "[1]" in analysis
    assert "[1] " in analysis.split("Sources", 1)[1]  # the sources list under it
    session = SESSION_RE.search(out)
    assert session is not None
    assert f"dossier export {session[1]} --format md --server {server}" in out
    async with Client(server) as client:  # it really ran there
        assert (await client.snapshot(session[1]))["status"] in ("completed", "partial")


async def test_research_answers_piped_questions_while_it_runs(server: str) -> None:
    questions = "Who should I talk to?\n/skip nothing-such\n/focus\n"
    result = await invoke_async("research", "Stripe", "--server", server, input=questions)
    assert result.exit_code == 3, result.output
    out = result.stdout
    asked = out.index("you › Who should I talk to?")
    assert asked < out.index("Research ")  # asked (and answered) before the end
    answer = out[asked : out.index("Research ")]
    assert "Stripe › " in answer and "basis: partial" in answer
    assert "still collecting: people" in answer
    assert "unknown target 'nothing-such'" in answer  # the server's word, one line
    assert "/focus needs a data type or source" in answer
    # The answer waited for people: its revision comes with them, cited.
    revised = out[out.index("↻ revised: “Who should I talk to?”") :]
    assert "Patrick Collison" in revised and "[1] Patrick Collison — CEO" in revised


async def test_quitting_leaves_the_research_running_on_the_server(server: str) -> None:
    result = await invoke_async("research", "Stripe", "--server", server, input="/quit\n")
    assert result.exit_code == 0, result.output
    session = SESSION_RE.search(result.stdout)
    assert session is not None
    assert f"The research continues on {server}: session {session[1]}" in result.stdout
    async with Client(server) as client:
        events = [e.type async for e in client.events(session[1])]
    assert events[-1] == "session.completed"


# -- ask and export


async def test_ask_streams_a_cited_answer(server: str) -> None:
    session = await finished_session(server)
    result = await invoke_async("ask", session, "Who should I talk to?", "--server", server)
    assert result.exit_code == 0, result.output
    first, *sources = result.stdout.strip().splitlines()
    assert "Patrick Collison" in first and re.search(r"\.\[1\]\[2\]", first)
    assert sources[0].startswith("  [1] Patrick Collison — CEO and Founder of Stripe")
    assert "https://www.wikidata.org/wiki/Q7146257" in sources[0]


async def test_ask_over_the_http_fallback_says_the_same(server: str) -> None:
    session = await finished_session(server)
    texts = []
    async with Client(server) as client:
        for transport in ("websocket", "http"):
            frames = client.ask(session, "Which teams are they hiring for?", transport=transport)
            texts.append("".join([f.get("text", "") async for f in frames]))
    assert texts[0] == texts[1] and "Fraud Operations" in texts[0]


async def test_export_markdown_and_json(server: str, tmp_path: Path) -> None:
    session = await finished_session(server)
    markdown = await invoke_async("export", session, "--format", "md", "--server", server)
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout.startswith("# ") and "Abuse Investigator" in markdown.stdout
    target = tmp_path / "stripe.json"
    written = await invoke_async(
        "export", session, "-f", "json", "-o", str(target), "--server", server
    )
    assert written.exit_code == 0, written.output
    assert f"wrote {target}" in written.stderr
    snapshot = json.loads(target.read_text())
    assert snapshot["session_id"] == session
    assert any(f["title"] == "Abuse Investigator" for f in snapshot["findings"])


# -- exit codes


@pytest.mark.parametrize(
    "args",
    [
        ("research",),
        ("research", "Stripe", "--nope"),
        ("export", "s_1", "--format", "xml"),
        ("ask", "s_1", "hi", "--server", "ftp://example"),
    ],
    ids=["no-name", "unknown-option", "bad-format", "bad-server-url"],
)
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


async def test_an_invalid_name_is_bad_usage_in_one_line(server: str) -> None:
    result = await invoke_async("research", "!!!", "--server", server, "--no-chat")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "(422 invalid_input)" in result.stderr


async def test_an_unknown_session_is_one_line_and_exit_1(server: str) -> None:
    for args in (("ask", "s_nope", "hi"), ("export", "s_nope")):
        result = await invoke_async(*args, "--server", server)
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
        assert result.stderr.startswith("error: ") and "not_found" in result.stderr


def test_an_unreachable_server_is_exit_1() -> None:
    result = invoke("export", "s_1", "--server", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach http://127.0.0.1:9")


async def test_a_token_protected_server_needs_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOSSIER_API_TOKEN", raising=False)
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", sources="replay", api_token="s3cret"
    )
    async with running_server(create_app(settings)) as url:
        refused = await invoke_async("research", "Stripe", "--server", url, "--no-chat")
        assert refused.exit_code == 1
        assert refused.stderr == "error: missing or invalid bearer token (401 unauthorized)\n"
        opened = await invoke_async("research", "Stripe", "--server", url, "--token", "s3cret")
        assert opened.exit_code == 3, opened.output
        session = SESSION_RE.search(opened.stdout)
        assert session is not None
        ask = ("ask", session[1], "Who leads?", "--server", url, "--token")
        wrong = await invoke_async(*ask, "x")
        assert wrong.exit_code == 1 and "(401 unauthorized)" in wrong.stderr  # over WebSocket
        right = await invoke_async(*ask, "s3cret")
        assert right.exit_code == 0 and "Patrick Collison" in right.stdout


def test_verbose_prints_every_retry() -> None:
    progress = ResearchProgress(verbose=True)
    data = {"attempt": 2, "error": "timeout", "next_in_s": 1.0}
    event = Event.build(
        1,
        "s_1",
        NewEvent("step.retrying", data, workflow="customer_intelligence", step="collect.hn"),
    )
    assert [line.plain for line in progress.apply(event)] == [
        "  ↻ customer_intelligence · collect.hn  retrying (attempt 2): timeout, next in 1.0 s"
    ]


def test_usage_reads_plainly_and_suggests_only_real_options() -> None:
    help_text = invoke("research", "--help").stdout
    assert help_text.startswith("Usage: dossier research [OPTIONS] NAME\n")
    typo = invoke("research", "Stripe", "--refrsh")
    assert typo.exit_code == 2
    assert "No such option: --refrsh. Did you mean --refresh?" in typo.output
    elsewhere = invoke("research", "Stripe", "--fromat", "md")
    assert "--format is an option of `dossier export`" in elsewhere.output
    assert "--domain" not in elsewhere.output


def test_an_empty_name_is_said_in_plain_words() -> None:
    result = invoke("research", "   ")
    assert result.exit_code == 2
    assert result.stderr == "error: the company name is empty: e.g. dossier research Stripe\n"
    assert "String should have" not in result.output


# -- exit status from the research's status


async def test_a_complete_research_exits_0(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", sources="replay")
    everything = Overrides(collector_table={"everything": "tests.fakes:EverythingCollector"})
    async with running_server(create_app(settings, everything)) as url:
        result = await invoke_async("research", "Stripe", "--server", url, "--no-chat")
        assert result.exit_code == 0, result.output
        assert "Research completed: Stripe" in result.stdout
        again = await invoke_async("research", "Stripe", "--server", url, "--no-chat")
        assert again.exit_code == 0, again.output
        assert re.search(r"Research completed: Stripe  from cache, \d+ s old", again.stdout)
        assert 'to ask the sources again: dossier research "Stripe" --refresh' in again.stdout


async def test_an_offline_research_exits_1_and_says_so(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        sources="live",
        http_retries=2,
        http_backoff_s=0.01,
    )
    offline = Overrides(source_transport=OfflineTransport())
    async with running_server(create_app(settings, offline)) as url:
        result = await invoke_async("research", "Stripe", "--server", url, "--no-chat")
    assert result.exit_code == 1, result.output
    out = result.stdout
    # every source was tried three times: still one line per source (its failure), and the
    # whole run fits a screen (it was 40-odd retry lines)
    for source in ("greenhouse", "lever", "ashby", "smartrecruiters", "workable", "hn", "gdelt"):
        assert len(re.findall(rf"collect\.{source}\b", out)) == 1, (source, out)
    assert "retrying" not in out and len(out.splitlines()) <= 52, out  # the brief in paragraphs
    assert "Research failed: Stripe" in out
    assert "! Cannot reach the internet from this machine" in out
    assert re.search(r"jobs\s+failed\s+could not reach Greenhouse", out)


async def test_an_unidentified_company_exits_3_with_a_domain_hint(server: str) -> None:
    result = await invoke_async("research", "Xyzzy Corp", "--server", server, "--no-chat")
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert re.search(r"profile\s+not identified\s+couldn't identify Xyzzy Corp", out)
    assert 'try: dossier research "Xyzzy Corp" --domain example.com' in out


# -- the chat prompt's pieces


def test_commands_parse() -> None:
    assert parse_command("  What is new? ") == Command("ask", "What is new?")
    assert parse_command("/skip Jobs") == Command("steer", action="skip", target="jobs")
    assert parse_command("/focus news") == Command("steer", action="focus", target="news")
    assert parse_command("/stop") == Command("steer", action="stop_and_summarize")
    assert parse_command("/quit").kind == parse_command("/exit").kind == "quit"
    assert parse_command("/dance").kind == "invalid" and parse_command("").kind == "empty"


def test_keys_edit_the_prompt_line() -> None:
    keys = KeyInput(lambda: None)
    for key in "Who leads\x1b[Dx\x7f them? no\x17\x1bb":
        keys.key(key)
    assert keys.buffer == "Who leads them? "
    keys.key("\r")
    assert keys.lines.get_nowait() == "Who leads them? " and keys.buffer == ""
    keys.key("\x04")  # Ctrl-D on an empty line: end of input
    assert keys.lines.get_nowait() is None


def test_the_live_view_shows_each_step_state() -> None:
    progress = ResearchProgress()
    wf = "customer_intelligence"
    news: dict[str, Any] = {"id": "f_1", "kind": "news_article", "title": "Launch"}
    news |= {"source": "hn", "url": None, "observed_at": "2026-01-01T00:00:00Z", "fields": {}}
    news["confidence"] = 0.9
    steps: list[tuple[str, str | None, dict[str, Any]]] = [
        ("workflow.started", None, {"workflow_id": "s_1.ci"}),
        ("step.completed", "cache_check", {"cached": True, "found": 0}),
        ("step.progress", "resolve", {"done": 3, "total": 8, "found": 1, "eta_s": 2.4}),
        ("step.retrying", "collect.hn", {"attempt": 2, "error": "timeout", "next_in_s": 1.0}),
        ("step.failed", "collect.rss", {"error": "no feed"}),
        ("step.skipped", "collect.greenhouse", {"reason": "skipped on request"}),
        ("finding", "collect.hn", news),
    ]
    notes = []
    for seq, (kind, step, data) in enumerate(steps, start=1):
        event = Event.build(seq, "s_1", NewEvent(kind, data, workflow=wf, step=step))
        notes += [line.plain for line in progress.apply(event)]
    console = Console(record=True, width=120)
    console.print(progress.live())
    screen = console.export_text()
    assert re.search(r"cache_check\s+cached", screen)
    assert re.search(r"resolve\s+3/8\s+1 found\s+~2 s", screen)
    # one line per retrying source, with its attempt and countdown (and why)
    assert re.search(r"collect\.hn .*retrying \(attempt 2(, next in 1 s)?\) timeout", screen)
    assert re.search(r"✗\s+collect\.rss .*no feed", screen)
    assert re.search(r"⤼\s+collect\.greenhouse .*skipped on request", screen)
    assert "findings  1 news_article" in screen
    assert notes == [  # retries are not printed one by one (only with --verbose)
        "  ✗ customer_intelligence · collect.rss  failed: no feed",
        "  ⤼ customer_intelligence · collect.greenhouse  skipped: skipped on request",
        "  + news_article  Launch  (hn)",
    ]
