"""DOSSIER_REPLAY_DIR: the user's own recordings, read before the packaged ones."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dossier.collectors.http import SAMPLE_HEADER
from dossier.collectors.replay import ReplayTransport
from dossier.errors import ReplayMiss
from dossier.settings import Settings

HN = "https://hn.algolia.com/api/v1/search?query=acme&tags=story&hitsPerPage=20"


def folder_with_route(tmp_path: Path) -> Path:
    hn = tmp_path / "mine" / "hn"
    hn.mkdir(parents=True)
    (hn / "acme.json").write_text('{"hits": [], "nbHits": 0}', encoding="utf-8")
    route = {"url": HN, "file": "acme.json", "status": 200, "content_type": "application/json"}
    (hn / "routes.json").write_text(json.dumps([route]), encoding="utf-8")
    return tmp_path / "mine"


async def test_a_users_recording_is_served_and_others_still_miss(tmp_path: Path) -> None:
    transport = ReplayTransport(folders=[folder_with_route(tmp_path)])
    async with httpx.AsyncClient(transport=transport) as client:
        answer = await client.get(HN)
        assert answer.status_code == 200 and answer.json() == {"hits": [], "nbHits": 0}
        assert SAMPLE_HEADER not in answer.headers
        with pytest.raises(ReplayMiss):
            await client.get(HN.replace("acme", "globex"))
        # the packaged recordings are still there
        stripe = "https://hn.algolia.com/api/v1/search?query=stripe&tags=story&hitsPerPage=20"
        assert (await client.get(stripe)).headers[SAMPLE_HEADER] == "constructed"


def test_the_setting_names_existing_folders(tmp_path: Path) -> None:
    mine = folder_with_route(tmp_path)
    settings = Settings(_env_file=None, data_dir=tmp_path, replay_dir=f"{mine}:{mine}")
    assert settings.replay_folders == (mine, mine)
    with pytest.raises(ValueError, match="is not a folder"):
        Settings(_env_file=None, data_dir=tmp_path, replay_dir=str(tmp_path / "nope"))
