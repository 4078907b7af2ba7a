"""Working vs stuck vs retrying: the timeline reads the liveness beats, not just the status."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from dossier.core.events import NewEvent
from dossier.core.types import iso_ms
from tests.browser.helpers import research, shoot, wait_finished

WORKFLOW = "customer_intelligence"


def ago(seconds: float) -> str:
    return iso_ms(datetime.now(UTC) - timedelta(seconds=seconds))


@pytest.mark.parametrize("latency_ms", [800])
async def test_a_silent_step_shows_as_stuck_and_a_beat_brings_it_back(
    page: Page, app: FastAPI
) -> None:
    session_id = await research(page, "Stripe")
    log = app.state.services.sessions.log
    # Two extra steps, as a slow source would report them: one whose last sign of life is
    # 30 s old, one waiting 4 s before its second attempt.
    await log.append(
        session_id,
        [
            NewEvent(
                type="step.started",
                data={"done": 1, "total": 4, "found": 0, "eta_s": 20, "message": "page 1 of 4"},
                workflow=WORKFLOW,
                step="collect.slowpoke",
                ts=ago(30),
            ),
            NewEvent(
                type="step.started",
                data={"done": 0, "total": 1, "found": 0, "message": "asking"},
                workflow=WORKFLOW,
                step="collect.flaky",
            ),
            NewEvent(
                type="step.retrying",
                data={"attempt": 2, "error": "HTTP 503 from the source", "next_in_s": 60},
                workflow=WORKFLOW,
                step="collect.flaky",
            ),
        ],
    )
    card = page.locator(f'[data-workflow="{WORKFLOW}"]')
    slow = card.locator('[data-step="collect.slowpoke"]')
    await expect(slow).to_have_attribute("data-live", "stuck")
    await expect(slow.locator(".step-note")).to_contain_text(
        re.compile(r"No sign of life for 3\d s")
    )
    await expect(card.locator('[data-role="wf-status"]')).to_have_text("Stuck?")
    await expect(slow.locator('[role="progressbar"]')).to_have_attribute("aria-valuenow", "1")

    flaky = card.locator('[data-step="collect.flaky"]')
    await expect(flaky).to_have_attribute("data-status", "retrying")
    await expect(flaky).to_have_attribute("data-live", "waiting")
    await expect(flaky.locator(".step-note")).to_contain_text("Retrying (attempt 2")
    await expect(flaky.locator(".step-note")).to_contain_text("next try in")
    await expect(flaky.locator(".step-error")).to_have_text("HTTP 503 from the source")
    await shoot(page, "laptop-stuck-and-retrying", full_page=False)

    # A liveness beat (step.progress with beat=true) and it is working again.
    await log.append(
        session_id,
        [
            NewEvent(
                type="step.progress",
                data={"done": 2, "total": 4, "found": 3, "message": "page 2 of 4", "beat": True},
                workflow=WORKFLOW,
                step="collect.slowpoke",
            )
        ],
    )
    await expect(slow).to_have_attribute("data-live", "working")
    await expect(slow.locator(".step-note")).to_contain_text("Working")
    await expect(slow.locator(".step-meta")).to_contain_text("2/4 · 3 found")
    await expect(card.locator('[data-role="wf-status"]')).to_have_text("Working")

    # Once the research is over nothing is "stuck" any more: it is simply over.
    await wait_finished(page)
    await expect(card.locator('[data-live="stuck"]')).to_have_count(0)
