"""A dependency that is down is logged once, then summarised, then once when back: not a
traceback per retry."""

from __future__ import annotations

import logging

import pytest

from dossier.outage import Outage


def test_an_outage_is_logged_once_then_summarised_then_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    outage = Outage("Redis", logging.getLogger("test.outage"), clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="test.outage")
    for _ in range(120):  # two minutes of a retry a second
        outage.failed(ConnectionError("Connection refused"))
        now[0] += 1.0
    assert outage.down and outage.last_error == "ConnectionError: Connection refused"
    outage.ok()
    outage.ok()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Redis is unreachable (Connection refused); retrying quietly",
        "Redis still unreachable after 60 s (60 more failures; last: "
        "ConnectionError: Connection refused)",
        "Redis is reachable again after 120 s (120 failures)",
    ]
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks
    assert not outage.down
