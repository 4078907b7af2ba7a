"""Tech stack -> ``technology`` findings, from the homepage and from job descriptions.

``GET https://{domain}/`` (guarded: the domain comes from the user) is fingerprinted with
the Wappalyzer data (:mod:`dossier.collectors.wappalyzer`) over its HTML, response headers,
cookies, ``<meta>`` tags and ``<script src>`` URLs. :func:`technologies_in_text` finds
technology names in free text (job descriptions), and :func:`technologies_from_jobs` turns
the names the job collectors recorded into findings.

Finding id = (domain, technology name), so the same technology seen on the homepage and in
job ads is one fact. Fields: ``name, category, categories, version, evidence
([{"type": header|script|meta|html|cookie|url|job_description, "value"}]), website`` (the
technology's own site), plus ``detected_on`` (the page) and ``implied_by``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from pydantic import JsonValue

from dossier.collectors.base import CollectorDeps
from dossier.collectors.http import SourceHttp
from dossier.collectors.wappalyzer import Detection, PageSignals, load_fingerprints
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, FindingKind, finding_id, utcnow
from dossier.errors import SourceUnavailable

HOMEPAGE_URL = "https://{domain}/"
MAX_JOB_EVIDENCE = 5

# -- keywords in job descriptions

# (name, category, regex, case-sensitive). Case-sensitive where the name is also a common
# word ("React" vs "react to", "Swift" vs "swift", "Rust" vs "rust"). "Go" needs company:
# a list of languages ("Python, Go, Rust") or "Go" + a programming noun.
_KEYWORDS: tuple[tuple[str, str, str, bool], ...] = (
    ("Python", "Programming languages", r"Python", False),
    ("Java", "Programming languages", r"Java", False),
    ("JavaScript", "Programming languages", r"JavaScript|ECMAScript", False),
    ("TypeScript", "Programming languages", r"TypeScript", False),
    (
        "Go",
        "Programming languages",
        r"Golang|Go(?=\s*(?:[,/)]|and\b|or\b|services?\b|"
        r"code\b|developer|engineer|programming|microservices))|(?<=[,/(]\s)Go|(?<=[,/(])Go",
        True,
    ),
    ("Rust", "Programming languages", r"Rust", True),
    ("Kotlin", "Programming languages", r"Kotlin", False),
    ("Swift", "Programming languages", r"Swift(?:UI)?", True),
    ("Objective-C", "Programming languages", r"Objective-C", False),
    ("Scala", "Programming languages", r"Scala", True),
    ("Ruby", "Programming languages", r"Ruby", True),
    ("PHP", "Programming languages", r"PHP", False),
    ("C++", "Programming languages", r"C\+\+", False),
    ("C#", "Programming languages", r"C#", False),
    (".NET", "Web frameworks", r"\.NET|dotnet", False),
    ("Elixir", "Programming languages", r"Elixir", False),
    ("Erlang", "Programming languages", r"Erlang", False),
    ("Haskell", "Programming languages", r"Haskell", False),
    ("Clojure", "Programming languages", r"Clojure", False),
    ("SQL", "Databases", r"SQL", True),
    ("React", "JavaScript frameworks", r"React(?:\.?js)?", True),
    ("React Native", "Mobile frameworks", r"React Native", False),
    ("Vue.js", "JavaScript frameworks", r"Vue(?:\.?js)?", True),
    ("Angular", "JavaScript frameworks", r"Angular(?:JS)?", True),
    ("Svelte", "JavaScript frameworks", r"Svelte(?:Kit)?", False),
    ("Next.js", "Web frameworks", r"Next\.?js", False),
    ("Node.js", "Programming languages", r"Node\.?js", False),
    ("Ruby on Rails", "Web frameworks", r"Ruby on Rails|Rails", True),
    ("Django", "Web frameworks", r"Django", False),
    ("Flask", "Web frameworks", r"Flask", True),
    ("FastAPI", "Web frameworks", r"FastAPI", False),
    ("Spring Boot", "Web frameworks", r"Spring Boot", False),
    ("Laravel", "Web frameworks", r"Laravel", False),
    ("GraphQL", "Development", r"GraphQL", False),
    ("gRPC", "Development", r"gRPC", False),
    ("Android", "Mobile", r"Android", False),
    ("iOS", "Mobile", r"iOS", True),
    ("Flutter", "Mobile frameworks", r"Flutter", True),
    ("PostgreSQL", "Databases", r"PostgreSQL|Postgres", False),
    ("MySQL", "Databases", r"MySQL", False),
    ("MongoDB", "Databases", r"MongoDB|Mongo", False),
    ("Redis", "Databases", r"Redis", False),
    ("Elasticsearch", "Search engines", r"Elasticsearch|Elastic Search", False),
    ("Cassandra", "Databases", r"Cassandra", True),
    ("DynamoDB", "Databases", r"DynamoDB", False),
    ("Snowflake", "Databases", r"Snowflake", True),
    ("BigQuery", "Databases", r"BigQuery", False),
    ("Redshift", "Databases", r"Redshift", False),
    ("Databricks", "Data platforms", r"Databricks", False),
    ("Apache Spark", "Data platforms", r"(?:Apache |Py)?Spark", True),
    ("Apache Kafka", "Message queues", r"(?:Apache )?Kafka", False),
    ("RabbitMQ", "Message queues", r"RabbitMQ", False),
    ("Apache Airflow", "Data platforms", r"(?:Apache )?Airflow", False),
    ("Apache Flink", "Data platforms", r"(?:Apache )?Flink", True),
    ("Hadoop", "Data platforms", r"Hadoop", False),
    ("dbt", "Data platforms", r"dbt", True),
    ("Kubernetes", "Containers", r"Kubernetes|K8s", False),
    ("Docker", "Containers", r"Docker", False),
    ("Terraform", "Infrastructure as code", r"Terraform", False),
    ("Pulumi", "Infrastructure as code", r"Pulumi", False),
    ("Ansible", "Infrastructure as code", r"Ansible", False),
    ("Helm", "Containers", r"Helm", True),
    ("Amazon Web Services", "PaaS", r"AWS|Amazon Web Services", False),
    ("Google Cloud", "PaaS", r"GCP|Google Cloud(?: Platform)?", False),
    ("Microsoft Azure", "PaaS", r"Azure", True),
    ("Linux", "Operating systems", r"Linux", False),
    ("Datadog", "Monitoring", r"Datadog", False),
    ("Prometheus", "Monitoring", r"Prometheus", True),
    ("Grafana", "Monitoring", r"Grafana", False),
    ("Splunk", "Monitoring", r"Splunk", False),
    ("Sentry", "Issue trackers", r"Sentry", True),
    ("New Relic", "Monitoring", r"New Relic", False),
    ("PagerDuty", "Monitoring", r"PagerDuty", False),
    ("Jenkins", "CI", r"Jenkins", True),
    ("GitHub Actions", "CI", r"GitHub Actions", False),
    ("CircleCI", "CI", r"CircleCI", False),
    ("GitLab", "CI", r"GitLab", False),
    ("PyTorch", "Machine learning", r"PyTorch", False),
    ("TensorFlow", "Machine learning", r"TensorFlow", False),
    ("scikit-learn", "Machine learning", r"scikit-learn|sklearn", False),
    ("pandas", "Machine learning", r"pandas", True),
    ("OpenAI", "Machine learning", r"OpenAI", False),
    ("LangChain", "Machine learning", r"LangChain", False),
    ("Tableau", "Analytics", r"Tableau", True),
    ("Looker", "Analytics", r"Looker", True),
    ("Power BI", "Analytics", r"Power ?BI", False),
    ("Amplitude", "Analytics", r"Amplitude", True),
    ("Mixpanel", "Analytics", r"Mixpanel", False),
    ("Salesforce", "CRM", r"Salesforce", False),
    ("HubSpot", "Marketing automation", r"HubSpot", False),
    ("Marketo", "Marketing automation", r"Marketo", False),
    ("Zendesk", "Live chat", r"Zendesk", False),
    ("Jira", "Issue trackers", r"Jira", False),
    ("Figma", "Development", r"Figma", False),
    ("Okta", "Security", r"Okta", True),
    ("Workday", "CRM", r"Workday", True),
    ("NetSuite", "CRM", r"NetSuite", False),
    ("SAP", "CRM", r"SAP", True),
    ("Twilio", "Development", r"Twilio", False),
    ("Cloudflare", "CDN", r"Cloudflare", False),
    ("Nginx", "Web servers", r"Nginx", False),
)
_KEYWORD_RES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (
        name,
        category,
        re.compile(
            rf"(?<![A-Za-z0-9_])(?:{pattern})(?![A-Za-z0-9_+#])",
            0 if case_sensitive else re.IGNORECASE,
        ),
    )
    for name, category, pattern, case_sensitive in _KEYWORDS
)
KEYWORD_CATEGORIES: dict[str, str] = {name: category for name, category, _, _ in _KEYWORDS}


def technologies_in_text(text: str) -> list[str]:
    """Technology names mentioned in ``text`` (a job description), in order of appearance.

    Word-boundary matching over a curated list of ~100 names with their usual spellings
    ("Postgres" -> PostgreSQL, "K8s" -> Kubernetes); "Java" does not match "JavaScript".
    """
    if not text:
        return []
    first_seen: dict[str, int] = {}
    for name, _, regex in _KEYWORD_RES:
        match = regex.search(text)
        if match:
            first_seen[name] = match.start()
    return sorted(first_seen, key=lambda name: (first_seen[name], name))


def technologies_from_jobs(
    jobs: Iterable[Finding], *, domain: str, observed_at: datetime
) -> list[Finding]:
    """``technology`` findings from the ``technologies`` the job collectors recorded.

    Confidence grows with the number of postings naming the technology (0.6 for one,
    0.85 from four on); the evidence cites up to five postings.
    """
    postings: dict[str, list[Finding]] = {}
    for job in jobs:
        names = job.fields.get("technologies")
        if job.kind is not FindingKind.JOB_POSTING or not isinstance(names, list):
            continue
        for name in names:
            if isinstance(name, str):
                postings.setdefault(name, []).append(job)
    findings = []
    for name, jobs_naming in sorted(postings.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        evidence: list[JsonValue] = [
            {"type": "job_description", "value": f"{job.title} ({job.url or job.source})"}
            for job in jobs_naming[:MAX_JOB_EVIDENCE]
        ]
        category = KEYWORD_CATEGORIES.get(name)
        fields: dict[str, JsonValue] = {
            "name": name,
            "category": category,
            "categories": [category] if category else [],
            "version": None,
            "evidence": evidence,
            "website": None,
            "job_postings": len(jobs_naming),
        }
        findings.append(
            Finding(
                id=finding_id(FindingKind.TECHNOLOGY, domain, name),
                kind=FindingKind.TECHNOLOGY,
                title=name,
                source="techstack",
                url=None,
                observed_at=observed_at,
                confidence=min(0.85, 0.5 + 0.1 * len(jobs_naming)),
                fields=fields,
            )
        )
    return findings


# -- the homepage


FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})


class _HeadScanner(HTMLParser):
    """Collects ``<script src>``, ``<meta name|property|http-equiv content>`` and feed links
    (``<link rel="alternate" type="application/rss+xml|atom+xml">``), honouring ``<base>``."""

    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.scripts: list[str] = []
        self.meta: dict[str, list[str]] = {}
        self.feeds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): (value or "").strip() for key, value in attrs}
        if tag == "base" and values.get("href"):
            self.base_url = urljoin(self.base_url, values["href"])
        elif tag == "script" and values.get("src"):
            self.scripts.append(urljoin(self.base_url, values["src"]))
        elif tag == "meta" and "content" in values:
            key = values.get("name") or values.get("property") or values.get("http-equiv")
            if key:
                self.meta.setdefault(key.lower(), []).append(values["content"])
        elif tag == "link" and "alternate" in values.get("rel", "").lower().split():
            kind = values.get("type", "").lower().split(";")[0].strip()
            # WordPress lists a "Comments Feed" next to the posts feed: comments are not news
            if kind in FEED_TYPES and "comments" not in values.get("title", "").lower():
                url = urljoin(self.base_url, values.get("href", ""))
                if url not in self.feeds and urlsplit(url).scheme in ("http", "https"):
                    self.feeds.append(url)


def _scan(url: str, html: str) -> _HeadScanner:
    scanner = _HeadScanner(url)
    try:
        scanner.feed(html)
        scanner.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    return scanner


def discover_feeds(page_html: str, *, base_url: str) -> list[str]:
    """RSS/Atom feed URLs a page advertises: absolute, in page order, no duplicates."""
    return [feed for feed in _scan(base_url, page_html).feeds if feed != base_url]


_COOKIE_SPLIT_RE = re.compile(r",\s*(?=[^;,=\s]+=)")


def page_signals(url: str, html: str, headers: Mapping[str, str]) -> PageSignals:
    """What Wappalyzer looks at, from a fetched page. ``headers`` as SourceResponse has them
    (lower-cased names; repeated headers such as Set-Cookie joined by commas)."""
    scanner = _scan(url, html)
    cookies: dict[str, list[str]] = {}
    for raw in _COOKIE_SPLIT_RE.split(headers.get("set-cookie", "")):
        name, sep, rest = raw.partition("=")
        if sep and name.strip():
            cookies.setdefault(name.strip().lower(), []).append(rest.split(";", 1)[0].strip())
    return PageSignals(
        url=url,
        html=html,
        headers={k.lower(): [v] for k, v in headers.items() if k.lower() != "set-cookie"},
        cookies=cookies,
        meta=scanner.meta,
        script_src=scanner.scripts,
    )


def detect_technologies(
    url: str, html: str, headers: Mapping[str, str], *, domain: str, observed_at: datetime
) -> list[Finding]:
    """``technology`` findings for one fetched page (pure)."""
    detections = load_fingerprints().analyze(page_signals(url, html, headers))
    return [_finding(d, domain=domain, page_url=url, observed_at=observed_at) for d in detections]


def _finding(detection: Detection, *, domain: str, page_url: str, observed_at: datetime) -> Finding:
    evidence: list[JsonValue] = [{"type": e.type, "value": e.value} for e in detection.evidence]
    fields: dict[str, JsonValue] = {
        "name": detection.name,
        "category": detection.categories[0] if detection.categories else None,
        "categories": list(detection.categories),
        "version": detection.version,
        "evidence": evidence,
        "website": detection.website,
        "detected_on": page_url,
        "implied_by": detection.implied_by,
        "fingerprint_confidence": detection.confidence,
    }
    title = f"{detection.name} {detection.version}" if detection.version else detection.name
    return Finding(
        id=finding_id(FindingKind.TECHNOLOGY, domain, detection.name),
        kind=FindingKind.TECHNOLOGY,
        title=title,
        source="techstack",
        url=page_url,
        observed_at=observed_at,
        # a fingerprint can misfire (a file named "bootstrapped.css"), so never above 0.9
        confidence=round(0.9 * detection.confidence / 100, 3),
        fields=fields,
    )


class TechStackCollector:
    name: ClassVar[str] = "techstack"
    label: ClassVar[str] = "Website fingerprint"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.TECH})

    def __init__(self, deps: CollectorDeps) -> None:
        self._http: SourceHttp = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get("domain"))

    async def collect(self, ctx: CollectContext) -> CollectResult:
        domain = ctx.identifiers["domain"]
        url = HOMEPAGE_URL.format(domain=domain)
        await ctx.progress(ProgressReport(0, 1, 0, f"fingerprinting {domain}"))
        response = await self._http.get(url, on_retry=ctx.on_retry, guarded=True)
        if response.status in (404, 410):
            await ctx.progress(ProgressReport(1, 1, 0, f"{domain} has no homepage"))
            return CollectResult(findings=[], negative=True, notes=[f"{url} answered 404"])
        if not response.ok:
            raise SourceUnavailable(f"{domain} answered HTTP {response.status}")
        findings = detect_technologies(
            response.url, response.text(), response.headers, domain=domain, observed_at=utcnow()
        )
        for finding in findings:
            await ctx.emit(finding)
        names = ", ".join(f.fields["name"] for f in findings if isinstance(f.fields["name"], str))
        await ctx.progress(ProgressReport(1, 1, len(findings), names or "nothing recognised"))
        return CollectResult(findings=findings, negative=not findings)
