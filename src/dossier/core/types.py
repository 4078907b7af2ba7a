"""Domain value types: Account, Vendor, Finding and friends.

Pydantic models here are the ones that cross a boundary (HTTP bodies, event payloads,
cache entries); they validate what comes in and serialise what goes out.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
)

MAX_NAME_CHARS = 200
BoardProvider = Literal["greenhouse", "lever", "ashby", "smartrecruiters", "workable"]
BOARD_PROVIDERS: tuple[BoardProvider, ...] = (
    "greenhouse",
    "lever",
    "ashby",
    "smartrecruiters",
    "workable",
)

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SUFFIXES = frozenset(
    [
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "llc",
        "l.l.c",
        "ltd",
        "limited",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "spa",
        "srl",
        "pty",
        "holdings",
        "group",
    ]
)

if TYPE_CHECKING:
    from dossier.settings import Settings


class FindingKind(StrEnum):
    NEWS_ARTICLE = "news_article"
    JOB_POSTING = "job_posting"
    FUNDING_ROUND = "funding_round"
    PERSON = "person"
    TECHNOLOGY = "technology"
    COMPANY_PROFILE = "company_profile"
    FILING = "filing"


class DataType(StrEnum):
    """What a user asks about; the unit of cache TTL, coverage and steering targets."""

    NEWS = "news"
    JOBS = "jobs"
    FUNDING = "funding"
    PEOPLE = "people"
    TECH = "tech"
    PROFILE = "profile"


DATA_TYPE_OF_KIND: dict[FindingKind, DataType] = {
    FindingKind.NEWS_ARTICLE: DataType.NEWS,
    FindingKind.JOB_POSTING: DataType.JOBS,
    FindingKind.FUNDING_ROUND: DataType.FUNDING,
    FindingKind.FILING: DataType.FUNDING,
    FindingKind.PERSON: DataType.PEOPLE,
    FindingKind.TECHNOLOGY: DataType.TECH,
    FindingKind.COMPANY_PROFILE: DataType.PROFILE,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """UTC ISO-8601 with millisecond precision and a ``Z``, as every event carries."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normalize_name(name: str) -> str:
    """Account key from a company name: case-, accent- and legal-suffix-insensitive.

    ``"Acme Corp."``, ``"ACME, Inc"`` and ``"acme"`` all give ``"acme"``, so opening the
    same company twice joins one session instead of starting new work.
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+(?:\.[a-z0-9]+)*", text)
    while len(words) > 1 and words[-1].rstrip(".") in _SUFFIXES and words[-2] != "the":
        words.pop()
    key = " ".join(words)
    return key or hashlib.sha256(name.encode()).hexdigest()[:12]


def slugify(name: str) -> str:
    """``"Stripe, Inc."`` -> ``"stripe"``: the usual job-board token guess."""
    return normalize_name(name).replace(" ", "").replace(".", "")


NameStr = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
]


def check_name(value: str) -> str:
    """A company name as people write it: no control or invisible format characters (NUL,
    RTL marks, zero-width spaces), and at least one letter or digit."""
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ValueError("name must not contain control characters")
    if not any(ch.isalnum() for ch in value):
        raise ValueError("name must contain a letter or digit")
    return value


def check_domain(value: str) -> str:
    """``"https://www.Example.com/x"`` -> ``"example.com"``; a public-looking host name only
    (no address, port or single label: it is fetched from)."""
    host = value.strip().lower()
    host = re.sub(r"^https?://", "", host).split("/")[0].removeprefix("www.")
    if not _DOMAIN_RE.match(host):
        raise ValueError("domain must be a host name like example.com")
    return host


def check_text(value: str) -> str:
    """Free text: line breaks and tabs, but no other control characters (NUL and friends
    are refused by PostgreSQL's JSON and mean nothing to a reader)."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise ValueError("text must not contain control characters")
    return value


def check_id(value: str) -> str:
    """A client's id for a question or a command: printable text. It is echoed in frames
    and is part of a question's dedup key (PostgreSQL text cannot hold a NUL)."""
    if not value.isprintable():
        raise ValueError("id must be printable text")
    return value


ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_id)]


class Account(BaseModel):
    """The company researched, as the user named it, with any identifiers they know."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: NameStr
    domain: str | None = Field(default=None, max_length=253)
    cik: str | None = Field(default=None, pattern=r"^\d{1,10}$")
    ticker: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9.\-]{0,9}$")
    boards: dict[BoardProvider, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        return check_name(value)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return None if value is None else check_domain(value)

    @field_validator("boards")
    @classmethod
    def _boards(cls, value: dict[BoardProvider, str]) -> dict[BoardProvider, str]:
        for provider, token in value.items():
            if not _TOKEN_RE.match(token):
                raise ValueError(f"boards.{provider} must be a board token like 'stripe'")
        return value

    @property
    def key(self) -> str:
        return normalize_name(self.name)


class Vendor(BaseModel):
    """The seller's own company (settings, or the request)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    domain: str | None = Field(default=None, max_length=253)
    description: str | None = Field(default=None, max_length=4000)
    # the roles or teams we sell to ("risk", "fraud operations"): who to look for
    sells_to: tuple[str, ...] = Field(default=(), max_length=10)

    @field_validator("sells_to", mode="before")
    @classmethod
    def _roles(cls, value: object) -> object:
        if isinstance(value, str):  # "risk, fraud operations" from a form or a setting
            value = value.split(",")
        if not isinstance(value, (list, tuple)):
            return value
        roles = [" ".join(str(r).split()) for r in value]
        if any(len(r) > 80 for r in roles):
            raise ValueError("each role or team is at most 80 characters")
        return tuple(dict.fromkeys(r for r in roles if r))

    @property
    def hash(self) -> str:
        """Stable short hash: analysis cache entries depend on who is selling."""
        parts: list[object] = [
            normalize_name(self.name or ""),
            (self.domain or "").lower(),
            self.description or "",
        ]
        if self.sells_to:  # only when given: hashes of vendors without it stay the same
            parts.append(sorted(r.lower() for r in self.sells_to))
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]

    @property
    def known(self) -> bool:
        return bool(self.name or self.domain or self.description or self.sells_to)


class VendorRequest(Vendor):
    """A vendor as a request names it, checked at the edge like an account (its name and
    domain are researched as one). Stored vendors are read as ``Vendor``, as they were."""

    name: NameStr | None = None

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return None if value is None else check_domain(value)

    @field_validator("description")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else check_text(value)

    @field_validator("sells_to")
    @classmethod
    def _role_text(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for role in value:
            check_text(role)
        return value


class Finding(BaseModel):
    """A typed, sourced fact. ``id`` is stable: the same fact found twice has one id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: FindingKind
    title: str
    source: str
    url: str | None = None
    observed_at: datetime
    published_at: datetime | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    fields: dict[str, JsonValue] = Field(default_factory=dict)

    @property
    def data_type(self) -> DataType:
        return DATA_TYPE_OF_KIND[self.kind]


# The source of findings read from news text (collectors/text_signals.py): named here
# because the analysts word such a finding as a claim ("read from the headline …").
NEWS_SIGNALS_SOURCE = "news_signals"


def finding_id(kind: FindingKind, *natural_key: str) -> str:
    """A stable id from the kind and what makes the fact unique (url, name, ...)."""
    text = "\x1f".join(part.strip().lower() for part in natural_key)
    digest = hashlib.sha256(f"{kind.value}\x1e{text}".encode()).hexdigest()[:16]
    return f"f_{digest}"


class Citation(BaseModel):
    model_config = ConfigDict(frozen=True)

    finding: str
    url: str | None = None
    title: str = ""


class Basis(StrEnum):
    """What an answer stands on: cached data, data still being collected, or all of it."""

    CACHE = "cache"
    PARTIAL = "partial"
    COMPLETE = "complete"


def default_vendor(settings: Settings) -> Vendor:
    """Who is selling when a request does not say: the ``DOSSIER_VENDOR_*`` settings."""
    return Vendor(
        name=settings.vendor_name,
        domain=settings.vendor_domain,
        description=settings.vendor_description,
        sells_to=settings.vendor_sells_to or (),
    )
