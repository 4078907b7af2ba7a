"""A replay research of Stripe, end to end through the real workflows (DBOS on SQLite)."""

from __future__ import annotations

import re

import httpx
import pytest

from dossier.settings import Settings
from tests.sse import SSEEvent, read_stream


async def start(
    client: httpx.AsyncClient, name: str = "Stripe", **extra: object
) -> dict[str, object]:
    response = await client.post("/api/sessions", json={"account": {"name": name}, **extra})
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


async def run_to_end(client: httpx.AsyncClient, session_id: str) -> list[SSEEvent]:
    events, _ = await read_stream(client, f"/api/sessions/{session_id}/events")
    return events


async def test_a_replay_research_streams_every_step_and_finding_in_order(
    client: httpx.AsyncClient,
) -> None:
    opened = await start(client)
    assert opened["joined"] is False and opened["cached"] is False
    events = await run_to_end(client, str(opened["session_id"]))

    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # gap-free, in order
    assert events[0].event == "session.created"
    assert events[-1].event == "session.completed"
    for event in events:
        assert event.json["seq"] == event.seq and event.json["type"] == event.event
    steps = {(e.json["workflow"], e.json["step"]) for e in events if e.event == "step.completed"}
    for step in (
        "cache_check",
        "resolve",
        "collect.greenhouse",
        "collect.hn",
        "analyze",
        "cache_store",
    ):
        assert ("customer_intelligence", step) in steps
    jobs = [
        e.json["data"]
        for e in events
        if e.event == "finding" and e.json["data"]["kind"] == "job_posting"
    ]
    assert sorted(j["title"] for j in jobs) == [
        "Abuse Investigator",
        "Operations Associate, New Grad (Mexico)",
    ]
    assert {j["fields"]["location"] for j in jobs} == {"Dublin", "Mexico City, Mexico"}
    news = [
        e.json["data"]
        for e in events
        if e.event == "finding" and e.json["data"]["kind"] == "news_article"
    ]
    assert sorted(n["source"] for n in news) == ["gdelt"] * 2 + ["hn"] * 5
    assert any("Bridge" in n["title"] for n in news)
    people = {
        e.json["data"]["fields"]["name"]
        for e in events
        if e.event == "finding" and e.json["data"]["kind"] == "person"
    }
    assert people == {"Patrick Collison", "John Collison"}
    resolved = next(
        e.json["data"]
        for e in events
        if e.event == "step.completed"
        and e.json["step"] == "resolve"
        and e.json["workflow"] == "customer_intelligence"
    )
    assert resolved["identifiers"]["wikidata"] == "Q7624104"
    assert resolved["identifiers"]["greenhouse"] == "stripe"
    assert resolved["identifiers"]["domain"] == "stripe.com"
    completed = events[-1].json["data"]
    # the demo has no recording of Stripe's SEC filings, blog or homepage: partial, and said
    assert completed["status"] == "partial"
    assert completed["coverage"]["jobs"] == {
        "state": "found",
        "found": 2,
        "complete": True,
        "reason": "2 open roles",
        "sources": {"greenhouse": {"state": "found", "found": 2}},
    }
    funding = completed["coverage"]["funding"]
    # the one round is read from a (sample) headline; the filer's own answer is not recorded
    assert funding["state"] == "found" and funding["complete"] is False
    assert funding["reason"] == "1 funding round; SEC EDGAR not in this demo's recordings"
    assert funding["sources"]["sec_edgar"]["state"] == "not_recorded"
    assert funding["sources"]["news_signals"] == {"state": "found", "found": 1}
    assert {(m["data_type"], m["state"]) for m in completed["missing"]} >= {
        ("funding", "not_recorded"),
        ("tech", "not_recorded"),
    }


async def test_the_snapshot_folds_the_log(client: httpx.AsyncClient) -> None:
    opened = await start(client)
    session_id = str(opened["session_id"])
    events = await run_to_end(client, session_id)
    snapshot = (await client.get(f"/api/sessions/{session_id}")).json()
    assert snapshot["session_id"] == session_id
    assert snapshot["last_seq"] == events[-1].seq
    assert snapshot["status"] == events[-1].json["data"]["status"]
    assert snapshot["account"]["name"] == "Stripe"
    assert len(snapshot["findings"]) == 13  # 12 collected + the round read from a headline
    profile = next(f for f in snapshot["findings"] if f["kind"] == "company_profile")
    assert profile["fields"]["sources"] == ["wikidata", "wikipedia"]  # one fact, two sources
    assert "founded in 2010" in profile["fields"]["description"]
    for finding in snapshot["findings"]:
        assert {
            "id",
            "kind",
            "title",
            "source",
            "url",
            "observed_at",
            "published_at",
            "confidence",
            "fields",
        } <= set(finding)
    customer = snapshot["workflows"]["customer_intelligence"]
    assert customer["status"] == "completed"
    assert next(s["name"] for s in customer["steps"]) == "cache_check"
    analysis = snapshot["analysis"]["customer_intelligence"]
    assert "Abuse Investigator" in analysis["text"]
    cited = {c["finding"] for c in analysis["citations"]}
    assert cited <= {f["id"] for f in snapshot["findings"]}
    assert cited


async def test_a_second_look_reuses_what_answered_and_asks_again_what_did_not(
    client: httpx.AsyncClient,
) -> None:
    first = await start(client)
    await run_to_end(client, str(first["session_id"]))
    second = await start(client, "Stripe, Inc.")
    # the first research had gaps: it is never served whole from cache
    assert second["cached"] is False and second["status"] == "running"
    events = await run_to_end(client, str(second["session_id"]))
    ends = {
        e.json["step"]: e.json["data"]
        for e in events
        if e.json["workflow"] == "customer_intelligence"
        and str(e.json["step"]).startswith("collect.")
        and e.event in ("step.completed", "step.failed")
    }
    assert ends["collect.greenhouse"]["cached"] is True  # answered last time: from cache
    assert "from cache" in ends["collect.greenhouse"]["message"]
    assert ends["collect.sec_edgar"].get("cached") is not True  # not recorded: asked again
    assert ends["collect.sec_edgar"]["state"] == "not_recorded"
    assert len({e.json["data"]["id"] for e in events if e.event == "finding"}) == 13
    assert events[-1].json["data"]["status"] == "partial"
    fresh = await start(client, "Stripe", refresh=True)
    assert fresh["cached"] is False and fresh["session_id"] != second["session_id"]
    again = await run_to_end(client, str(fresh["session_id"]))
    assert not any(
        e.json["data"].get("cached")
        for e in again
        if e.event == "step.completed" and str(e.json["step"]).startswith("collect.")
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"replay_latency_ms": 0})


async def test_resume_replays_exactly_the_events_after_the_id(client: httpx.AsyncClient) -> None:
    opened = await start(client)
    session_id = str(opened["session_id"])
    full = await run_to_end(client, session_id)
    cut = len(full) // 3
    by_header, _ = await read_stream(
        client, f"/api/sessions/{session_id}/events", headers={"Last-Event-ID": str(cut)}
    )
    by_query, _ = await read_stream(
        client, f"/api/sessions/{session_id}/events?last_event_id={cut}"
    )
    expected = [(e.seq, e.event, e.data) for e in full[cut:]]
    assert [(e.seq, e.event, e.data) for e in by_header] == expected
    assert [(e.seq, e.event, e.data) for e in by_query] == expected


async def test_a_finished_stream_resumed_at_its_end_says_204(client: httpx.AsyncClient) -> None:
    opened = await start(client)
    session_id = str(opened["session_id"])
    full = await run_to_end(client, session_id)
    response = await client.get(
        f"/api/sessions/{session_id}/events", headers={"Last-Event-ID": str(full[-1].seq)}
    )
    assert response.status_code == 204


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "99999", " 3x"])
async def test_an_invalid_last_event_id_is_a_400(client: httpx.AsyncClient, bad: str) -> None:
    opened = await start(client)
    response = await client.get(
        f"/api/sessions/{opened['session_id']}/events", headers={"Last-Event-ID": bad}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_last_event_id"


async def test_the_workflow_endpoints_show_one_workflow(client: httpx.AsyncClient) -> None:
    opened = await start(client)
    session_id = str(opened["session_id"])
    await run_to_end(client, session_id)
    wf_id = f"{session_id}.customer_intelligence"
    workflow = (await client.get(f"/api/workflows/{wf_id}")).json()
    assert workflow["status"] == "completed" and workflow["kind"] == "customer_intelligence"
    assert workflow["session_id"] == session_id
    events, _ = await read_stream(client, f"/api/workflows/{wf_id}/progress")
    assert events and all(e.json["workflow"] == "customer_intelligence" for e in events)
    assert events[-1].event == "workflow.completed"
    missing = await client.get(f"/api/workflows/{session_id}.nope")
    assert missing.status_code == 404


async def test_the_dossier_exports_as_markdown_and_json(client: httpx.AsyncClient) -> None:
    opened = await start(client)
    session_id = str(opened["session_id"])
    await run_to_end(client, session_id)
    markdown = await client.get(f"/api/sessions/{session_id}/export?format=md")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "attachment" in markdown.headers["content-disposition"]
    text = markdown.text
    assert text.startswith("# Dossier: Stripe")
    assert "## Job postings" in text and "Abuse Investigator" in text
    assert "<https://stripe.com/jobs/search?gh_jid=8172508>" in text
    assert re.search(
        r'filename="dossier-stripe-\d{4}-\d{2}-\d{2}\.md"', markdown.headers["content-disposition"]
    )
    briefing = text[text.index("## Briefing") : text.index("## Sources")]
    sources = text[text.index("## Sources") : text.index("## Coverage")]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", briefing)}
    listed = [int(n) for n in re.findall(r"^(\d+)\. ", sources, flags=re.M)]
    assert listed == list(range(1, len(listed) + 1)) and cited == set(listed)
    assert "\n\nTalking point:" in briefing  # paragraphs, not one block
    assert "| Headquarters | San Francisco |" in text  # the profile as a table, not a link
    assert "Security Analytics · Dublin" in text  # a job's team and place
    as_json = (await client.get(f"/api/sessions/{session_id}/export?format=json")).json()
    assert as_json["session_id"] == session_id and len(as_json["findings"]) == 13
    assert (await client.get(f"/api/sessions/{session_id}/export?format=pdf")).status_code == 422
