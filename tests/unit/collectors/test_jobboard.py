"""The job-board skeleton and the board list resolution probes, derived from the
collectors themselves."""

from __future__ import annotations

import typing

import httpx
import pytest

from dossier.collectors.ashby import AshbyCollector
from dossier.collectors.base import COLLECTORS, CollectorDeps, collector_class
from dossier.collectors.boards import BOARD_ENDPOINTS
from dossier.collectors.fetching import NotFound, fetch_json
from dossier.collectors.greenhouse import GreenhouseCollector
from dossier.collectors.jobboard import JobBoardCollector
from dossier.collectors.lever import LeverCollector
from dossier.collectors.smartrecruiters import SmartRecruitersCollector
from dossier.collectors.workable import WorkableCollector
from dossier.core.types import BOARD_PROVIDERS, BoardProvider
from dossier.errors import SourceBadAnswer, SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import Recorder, mock_http, recorded, replay_http


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
    result = await recorder.run(GreenhouseCollector, http, settings, greenhouse="acme")
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


# -- what every board shares (the skeleton is the base class's, so it is tested once a board)

NO_BOARD = [
    (GreenhouseCollector, recorded("greenhouse/unknown_board_404.json", 404)),
    (LeverCollector, recorded("lever/unknown_company_404.json", 404)),
    (WorkableCollector, recorded("workable/constructed_unknown_account_404.txt", 404)),
    (AshbyCollector, (404, {}, b'{"success": false}')),
]


@pytest.mark.parametrize(("board", "answer"), NO_BOARD, ids=lambda v: getattr(v, "name", ""))
async def test_an_unknown_token_is_no_board(
    board: type[JobBoardCollector], answer: tuple[int, dict[str, str], bytes], settings: Settings
) -> None:
    url = httpx.URL(board.endpoint.url.format(token="no-such-co"), params=board.endpoint.params)
    recorder = Recorder()
    result = await recorder.run(
        board, replay_http({str(url): answer}), settings, **{board.name: "no-such-co"}
    )
    assert (result.findings, result.negative, recorder.emitted) == ([], True, [])
    assert result.notes == [f"no {board.label} {board.noun} 'no-such-co'"]


BOARDS = [GreenhouseCollector, LeverCollector, WorkableCollector, AshbyCollector]
BOARDS += [SmartRecruitersCollector]


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.name)
async def test_a_board_that_never_answers_is_unavailable_after_retries(
    board: type[JobBoardCollector], settings: Settings
) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    recorder = Recorder()
    with pytest.raises(SourceUnavailable, match="timeout"):
        await recorder.run(board, mock_http(hang, retries=2), settings, **{board.name: "acme"})
    assert [r.attempt for r in recorder.retries] == [1, 2]


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.name)
async def test_a_board_that_keeps_failing_is_unavailable_with_the_status(
    board: type[JobBoardCollector], settings: Settings
) -> None:
    http = mock_http(lambda request: httpx.Response(503, text="busy"), retries=1)
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        await Recorder().run(board, http, settings, **{board.name: "acme"})


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.name)
def test_a_board_applies_only_with_its_own_token(
    board: type[JobBoardCollector], settings: Settings
) -> None:
    collector = board(CollectorDeps(http=replay_http(), settings=settings))
    other = next(b.name for b in BOARDS if b is not board)
    assert collector.applicable({"name": "Spotify", board.name: "spotify"})
    assert not collector.applicable({"name": "Spotify", other: "spotify"})
