"""scripts/record_fixtures.py: the dry run lists the requests without touching the network,
and recordings are written in the layout the replay transport reads."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from dossier.collectors.replay import ReplayTransport

SCRIPT = Path(__file__).parents[3] / "scripts" / "record_fixtures.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_fixtures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_dry_run_prints_the_requests_each_company_needs(
    script: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert script.main(["--dry-run", "--company", "NVIDIA", "--company", "Stripe"]) == 0
    lines = capsys.readouterr().out.splitlines()
    requests = [line.split()[1] for line in lines if line.startswith("GET ")]
    # resolution first, then each applicable collector, including requests that depend on
    # an earlier answer (the 8-K named in the submissions, the labels of the claims)
    for expected in (
        "https://www.sec.gov/files/company_tickers.json",
        "https://data.sec.gov/submissions/CIK0001045810.json",
        "https://www.sec.gov/Archives/edgar/data/1045810/0001045810-26-000024-index.html",
        "https://www.sec.gov/Archives/edgar/data/1045810/000104581026000024/nvda-20260302.htm",
        "https://www.wikidata.org/w/api.php?action=wbgetentities&ids=Q7624104"
        "&props=labels%7Cclaims&languages=en&format=json",
        "https://en.wikipedia.org/api/rest_v1/page/summary/Stripe,_Inc.",
        "https://boards-api.greenhouse.io/v1/boards/stripe/jobs?content=true",
    ):
        assert expected in requests
    # what replay cannot answer yet is flagged: that is what a live run would add
    assert any(
        "action=wbsearchentities" in line and "search=NVIDIA" in line and "not recorded" in line
        for line in lines
    )
    assert "# NVIDIA" in lines and "# Stripe" in lines


def test_recordings_replay(script: ModuleType, tmp_path: Path) -> None:
    url = "https://data.sec.gov/submissions/CIK0001045810.json"
    record = script.Recorded(url, 200, {"content-type": "application/json"}, b'{"cik":"1"}')
    (written,) = script.write_recordings([record], tmp_path, when=datetime(2026, 9, 1, tzinfo=UTC))
    assert written.parent.name == "sec"
    routes = json.loads((tmp_path / "sec" / "routes.json").read_text())
    assert routes == [
        {"url": url, "file": written.name, "status": 200, "content_type": "application/json"}
    ]
    sidecar = json.loads(written.with_name(written.name + ".headers.json").read_text())
    assert sidecar["uri"] == url and sidecar["status"] == 200
    provenance = (tmp_path / "sec" / "PROVENANCE.md").read_text()
    assert "2026-09-01" in provenance and provenance.rstrip().endswith("| real |")
    # re-recording replaces the route instead of adding a second one
    script.write_recordings([record], tmp_path, when=datetime(2026, 9, 2, tzinfo=UTC))
    assert len(json.loads((tmp_path / "sec" / "routes.json").read_text())) == 1


async def test_written_recordings_are_served_by_the_replay_transport(
    script: ModuleType, tmp_path: Path
) -> None:
    url = "https://en.wikipedia.org/api/rest_v1/page/summary/Stripe,_Inc."
    record = script.Recorded(url, 200, {"content-type": "application/json"}, b'{"title":"x"}')
    script.write_recordings([record], tmp_path, when=datetime(2026, 9, 1, tzinfo=UTC))
    transport = ReplayTransport(root=tmp_path)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(url)
    assert response.status_code == 200 and response.json() == {"title": "x"}


def test_live_recording_requires_a_contact_email(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DOSSIER_CONTACT_EMAIL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file here
    with pytest.raises(SystemExit, match="DOSSIER_CONTACT_EMAIL"):
        script.main(["--company", "Stripe", "--out", str(tmp_path / "out")])
