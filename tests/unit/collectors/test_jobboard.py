"""The job-board skeleton and the board list resolution probes, derived from the
collectors themselves."""

from __future__ import annotations

import typing

import httpx
import pytest

from dossier.collectors.base import COLLECTORS, collector_class
from dossier.collectors.boards import BOARD_ENDPOINTS
from dossier.collectors.fetching import NotFound, fetch_json
from dossier.collectors.greenhouse import GreenhouseCollector
from dossier.collectors.jobboard import JobBoardCollector
from dossier.core.types import BOARD_PROVIDERS, BoardProvider
from dossier.errors import SourceBadAnswer, SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import Recorder, deps, mock_http


def test_every_board_collector_is_probed_and_accepted_by_the_api() -> None:
    boards = {
        name
        for name, path in COLLECTORS.items()
        if issubclass(typing.cast(type, collector_class(path)), JobBoardCollector)
    }
    assert set(BOARD_ENDPOINTS) == boards
    # the API's ``boards`` field (PRODUCT.md) names exactly these providers
    assert set(BOARD_PROVIDERS) == boards == set(typing.get_args(BoardProvider))


def test_the_probe_asks_what_the_collector_asks() -> None:
    assert BOARD_ENDPOINTS["greenhouse"] is GreenhouseCollector.endpoint
    assert "{token}" in GreenhouseCollector.endpoint.url


async def test_a_board_with_nothing_open_is_an_answer_not_no_board(settings: Settings) -> None:
    http = mock_http(lambda request: httpx.Response(200, json={"jobs": []}))
    recorder = Recorder()
    result = await GreenhouseCollector(deps(http, settings)).collect(
        recorder.context(greenhouse="acme")
    )
    assert result.findings == [] and result.negative is False
    assert result.notes == ["Greenhouse board 'acme' has no openings"]
    assert recorder.progress[-1].message == "0 open roles"


async def test_fetch_json_maps_statuses_and_bodies(settings: Settings) -> None:
    answers = {
        "/404": httpx.Response(404, json={"error": "Job not found"}),
        "/403": httpx.Response(403),
        "/html": httpx.Response(200, text="<html>  Access\n denied </html>"),
        "/ctrl": httpx.Response(200, text='{"title": "a\x01b"}'),
    }
    http = mock_http(lambda request: answers[request.url.path], retries=0)
    url = "https://example.com"
    with pytest.raises(NotFound):
        await fetch_json(http, f"{url}/404", label="Acme", missing_is_answer=True)
    with pytest.raises(SourceUnavailable, match="Acme answered HTTP 404"):
        await fetch_json(http, f"{url}/404", label="Acme")
    with pytest.raises(SourceUnavailable, match="Acme answered HTTP 403"):
        await fetch_json(http, f"{url}/403", label="Acme")
    with pytest.raises(SourceBadAnswer, match="<html> Access denied </html>"):
        await fetch_json(http, f"{url}/html", label="Acme")
    with pytest.raises(SourceBadAnswer):
        await fetch_json(http, f"{url}/ctrl", label="Acme")
    assert await fetch_json(http, f"{url}/ctrl", label="Acme", strict=False) == {"title": "a\x01b"}
