from __future__ import annotations

import json

import httpx
import pytest
from pydantic import JsonValue

from dossier.collectors.ashby import parse_job_board
from dossier.collectors.http import SourceHttp
from dossier.collectors.replay import ReplayTransport
from dossier.collectors.tech_terms import (
    technologies_from_jobs,
    technologies_in_text,
    technology_sentences,
)
from dossier.collectors.techstack import (
    TechStackCollector,
    detect_technologies,
    page_signals,
)
from dossier.collectors.wappalyzer import (
    Detection,
    Fingerprints,
    PageSignals,
    load_fingerprints,
    parse_pattern,
    resolve_version,
)
from dossier.core.types import Finding, FindingKind, finding_id
from dossier.errors import SourceUnavailable
from dossier.settings import Settings
from tests.fakes import make_finding
from tests.unit.collectors import (
    OBSERVED_AT,
    Recorder,
    deps,
    fixture_bytes,
    fixture_json,
    mock_http,
    no_sleep,
    replay_http,
)


def _recorded(page: str) -> tuple[str, dict[str, str]]:
    sidecar = json.loads(fixture_bytes(f"homepages/{page}.headers.json"))
    headers = {name.lower(): values[0] for name, values in sidecar["headers"].items()}
    return fixture_bytes(f"homepages/{page}").decode("utf-8"), headers


# -- the recorded homepages (fingerprints as they really match)


def test_fly_io_shows_google_tag_manager_by_its_html_comment() -> None:
    html, headers = _recorded("fly.io_about.html")
    findings = detect_technologies(
        "https://fly.io/", html, headers, domain="fly.io", observed_at=OBSERVED_AT
    )
    # GTM and gtag are served first-party (analytics.fly.io), so the googletagmanager.com
    # scriptSrc patterns miss; the "<!-- Google Tag Manager -->" html pattern hits. PostHog
    # and Phoenix are not in the packaged 66-technology subset.
    assert [f.title for f in findings] == ["Google Tag Manager"]
    (gtm,) = findings
    assert gtm.kind is FindingKind.TECHNOLOGY
    assert gtm.id == finding_id(FindingKind.TECHNOLOGY, "fly.io", "Google Tag Manager")
    assert gtm.url == "https://fly.io/"
    assert gtm.fields["category"] == "Tag managers"
    assert gtm.fields["categories"] == ["Tag managers"]
    assert gtm.fields["version"] is None
    assert gtm.fields["evidence"] == [{"type": "html", "value": "<!-- Google Tag Manager -->"}]
    assert gtm.fields["website"] == "http://www.google.com/tagmanager"
    assert gtm.confidence == 0.9


def test_basecamp_matches_bootstrap_on_a_stylesheet_named_bootstrapped() -> None:
    html, headers = _recorded("basecamp.com_about.html")
    findings = detect_technologies(
        "https://basecamp.com/", html, headers, domain="basecamp.com", observed_at=OBSERVED_AT
    )
    # The fingerprint "<link ... href=...bootstrap...css" really matches
    # /assets/css/bootstrapped.css: a false positive of the data, reported as it is.
    assert [f.title for f in findings] == ["Bootstrap"]
    evidence = findings[0].fields["evidence"]
    assert evidence == [
        {
            "type": "html",
            "value": '<link rel="stylesheet" type="text/css" href="/assets/css/bootstrapped.css',
        }
    ]
    assert findings[0].fields["category"] == "UI frameworks"


def test_page_signals_read_scripts_and_meta_tags() -> None:
    html, headers = _recorded("fly.io_about.html")
    signals = page_signals("https://fly.io/about", html, headers)
    assert signals.script_src == [
        "https://fly.io/js/events.js",
        "https://fly.io/phx/assets/js/app-7e4e12b0ffc989fee8c67f133324ed89.js?vsn=d",
        "https://analytics.fly.io/gtag/js?id=G-EX6DMZ1DZV",
        "https://fly.io/phx/assets/js/posthog-7b1419414106236dca312c579aaf3d4a.js?vsn=d",
    ]
    assert signals.meta["og:site_name"] == ["Fly.io"]
    assert signals.meta["referrer"] == ["origin"]
    assert signals.headers == {"content-type": ["text/html; charset=utf-8"]}


# -- the fingerprint engine on synthetic pages, with the real fingerprint data


def _analyze(
    *,
    headers: dict[str, list[str]] | None = None,
    cookies: dict[str, list[str]] | None = None,
    meta: dict[str, list[str]] | None = None,
    script_src: list[str] | None = None,
) -> dict[str, Detection]:
    page = PageSignals(
        url="https://example.org/",
        headers=headers or {},
        cookies=cookies or {},
        meta=meta or {},
        script_src=script_src or [],
    )
    return {d.name: d for d in load_fingerprints().analyze(page)}


def test_packaged_data_holds_the_66_technologies() -> None:
    assert len(load_fingerprints()) == 66


def test_header_pattern_yields_a_version() -> None:
    found = _analyze(headers={"server": ["nginx/1.25.3"]})
    nginx = found["Nginx"]
    assert nginx.version == "1.25.3"
    assert nginx.categories == ("Web servers", "Reverse proxies")


def test_meta_generator_version_and_implied_technologies() -> None:
    found = _analyze(meta={"generator": ["WordPress 6.4.2"]})
    assert found["WordPress"].version == "6.4.2"
    php = found["PHP"]
    assert php.implied_by == "WordPress"
    assert php.evidence == found["WordPress"].evidence
    # MySQL is implied but not in the packaged subset: still reported, without category
    assert found["MySQL"].categories == ()


def test_confidence_tag_lowers_a_cookie_only_match() -> None:
    found = _analyze(cookies={"_session_id": ["abc"]})
    assert found["Ruby on Rails"].confidence == 75
    assert found["Ruby"].confidence == 75


def test_script_src_with_version_backreference() -> None:
    found = _analyze(script_src=["https://code.jquery.com/jquery-3.7.1.min.js"])
    assert found["jQuery"].version == "3.7.1"


def test_cookies_from_set_cookie_headers() -> None:
    signals = page_signals(
        "https://shop.example/",
        "",
        {"set-cookie": "_shopify_y=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT, PHPSESSID=x; path=/"},
    )
    assert signals.cookies == {"_shopify_y": ["1"], "phpsessid": ["x"]}
    names = {d.name for d in load_fingerprints().analyze(signals)}
    assert {"Shopify", "PHP"} <= names


def test_excludes_remove_the_other_technology() -> None:
    table = Fingerprints(
        {
            "A": {"cats": [1], "html": "alpha", "excludes": "B"},
            "B": {"cats": [1], "html": "beta"},
        },
        {"1": {"name": "CMS"}},
    )
    assert [d.name for d in table.analyze(PageSignals(url="u", html="alpha beta"))] == ["A"]


def test_mutual_excludes_keep_the_first_technology() -> None:
    table = Fingerprints(
        {
            "Angular": {"cats": [1], "html": "ng-version", "excludes": ["AngularJS"]},
            "AngularJS": {"cats": [1], "html": "ng-app", "excludes": ["Angular"]},
        },
        {"1": {"name": "JavaScript frameworks"}},
    )
    found = table.analyze(PageSignals(url="u", html='<html ng-app ng-version="17">'))
    assert [d.name for d in found] == ["Angular"]


def test_pattern_tags_and_ternary_version() -> None:
    pattern = parse_pattern(
        "jquery[.-]pjax(?:-([\\d.]+))?\\;version:\\1?\\1:unknown\\;confidence:50"
    )
    assert pattern is not None
    assert pattern.confidence == 50
    assert resolve_version(pattern, "jquery.pjax-2.0.1") == "2.0.1"
    assert resolve_version(pattern, "jquery.pjax.js") == "unknown"


def test_javascript_only_regex_is_skipped_not_fatal() -> None:
    assert parse_pattern("[^]+") is None


# -- job descriptions


def test_keywords_in_text_with_word_boundaries() -> None:
    text = "We use Python, Go and Kafka on Kubernetes (K8s); React on the front end; Postgres."
    assert technologies_in_text(text) == [
        "Python",
        "Go",
        "Apache Kafka",
        "Kubernetes",
        "React",
        "PostgreSQL",
    ]


def test_keywords_do_not_fire_on_ordinary_words() -> None:
    text = "You react quickly, go to market fast, keep a swift pace and avoid rust. JavaScript."
    assert technologies_in_text(text) == ["JavaScript"]  # not Java, React, Go, Swift, Rust


def test_keywords_with_symbols() -> None:
    assert technologies_in_text("C++ and C# on .NET; Node.js; Snowflake + dbt") == [
        "C++",
        "C#",
        ".NET",
        "Node.js",
        "Snowflake",
        "dbt",
    ]


def _job(title: str, technologies: list[str], url: str) -> Finding:
    return make_finding(
        FindingKind.JOB_POSTING,
        title,
        key=("lever", "acme", url),
        url=url,
        at=OBSERVED_AT,
        published_at=None,
        source="lever",
        confidence=0.95,
        technologies=list[JsonValue](technologies),
    )


def test_technologies_from_jobs_count_postings_and_cite_them() -> None:
    jobs = [
        _job("Backend Engineer", ["Python", "Kafka"], "https://jobs.example/1"),
        _job("Data Engineer", ["Python"], "https://jobs.example/2"),
    ]
    python, kafka = technologies_from_jobs(jobs, domain="acme.com", observed_at=OBSERVED_AT)
    assert python.id == finding_id(FindingKind.TECHNOLOGY, "acme.com", "Python")
    assert python.fields["job_postings"] == 2
    assert python.fields["category"] == "Programming languages"
    assert python.fields["evidence"] == [
        {
            "type": "job_description",
            "value": "Backend Engineer",  # no sentence recorded: the posting's title
            "posting": "Backend Engineer",
            "url": "https://jobs.example/1",
        },
        {
            "type": "job_description",
            "value": "Data Engineer",
            "posting": "Data Engineer",
            "url": "https://jobs.example/2",
        },
    ]
    assert python.url == "https://jobs.example/1"  # the finding links to a posting
    assert python.confidence == 0.7
    assert kafka.title == "Kafka" and kafka.confidence == 0.6


def test_the_recorded_ramp_posts_name_technologies_with_the_sentence_as_evidence() -> None:
    jobs = parse_job_board(fixture_json("ashby/ramp_job_board.json"), board="ramp",
                           observed_at=OBSERVED_AT)  # fmt: skip
    found = technologies_from_jobs(jobs, domain="ramp.com", observed_at=OBSERVED_AT)
    assert found, "the recorded Ramp postings name technologies"
    for technology in found:
        for evidence in technology.fields["evidence"]:  # type: ignore[union-attr]
            sentence = evidence["value"]  # type: ignore[index,call-overload]
            assert technologies_in_text(str(sentence)).count(technology.title) == 1
            assert len(str(sentence)) <= 241 and "\n" not in str(sentence)
        assert technology.url and technology.url.startswith("https://jobs.ashbyhq.com/ramp/")


def test_sentences_split_at_stops_lines_and_bullets() -> None:
    text = "About us. We run on AWS and Terraform!\n• Python experience\nNice to have: Go, Rust."
    assert technology_sentences(text) == {
        "Amazon Web Services": "We run on AWS and Terraform!",
        "Terraform": "We run on AWS and Terraform!",
        "Python": "Python experience",
        "Go": "Go, Rust.",
        "Rust": "Go, Rust.",
    }


# -- the collector


async def test_collects_fly_io_through_replay_with_a_guarded_fetch(settings: Settings) -> None:
    guarded: list[str] = []

    async def guard(url: str) -> None:
        guarded.append(url)

    http = SourceHttp(
        httpx.AsyncClient(transport=ReplayTransport()),
        host_intervals_s={},
        sleep=no_sleep,
        guard=guard,
    )
    recorder = Recorder()
    result = await recorder.run(TechStackCollector, http, settings, name="Fly.io", domain="fly.io")
    assert guarded == ["https://fly.io/"]
    assert [f.title for f in result.findings] == ["Google Tag Manager"]
    assert recorder.emitted == result.findings
    assert recorder.progress[-1].message == "Google Tag Manager"
    assert result.negative is False


async def test_nothing_recognised_is_a_negative_answer(settings: Settings) -> None:
    result = await Recorder().run(
        TechStackCollector, replay_http(), settings, domain="northwind.example"
    )
    assert result.findings == [] and result.negative is True


async def test_server_error_is_source_unavailable(settings: Settings) -> None:
    http = mock_http(lambda request: httpx.Response(500), retries=0)
    with pytest.raises(SourceUnavailable, match="HTTP 500"):
        await Recorder().run(TechStackCollector, http, settings, domain="a.io")


def test_applicable_only_with_a_domain(settings: Settings) -> None:
    collector = TechStackCollector(deps(replay_http(), settings))
    assert collector.applicable({"name": "Fly", "domain": "fly.io"})
    assert not collector.applicable({"name": "Fly"})
