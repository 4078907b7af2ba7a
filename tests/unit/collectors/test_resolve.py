"""Account resolution on the recorded SEC, Wikidata, GLEIF and job-board answers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dossier.collectors.boards import slug_guesses
from dossier.collectors.http import SourceHttp
from dossier.collectors.identity import pick_lei
from dossier.collectors.replay import ReplayTransport
from dossier.collectors.resolution import Resolution
from dossier.collectors.resolve import resolve
from dossier.collectors.sec_tickers import resolve_from_tickers
from dossier.collectors.wikidata import company_hits
from dossier.core.ports import ProgressReport
from dossier.settings import Settings

FIXTURES = Path(__file__).parents[3] / "src" / "dossier" / "fixtures"
SHARED_BOARD_404 = b'{"ok":false,"error":"Document not found"}'
Extra = dict[str, tuple[int, dict[str, str], bytes]]
# the packaged (trimmed) company list, served as if it were the whole list
UNTRIMMED_TICKERS = (
    200,
    {"content-type": "application/json"},
    (FIXTURES / "sec/company_tickers.json").read_bytes(),
)


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def boards_absent(slug: str) -> Extra:
    """Every board provider but Greenhouse answering "no such board" for ``slug``."""
    json_type = {"content-type": "application/json"}
    empty_sr = b'{"offset":0,"limit":100,"totalFound":0,"content":[]}'
    return {
        f"https://api.lever.co/v0/postings/{slug}?mode=json": (404, json_type, SHARED_BOARD_404),
        f"https://api.ashbyhq.com/posting-api/job-board/{slug}?includeCompensation=true": (
            404,
            {},
            b"",
        ),
        f"https://api.smartrecruiters.com/v1/companies/{slug}/postings?limit=100&offset=0": (
            200,
            json_type,
            empty_sr,
        ),
        f"https://apply.workable.com/api/v1/widget/accounts/{slug}?details=true": (404, {}, b""),
    }


def no_board_anywhere(*slugs: str) -> Extra:
    """Every provider, Greenhouse too, answering "no such board" for each slug."""
    extra: Extra = {}
    for slug in slugs:
        extra |= boards_absent(slug)
        extra[f"https://boards-api.greenhouse.io/v1/boards/{slug}/jobs?content=true"] = (
            404,
            {},
            b"",
        )
    return extra


async def run(
    settings: Settings, account: dict[str, object], extra: Extra | None = None
) -> tuple[Resolution, ReplayTransport, list[ProgressReport]]:
    transport = ReplayTransport(extra=extra)
    http = SourceHttp(httpx.AsyncClient(transport=transport), host_intervals_s={}, retries=0)
    reports: list[ProgressReport] = []

    async def progress(report: ProgressReport) -> None:
        reports.append(report)

    result = await resolve(account, http, settings=settings, progress=progress)
    return result, transport, reports


# -- pure parts


def test_tickers_match_a_normalised_title() -> None:
    payload = load("sec/company_tickers.json")
    for name in ("NVIDIA", "Nvidia Corp.", "NVIDIA CORP"):
        match = resolve_from_tickers(payload, name)
        assert match.company is not None and match.by == "title"
        assert (match.company.cik, match.company.tickers) == ("0001045810", ("NVDA",))
    assert resolve_from_tickers(payload, "Shopify Inc.").company.cik == "0001594805"  # type: ignore[union-attr]


def test_tickers_match_a_ticker() -> None:
    match = resolve_from_tickers(load("sec/company_tickers.json"), "$nvda")
    assert match.by == "ticker" and match.company is not None
    assert match.company.title == "NVIDIA CORP"


def test_private_company_is_not_in_the_ticker_list() -> None:
    match = resolve_from_tickers(load("sec/company_tickers.json"), "Stripe")
    assert match.company is None and match.candidates == ()


def test_share_classes_of_one_cik_are_one_company() -> None:
    payload = load("sec/company_tickers_stripe_shopify_nvidia_fly.json")
    match = resolve_from_tickers(payload, "flyExclusive")
    assert match.company is not None
    assert match.company.tickers == ("FLYX", "FLYX-WT")
    dragonfly = resolve_from_tickers(payload, "Dragonfly Energy")
    assert dragonfly.company is not None and dragonfly.company.tickers == ("DFLI", "DFLIW")


def test_a_name_that_is_someone_elses_ticker_is_flagged() -> None:
    match = resolve_from_tickers(load("sec/company_tickers_stripe_shopify_nvidia_fly.json"), "Fly")
    assert match.by == "ticker"
    assert match.company is not None and match.company.title == "Firefly Aerospace Inc."


def test_ambiguous_titles_become_candidates() -> None:
    # variant built here: two filers whose titles normalise alike
    payload = {
        "0": {"cik_str": 1, "ticker": "ACME", "title": "Acme Corp"},
        "1": {"cik_str": 2, "ticker": "ACMU", "title": "ACME, INC."},
    }
    match = resolve_from_tickers(payload, "Acme")
    assert match.company is None
    assert [c.cik for c in match.candidates] == ["0000000001", "0000000002"]


def test_lei_needs_one_active_non_fund_entity() -> None:
    payload = load("gleif/lei-records_legalName_stripe.json")
    lei, candidates = pick_lei(payload, name="Stripe")
    # the Belgian "STRIPE" and "STRIPE, LLC" both normalise to "stripe": no guess
    assert lei is None
    assert {c["lei"] for c in candidates} == {"894500EDC64T52PGFL08", "549300CLHGIPTCYHQ143"}
    # "Stripe 158" is a fund
    assert pick_lei(payload, name="Stripe 158") == (None, [])
    single = {"data": [r for r in payload["data"] if r["id"] == "549300CLHGIPTCYHQ143"]}  # type: ignore[index]
    assert pick_lei(single, name="Stripe, LLC") == ("549300CLHGIPTCYHQ143", [])


def test_slug_guesses() -> None:
    assert slug_guesses("Stripe, Inc.", None) == ["stripe"]
    assert slug_guesses("Shepherd's Finance, LLC", None) == [
        "shepherdsfinance",
        "shepherds-finance",
    ]
    assert slug_guesses("Alphabet", "abc.xyz") == ["alphabet", "abc"]


def test_company_hits_are_reexported() -> None:
    companies, _ = company_hits(load("wikidata/wbsearchentities_Stripe.json"), name="stripe")
    assert [c["wikidata"] for c in companies] == ["Q7624104"]


# -- end to end over the replay transport


async def test_stripe_resolves_from_its_name(settings: Settings) -> None:
    result, transport, reports = await run(settings, {"name": "Stripe"}, boards_absent("stripe"))
    assert result.identifiers == {
        "name": "Stripe",
        "account_key": "stripe",
        "wikidata": "Q7624104",
        "wikipedia": "Stripe, Inc.",
        "cik": "0001691342",  # Wikidata P5531: Stripe files Form D, it is not listed
        "lei": "549300CLHGIPTCYHQ143",
        "domain": "stripe.com",
        "greenhouse": "stripe",
    }
    assert sorted(result.negatives) == [
        "ashby:stripe",
        "lever:stripe",
        "smartrecruiters:stripe",
        "workable:stripe",
    ]
    assert result.candidates == []
    # the packaged SEC list is trimmed to a few companies: it cannot say Stripe is absent
    sec = next(x for x in result.lookups if x.name == "sec_tickers")
    assert (sec.answered, sec.cause) == (False, "not_recorded")
    # ... and it does not matter: Wikidata gave the CIK the list would have given
    assert not sec.identity and result.open_failures == []
    assert result.identified
    # company list, search, one claims check, five boards; no GLEIF (LEI came with Wikidata)
    assert len(transport.requests) == 8
    assert not any("gleif" in url for url in transport.requests)
    assert [r.done for r in reports] == list(range(1, len(reports) + 1))
    assert all(r.done <= r.total for r in reports)


async def test_explicit_identifiers_win_and_save_requests(settings: Settings) -> None:
    account: dict[str, object] = {
        "name": "Stripe",
        "cik": "1691342",
        "wikidata": "q7624104",
        "domain": "https://www.stripe.com/",
        "boards": {"greenhouse": "stripe", "lever": "stripe", "ashby": "stripe"},
        "smartrecruiters": "stripe1",
        "workable": "stripe",
    }
    result, transport, _ = await run(settings, account)
    assert result.identifiers["cik"] == "0001691342"
    assert result.identifiers["wikidata"] == "Q7624104"
    assert result.identifiers["domain"] == "stripe.com"
    assert result.identifiers["smartrecruiters"] == "stripe1"
    assert result.identifiers["wikipedia"] == "Stripe, Inc."
    # no company list, no search, no board probes: only the claims check
    assert len(transport.requests) == 1
    assert "action=wbgetentities" in transport.requests[0]


async def test_a_contradicting_cik_rules_the_wikidata_hit_out(settings: Settings) -> None:
    # the user says CIK 1 while Wikidata's Stripe has 0001691342: not the same company
    result, _, _ = await run(
        settings, {"name": "Stripe", "cik": "1", "ticker": "STRP"}, boards_absent("stripe")
    )
    assert "wikidata" not in result.identifiers
    assert result.identifiers["cik"] == "0000000001"
    by_source = [(c["source"], c.get("wikidata") or c.get("lei")) for c in result.candidates]
    assert ("wikidata", "Q7624104") in by_source
    # with a CIK but no LEI, GLEIF is asked; its two "STRIPE" entities are offered, not picked
    assert ("gleif", "549300CLHGIPTCYHQ143") in by_source
    assert "lei" not in result.identifiers


async def test_nvidia_resolves_through_sec_even_when_other_sources_are_missing(
    settings: Settings,
) -> None:
    # replay has no Wikidata search or GLEIF answer for NVIDIA: those become notes
    result, _, _ = await run(settings, {"name": "NVIDIA"}, boards_absent("nvidia"))
    assert result.identifiers["cik"] == "0001045810"
    assert result.identifiers["ticker"] == "NVDA"
    assert "SEC: NVIDIA CORP (CIK 0001045810)" in result.notes
    failed = {x.name: x for x in result.failed_lookups}
    assert failed["wikidata_search"].cause == "not_recorded" and failed["wikidata_search"].identity
    assert failed["gleif"].cause == "not_recorded" and not failed["gleif"].identity
    assert result.identified


async def test_ticker_given_resolves_by_ticker(settings: Settings) -> None:
    result, _, _ = await run(
        settings,
        {"name": "Shopify", "ticker": "shop", "wikidata": "Q7501150"},
        boards_absent("shopify"),
    )
    assert (result.identifiers["cik"], result.identifiers["ticker"]) == ("0001594805", "SHOP")


async def test_a_ticker_typed_as_the_name_resolves_but_a_lookalike_name_does_not(
    settings: Settings,
) -> None:
    result, _, _ = await run(
        settings, {"name": "NVDA", "wikidata": "Q182477"}, boards_absent("nvda")
    )
    assert result.identifiers["cik"] == "0001045810"
    extra = {
        "https://www.sec.gov/files/company_tickers.json": (
            200,
            {"content-type": "application/json"},
            (FIXTURES / "sec/company_tickers_stripe_shopify_nvidia_fly.json").read_bytes(),
        ),
        **boards_absent("fly"),
    }
    result, _, _ = await run(settings, {"name": "Fly"}, extra)
    assert "cik" not in result.identifiers
    assert {
        "source": "sec",
        "cik": "0001860160",
        "ticker": "FLY",
        "title": "Firefly Aerospace Inc.",
    } in result.candidates
    assert (
        "'Fly' is the ticker of Firefly Aerospace Inc.; not assumed to be the account"
        in result.notes
    )


async def test_no_wikidata_hits_is_said(settings: Settings) -> None:
    name = "zzqx no such company zzqx"
    slug = "zzqxnosuchcompanyzzqx"
    extra = no_board_anywhere(slug, "zzqx-no-such-company-zzqx")
    extra["https://www.sec.gov/files/company_tickers.json"] = UNTRIMMED_TICKERS
    result, _, _ = await run(settings, {"name": name}, extra)
    assert set(result.identifiers) == {"name", "account_key"}
    assert f"Wikidata has no company named '{name}'" in result.notes
    assert f"SEC lists no public company named '{name}'" in result.notes
    assert f"greenhouse:{slug}" in result.negatives
    assert not result.identified and not result.failed_lookups


async def test_ambiguous_wikidata_hits_become_candidates(settings: Settings) -> None:
    # a search answer built here: two companies with one name and nothing to tell them apart
    search = {
        "search": [
            {"id": "Q1", "label": "Acme", "description": "American software company"},
            {"id": "Q2", "label": "Acme", "description": "British brewing company"},
        ],
        "success": 1,
    }
    check = {"entities": {"Q1": {"id": "Q1", "claims": {}}, "Q2": {"id": "Q2", "claims": {}}}}
    base = "https://www.wikidata.org/w/api.php?"
    json_type = {"content-type": "application/json"}
    extra = boards_absent("acme") | {
        base + "action=wbsearchentities&language=en&type=item&format=json&search=Acme": (
            200,
            json_type,
            json.dumps(search).encode(),
        ),
        base + "action=wbgetentities&props=claims|sitelinks&sitefilter=enwiki&format=json"
        "&ids=Q1|Q2": (200, json_type, json.dumps(check).encode()),
        "https://boards-api.greenhouse.io/v1/boards/acme/jobs?content=true": (404, {}, b""),
    }
    result, _, _ = await run(settings, {"name": "Acme"}, extra)
    assert "wikidata" not in result.identifiers
    assert [c["wikidata"] for c in result.candidates] == ["Q1", "Q2"]
    assert any("2 companies named 'Acme'" in n for n in result.notes)


async def test_no_name_is_a_note_not_an_error(settings: Settings) -> None:
    result, transport, _ = await run(settings, {"name": "  "})
    assert result.notes == ["no name to resolve"]
    assert transport.requests == []


@pytest.mark.parametrize("status", [500, 429])
async def test_a_failing_board_is_a_note_not_a_negative(settings: Settings, status: int) -> None:
    extra = boards_absent("stripe")
    extra["https://api.lever.co/v0/postings/stripe?mode=json"] = (status, {}, b"")
    result, _, _ = await run(settings, {"name": "Stripe"}, extra)
    assert "lever:stripe" not in result.negatives
    (lever,) = [x for x in result.failed_lookups if x.name == "board:lever:stripe"]
    assert lever.cause == ("rate_limited" if status == 429 else "http") and not lever.identity
    # Stripe's board is known (Greenhouse): the unverified Lever slug is not tried
    assert "lever" not in result.identifiers


async def test_a_failing_probe_leaves_its_slug_to_the_collector_when_no_board_is_known(
    settings: Settings,
) -> None:
    slug = "zzqxnosuchcompanyzzqx"
    extra = no_board_anywhere(slug, "zzqx-no-such-company-zzqx")
    extra[f"https://api.lever.co/v0/postings/{slug}?mode=json"] = (503, {}, b"")
    result, _, _ = await run(settings, {"name": "zzqx no such company zzqx"}, extra)
    assert result.identifiers["lever"] == slug  # its collector will try it and say why


async def test_offline_every_lookup_fails_as_network(settings: Settings) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    http = SourceHttp(
        httpx.AsyncClient(transport=httpx.MockTransport(unreachable)),
        host_intervals_s={},
        retries=0,
    )
    result = await resolve({"name": "Stripe"}, http, settings=settings)
    assert result.lookups and not any(x.answered for x in result.lookups)
    assert {x.cause for x in result.lookups} == {"network"}
    assert not result.identified
