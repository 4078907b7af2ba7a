"""De-duplication across sources: one story, one person, one filing, however many sources.

Pure functions. Two findings are the same fact when:

- same ``id`` (collectors already key filings by accession, profiles by account, ...);
- people: same :func:`person_key` (``"Collison, Patrick"``, ``"Patrick Collison"`` and
  ``"Patrick J. Collison"`` are one person), so Wikidata's founder and Form D's director
  merge;
- news: same :func:`url_key` (HN and GDELT link the same article with different
  tracking parameters), or near-identical titles published within three days.

A merged finding keeps the most confident member as its base (ties: source, then id, so the
result does not depend on arrival order), keeps the base's ``id`` (already cited in the
log), fills fields the base lacks from the others, and records ``sources`` (union),
``merged_ids`` and, for people, the union of ``roles``. Datetimes come out in UTC.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import JsonValue

from dossier.core.merge import NAME_SUFFIXES, display_name, merge_group
from dossier.core.types import Finding, FindingKind, finding_id

__all__ = ["display_name", "merge_group"]

SAME_STORY_WINDOW = timedelta(days=3)
SAME_TITLE_RATIO = 0.92
_TRACKING_PARAMS = frozenset(
    {"ref", "ref_src", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"}
)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame"})
# "Chief Financial Officer" -> "CFO": every C-level title follows the initials rule.
_CHIEF_RE = re.compile(r"\bChief ((?:[A-Z][a-z]+ ){1,3})Officer\b")
_PLAIN_ROLES = (
    "Executive Vice President",
    "Senior Vice President",
    "Vice President",
    "President",
    "General Counsel",
    "Secretary",
    "Treasurer",
    "Controller",
    "Chairman",
    "Chairwoman",
    "Chairperson",
    "Chair",
    "Founder",
    "Director",
)


def is_tracking_param(name: str) -> bool:
    """``utm_*``, ``fbclid``, ``ref`` and the like: what a sharer adds, not the page."""
    key = name.lower()
    return key.startswith("utm_") or key in _TRACKING_PARAMS


def canonical_url(url: str) -> str:
    """The link an article is known by, and still one to follow.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters, no
    trailing slash. News findings are keyed by it, so one article found in a feed, GDELT
    and HN is one fact.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))


def url_key(url: str) -> str:
    """What every link to one page has in common: its canonical URL over https, without
    ``www.``, parameters in order (for comparing links, not for following them)."""
    parts = urlsplit(canonical_url(url))
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(
        ("https", parts.netloc.removeprefix("www."), parts.path, urlencode(query), "")
    )


def title_key(title: str) -> str:
    """Case-, accent- and punctuation-insensitive title, for near-duplicate checks."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def person_key(name: str) -> str:
    """A person's identity from a name as sources write it.

    ``"Collison, Patrick"`` -> ``"patrick collison"``; middle names and initials,
    honorifics and suffixes (``Jr.``, ``III``) are dropped and accents folded, so
    ``"Daniel M. Wallach"`` and ``"Daniel Wallach"`` match. Returns "" when no name.
    """
    text = display_name(unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    words = [w.replace("-", "").replace("'", "") for w in re.findall(r"[A-Za-z'\-]+", text)]
    words = [w.lower() for w in words if w]
    while words and words[0] in _HONORIFICS:
        words.pop(0)
    while words and words[-1] in NAME_SUFFIXES:
        words.pop()
    # initials ("M.") and middle names say little and vary most between sources
    words = [w for w in words if len(w) > 1] or words
    if len(words) > 2:
        words = [words[0], words[-1]]
    return " ".join(words)


def short_roles(title: str) -> list[str]:
    """Roles named in an officer title, most senior first.

    ``"President and Chief Executive Officer"`` -> ``["CEO", "President"]``;
    ``"Executive Vice President, Operations"`` -> ``["Executive Vice President"]``.
    """
    roles = [
        "C" + "".join(w[0] for w in m.group(1).split()) + "O" for m in _CHIEF_RE.finditer(title)
    ]
    rest = _CHIEF_RE.sub(" ", title)
    lowered = rest.lower()
    for role in _PLAIN_ROLES:
        index = lowered.find(role.lower())
        if index >= 0:
            roles.append(role)
            # "Vice President" must not also count as "President"
            lowered = lowered[:index] + " " * len(role) + lowered[index + len(role) :]
    board = re.search(r"(?i)\bmember of the board\b|\bboard of (directors|managers)\b", title)
    if board and "Director" not in roles:
        roles.append("Director")
    return list(dict.fromkeys(roles))


def _chief(words: str) -> str:
    return "C" + "".join(word[0] for word in words.split()) + "O"


def same_story(a: Finding, b: Finding) -> bool:
    """Whether two news findings report one story (see module docstring)."""
    if a.url and b.url and url_key(a.url) == url_key(b.url):
        return True
    key_a, key_b = title_key(a.title), title_key(b.title)
    if not key_a or not key_b:
        return False
    if a.published_at is None or b.published_at is None:
        return key_a == key_b
    if abs(a.published_at - b.published_at) > SAME_STORY_WINDOW:
        return False
    return key_a == key_b or SequenceMatcher(None, key_a, key_b).ratio() >= SAME_TITLE_RATIO


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings with duplicates merged; order follows each group's first appearance."""
    items = list(findings)
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[root(j)] = root(i)

    first_by_key: dict[str, int] = {}
    for index, finding in enumerate(items):
        key = _identity_key(finding)
        if key in first_by_key:
            union(first_by_key[key], index)
        else:
            first_by_key[key] = index
    news = [i for i, f in enumerate(items) if f.kind is FindingKind.NEWS_ARTICLE]
    for n, i in enumerate(news):
        for j in news[n + 1 :]:
            if root(i) != root(j) and same_story(items[i], items[j]):
                union(i, j)
    groups: dict[int, list[Finding]] = {}
    for index, finding in enumerate(items):
        groups.setdefault(root(index), []).append(finding)
    return [merge_group(group) for group in groups.values()]


def _identity_key(finding: Finding) -> str:
    if finding.kind is FindingKind.PERSON:
        name = finding.fields.get("name")
        key = person_key(name if isinstance(name, str) else finding.title)
        if key:
            return f"person:{key}"
    return f"id:{finding.id}"


def profile_finding(
    account_key: str,
    *,
    title: str,
    source: str,
    url: str | None,
    observed_at: datetime,
    confidence: float,
    fields: dict[str, JsonValue],
    published_at: datetime | None = None,
) -> Finding:
    """A company profile: one id per account (``account_key``), whichever source wrote it,
    so profiles from several sources merge into one."""
    return Finding(
        id=finding_id(FindingKind.COMPANY_PROFILE, account_key),
        kind=FindingKind.COMPANY_PROFILE,
        title=title,
        source=source,
        url=url,
        observed_at=observed_at,
        published_at=published_at,
        confidence=confidence,
        fields=fields,
    )
