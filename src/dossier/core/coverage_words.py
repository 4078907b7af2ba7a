"""The words of the coverage vocabulary: what each state, cause and count is called.

Tables keyed by the string values of ``core/coverage.py``'s enums (a ``StrEnum`` member
looks its words up as its value), so the page (``web/findings.js``), the CLI and the
export can be checked against one source (``tests/unit/test_vocabulary.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dossier.core.words import join_words, plural

# The short words for each state, as the page (web/findings.js STATE_LABEL), the CLI and
# the export show them.
STATE_WORDS: dict[str, str] = {
    "found": "found",
    "none_found": "none found",
    "failed": "failed",
    "skipped": "skipped",
    "not_recorded": "not recorded",
    "unresolved": "not identified",
    "not_applicable": "does not apply",
}
DATA_TYPE_WORDS: dict[str, str] = {
    "profile": "Profile",
    "people": "People",
    "jobs": "Jobs",
    "funding": "Funding & filings",
    "news": "News",
    "tech": "Tech stack",
}


NOUNS: dict[str, tuple[str, str]] = {
    "news_article": ("story", "stories"),
    "job_posting": ("open role", "open roles"),
    "funding_round": ("funding round", "funding rounds"),
    "filing": ("SEC filing", "SEC filings"),
    "person": ("person", "people"),
    "technology": ("technology", "technologies"),
    "company_profile": ("profile", "profiles"),
}
NONE_FOUND: dict[str, str] = {
    "jobs": "no open roles on {sources}",
    "news": "no stories on {sources}",
    "funding": "{sources} lists no funding rounds or filings",
    "people": "no decision makers listed on {sources}",
    "tech": "no technology recognised by {sources}",
    "profile": "no profile on {sources}",
}
FAILED: dict[str, str] = {
    "network": "could not reach {sources} (network)",
    "timeout": "{sources} did not answer in time",
    "http": "{sources} answered with an error",
    "rate_limited": "{sources} rate-limited us",
    "garbage": "{sources} answered something unreadable",
    "blocked": "refused to fetch from {sources} (not a public address)",
    "internal": "internal error while reading {sources}",
    "not_recorded": "{sources} not in this demo's recordings",
    "skipped": "{sources} stopped at your request",
}
SKIPPED_REASON = "skipped at your request"


def failed_words(cause: str, labels: Sequence[str]) -> str:
    template = FAILED.get(str(cause), FAILED["internal"])
    return template.format(sources=join_words(labels))


def count_words(by_kind: Mapping[str, int]) -> str:
    parts = []
    for kind, (one, many) in NOUNS.items():
        n = by_kind.get(kind, 0)
        if n:
            parts.append(plural(n, one, many))
    return join_words(parts)
