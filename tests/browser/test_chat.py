"""The chat panel while the research runs: cited answers, pending -> revised, steer, cancel."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import research, scroll_settled, shoot, snapshot, wait_finished


async def ask(page: Page, question: str) -> None:
    await page.fill("#question", question)
    await page.press("#question", "Enter")  # Enter sends (Shift+Enter would be a new line)


@pytest.mark.parametrize("latency_ms", [800])
async def test_a_question_mid_run_gets_a_cited_answer_that_is_revised_when_data_lands(
    page: Page, api: httpx.AsyncClient
) -> None:
    session_id = await research(page, "Stripe")
    await expect(page.locator('[data-role="chat-conn"]')).to_have_attribute("data-state", "open")
    await expect(page.locator("#session")).to_have_attribute("data-status", "running")
    await ask(page, "Who should I talk to?")

    # At once: an answer from partial data, saying what is still pending.
    turn = page.locator('.turn[data-origin="here"]')
    await expect(turn.locator(".question-text")).to_have_text("Who should I talk to?")
    pending = turn.locator('[data-role="pending"]')
    await expect(pending).to_have_class(re.compile(r"\bmarker-pending\b"))
    await expect(pending).to_contain_text("people")
    await expect(turn.locator(".turn-foot")).to_contain_text("from partial data")
    await expect(page.locator("#question")).to_have_value("")
    await shoot(page, "laptop-mid-run", full_page=False)

    # When the people land, the answer is revised, with the reason and citations.
    await expect(turn).to_have_attribute("data-revised", "true")
    await expect(turn.locator('[data-role="revised"]')).to_contain_text("people arrived")
    await expect(pending).to_have_class(re.compile(r"\bmarker-done\b"))
    answer = turn.locator('[data-role="answer"]').first
    await expect(answer).to_contain_text("Patrick Collison")
    await expect(turn.locator(".first-answer")).to_contain_text("First answer")

    await wait_finished(page)
    final = await snapshot(api, session_id)
    [logged] = final["chat"]
    assert logged["question"] == "Who should I talk to?"
    assert logged["answer"]["pending"] == ["people"]
    revision = logged["revisions"][-1]
    assert " ".join((await answer.inner_text()).split()) == " ".join(revision["text"].split())

    # A citation jumps to its finding: scrolled into view, highlighted, focused.
    cited = next(c for c in revision["citations"] if "Patrick Collison" in c["title"])
    chip = turn.locator(f'.answer-body > .citations .cite[data-finding="{cited["finding"]}"]')
    await expect(chip).to_contain_text("Patrick Collison")
    await shoot(page, "laptop-chat-with-citations", full_page=False)
    await chip.click()
    card = page.locator(f"#finding-{cited['finding']}")
    await expect(card).to_have_class(re.compile(r"\bis-highlighted\b"))
    await expect(card).to_be_in_viewport()
    await expect(card).to_be_focused()
    await expect(card).to_contain_text("Patrick Collison")
    assert await page.locator(".finding.is-highlighted").count() == 1
    await scroll_settled(page)
    await shoot(page, "laptop-citation-highlighted", full_page=False)

    # A suggestion chip asks its question.
    chip_text = await page.locator(".suggestions .chip").first.inner_text()
    await page.locator(".suggestions .chip").first.click()
    await expect(page.locator(".turn .question-text", has_text=chip_text)).to_be_visible()


@pytest.mark.parametrize(("latency_ms", "stream_delay_ms"), [(800, 40.0)])
async def test_steering_is_acknowledged_and_an_answer_in_flight_can_be_stopped(
    page: Page,
) -> None:
    await research(page, "Stripe")
    await expect(page.locator('[data-role="chat-conn"]')).to_have_attribute("data-state", "open")

    # Skip the job boards before they start: the acknowledgement says they will not run.
    await page.select_option('[data-role="steer-target"]', "jobs")
    await page.click('[data-steer="skip"]')
    status = page.locator('[data-role="steer-status"]')
    await expect(status).to_have_attribute("data-state", "ok")
    await expect(status).to_contain_text("Skipping jobs: it will not be collected.")
    greenhouse = page.locator(
        '[data-workflow="customer_intelligence"] [data-step="collect.greenhouse"]'
    )
    await expect(greenhouse).to_have_attribute("data-status", "skipped")
    await expect(greenhouse.locator(".step-note")).to_contain_text("Skipped")

    # A slow answer (40 ms a token) stopped midway ends as stopped, not as an error.
    await ask(page, "How does our offer fit them?")
    turn = page.locator('.turn[data-origin="here"]')
    stop = turn.locator('[data-role="cancel"]')
    await stop.click()
    await expect(turn).to_have_attribute("data-state", "cancelled")
    await expect(turn.locator(".turn-foot")).to_contain_text("stopped")
    await expect(stop).to_be_hidden()

    await wait_finished(page)
    # Steering is over once the research is: the buttons say so.
    await expect(page.locator('[data-steer="skip"]')).to_be_disabled()
