"""Wappalyzer fingerprints (MIT data, npm ``wappalyzer`` <= 6.10.54) matched against a page.

The data is the package's ``technologies/*.json`` + ``categories.json``, packaged under
``dossier/fixtures/wappalyzer``. The matching follows the package's ``wappalyzer.js``:

* a pattern is ``regex\\;version:\\1\\;confidence:50``: a case-insensitive regex, then
  ``key:value`` tags. ``version`` takes back-references (``\\1``) and the ternary
  ``\\1?a:b``; ``confidence`` defaults to 100;
* ``html`` / ``url`` patterns match the whole page / URL, ``scriptSrc`` each ``<script
  src>``; ``headers``, ``cookies`` and ``meta`` are ``{name: pattern}`` with the name
  matched case-insensitively and an empty pattern meaning "present";
* a technology's confidence is the sum of its matches, capped at 100; its version the
  longest one found (<= 15 chars); ``excludes`` drop other technologies; ``implies`` add
  them (``PHP\\;confidence:50``), even when the implied one is not in the data.

What a page fetch cannot observe is not matched: ``js`` (needs a JavaScript runtime),
``dom`` and ``css`` (need a browser), ``dns``, ``xhr``, ``robots``, ``probe``. Everything here
is pure.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

log = logging.getLogger(__name__)

DATA_PACKAGE = "dossier.fixtures"
DATA_FOLDER = "wappalyzer"
MAX_HTML_CHARS = 300_000  # the head and the top of the body carry the fingerprints
MAX_VERSION_CHARS = 15  # wappalyzer.js: longer "versions" are timestamps or hashes
MAX_EVIDENCE_CHARS = 200


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    confidence: int = 100
    version: str = ""


@dataclass(frozen=True)
class Implied:
    name: str
    confidence: int = 100
    version: str = ""


@dataclass(frozen=True)
class Fingerprint:
    name: str
    categories: tuple[str, ...]
    website: str | None
    html: tuple[Pattern, ...] = ()
    script_src: tuple[Pattern, ...] = ()
    url: tuple[Pattern, ...] = ()
    headers: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)
    cookies: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)
    meta: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)
    implies: tuple[Implied, ...] = ()
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageSignals:
    """What one page fetch shows: names of headers, cookies and meta tags lower-cased."""

    url: str
    html: str = ""
    headers: Mapping[str, Sequence[str]] = field(default_factory=dict)
    cookies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    meta: Mapping[str, Sequence[str]] = field(default_factory=dict)
    script_src: Sequence[str] = ()


@dataclass(frozen=True)
class Evidence:
    """Why we believe it: ``type`` is header, script, meta, html, cookie or url."""

    type: str
    value: str


@dataclass(frozen=True)
class Detection:
    name: str
    categories: tuple[str, ...]
    version: str | None
    confidence: int
    evidence: tuple[Evidence, ...]
    website: str | None
    implied_by: str | None = None


def parse_pattern(text: object) -> Pattern | None:
    """One ``regex\\;tag:value`` pattern; None if its regex is not valid Python regex."""
    source, *tags = str(text).split("\\;")
    attributes = dict(tag.split(":", 1) for tag in tags if ":" in tag)
    try:
        regex = re.compile(_bounded(source), re.IGNORECASE)
    except re.error as exc:
        log.debug("skipping wappalyzer pattern %r: %s", source, exc)
        return None
    try:
        confidence = int(attributes.get("confidence", 100))
    except ValueError:
        confidence = 100
    return Pattern(regex=regex, confidence=confidence, version=attributes.get("version", ""))


def _bounded(source: str) -> str:
    """wappalyzer.js bounds ``+`` and ``*`` to 250 repeats so a long page cannot make a
    pattern backtrack for ever. Escaped ``\\+`` / ``\\*`` stay literal (the JS only guards
    ``\\+``; guarding ``\\*`` too keeps its meaning)."""
    guarded = source.replace("\\+", "\x00").replace("\\*", "\x01")
    guarded = guarded.replace("+", "{1,250}").replace("*", "{0,250}")
    return guarded.replace("\x00", "\\+").replace("\x01", "\\*")


def resolve_version(pattern: Pattern, value: str) -> str:
    """The version a pattern's ``version`` tag yields on ``value`` ("" if none)."""
    if not pattern.version:
        return ""
    match = pattern.regex.search(value)
    if match is None:
        return pattern.version
    resolved = pattern.version
    groups = [match.group(0), *match.groups()]
    for index, group in enumerate(groups):
        if group is not None and len(group) > 10:
            continue  # wappalyzer.js skips long captures (hashes, not versions)
        ternary = re.search(rf"\\{index}\?([^:]+):(.*)$", pattern.version)
        if ternary:
            resolved = pattern.version.replace(
                ternary.group(0), ternary.group(1) if group else ternary.group(2)
            )
        resolved = resolved.strip().replace(f"\\{index}", group or "")
    return re.sub(r"\\\d", "", resolved, count=1)


class Fingerprints:
    """The technology table, ready to analyze pages. Build once; safe to share."""

    def __init__(
        self, technologies: Mapping[str, object], categories: Mapping[str, object]
    ) -> None:
        names = {
            str(key): str(value.get("name"))
            for key, value in categories.items()
            if isinstance(value, dict) and value.get("name")
        }
        self._by_name: dict[str, Fingerprint] = {}
        for name, spec in technologies.items():
            if isinstance(spec, dict):
                self._by_name[name] = _fingerprint(name, spec, names)

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Fingerprint | None:
        return self._by_name.get(name)

    def analyze(self, page: PageSignals) -> list[Detection]:
        """Technologies the page shows, most confident first (then by name)."""
        html = page.html[:MAX_HTML_CHARS]
        found: dict[str, list[tuple[Pattern, str, Evidence]]] = {}
        for tech in self._by_name.values():
            hits = _hits(tech, page, html)
            if hits:
                found[tech.name] = hits
        detections = {name: self._detection(name, hits) for name, hits in found.items()}
        for name in list(detections):
            if name in detections:  # one already excluded excludes nothing (wappalyzer.js)
                for excluded in self._by_name[name].excludes:
                    detections.pop(excluded, None)
        self._add_implied(detections)
        return sorted(detections.values(), key=lambda d: (-d.confidence, d.name.lower()))

    def _detection(self, name: str, hits: list[tuple[Pattern, str, Evidence]]) -> Detection:
        tech = self._by_name[name]
        version = ""
        for pattern, value, _ in hits:
            candidate = resolve_version(pattern, value)
            if len(version) < len(candidate) <= MAX_VERSION_CHARS:
                version = candidate
        evidence: list[Evidence] = []
        for _, _, item in hits:
            if item not in evidence:
                evidence.append(item)
        return Detection(
            name=name,
            categories=tech.categories,
            version=version or None,
            confidence=min(100, sum(pattern.confidence for pattern, _, _ in hits)),
            evidence=tuple(evidence),
            website=tech.website,
        )

    def _add_implied(self, detections: dict[str, Detection]) -> None:
        pending = list(detections.values())
        while pending:
            source = pending.pop()
            tech = self._by_name.get(source.name)
            for implied in tech.implies if tech else ():
                if implied.name in detections:
                    continue
                known = self._by_name.get(implied.name)
                detection = Detection(
                    name=implied.name,
                    categories=known.categories if known else (),
                    version=implied.version or None,
                    confidence=min(source.confidence, implied.confidence),
                    evidence=source.evidence,
                    website=known.website if known else None,
                    implied_by=source.name,
                )
                detections[implied.name] = detection
                pending.append(detection)


def _hits(tech: Fingerprint, page: PageSignals, html: str) -> list[tuple[Pattern, str, Evidence]]:
    hits: list[tuple[Pattern, str, Evidence]] = []
    for pattern in tech.html:
        match = pattern.regex.search(html) if html else None
        if match:
            hits.append((pattern, html, Evidence("html", _clip(match.group(0)))))
    for pattern in tech.url:
        if page.url and pattern.regex.search(page.url):
            hits.append((pattern, page.url, Evidence("url", _clip(page.url))))
    for pattern in tech.script_src:
        for src in page.script_src:
            if pattern.regex.search(src):
                hits.append((pattern, src, Evidence("script", _clip(src))))
    keyed = (
        ("header", tech.headers, page.headers),
        ("cookie", tech.cookies, page.cookies),
        ("meta", tech.meta, page.meta),
    )
    for kind, wanted, seen in keyed:
        for key, patterns in wanted.items():
            for value in seen.get(key, ()):
                for pattern in patterns:
                    if pattern.regex.search(value):
                        shown = key if kind == "cookie" else f"{key}: {value}"
                        hits.append((pattern, value, Evidence(kind, _clip(shown))))
    return hits


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[: MAX_EVIDENCE_CHARS - 1] + "…"


def _patterns(value: object) -> tuple[Pattern, ...]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    parsed = (parse_pattern(item) for item in items if isinstance(item, (str, int, float)))
    return tuple(p for p in parsed if p is not None)


def _keyed(value: object) -> dict[str, tuple[Pattern, ...]]:
    if not isinstance(value, dict):
        return {}
    return {str(key).lower(): _patterns(patterns) for key, patterns in value.items()}


def _fingerprint(name: str, spec: dict[str, object], categories: Mapping[str, str]) -> Fingerprint:
    raw_cats = spec.get("cats")
    cats = raw_cats if isinstance(raw_cats, list) else []
    implies: list[Implied] = []
    for item in _as_list(spec.get("implies")):
        implied_name, *tags = item.split("\\;")
        attributes = dict(tag.split(":", 1) for tag in tags if ":" in tag)
        confidence = attributes.get("confidence", "100")
        implies.append(
            Implied(
                name=implied_name,
                confidence=int(confidence) if confidence.isdigit() else 100,
                version=attributes.get("version", ""),
            )
        )
    website = spec.get("website")
    return Fingerprint(
        name=name,
        categories=tuple(categories[str(c)] for c in cats if str(c) in categories),
        website=website if isinstance(website, str) else None,
        html=_patterns(spec.get("html")),
        script_src=_patterns(spec.get("scriptSrc")),
        url=_patterns(spec.get("url")),
        headers=_keyed(spec.get("headers")),
        cookies=_keyed(spec.get("cookies")),
        meta=_keyed(spec.get("meta")),
        implies=tuple(implies),
        excludes=tuple(item.split("\\;")[0] for item in _as_list(spec.get("excludes"))),
    )


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


@cache
def load_fingerprints() -> Fingerprints:
    """The packaged fingerprint data (read once per process)."""
    folder = resources.files(DATA_PACKAGE).joinpath(DATA_FOLDER)
    technologies = json.loads(folder.joinpath("technologies.json").read_text(encoding="utf-8"))
    categories = json.loads(folder.joinpath("categories.json").read_text(encoding="utf-8"))
    return Fingerprints(technologies, categories)
