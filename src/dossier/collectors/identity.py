"""Reading what resolution's lookups said (pure): the one LEI of a name in GLEIF, the
facts a Wikidata item states (CIK, LEI, domain, article), whether they agree with what is
known, and the identifiers the user gave, normalised.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import JsonValue

from dossier.collectors.parsing import as_dict
from dossier.collectors.sec_tickers import cik10
from dossier.collectors.wikidata import parse_entity
from dossier.collectors.wikipedia import parse_sitelink
from dossier.core.types import BOARD_PROVIDERS, normalize_name


def pick_lei(payload: object, *, name: str) -> tuple[str | None, list[dict[str, JsonValue]]]:
    """The LEI of the one active, issued, non-fund entity named ``name`` in a GLEIF
    ``lei-records`` body, else ``(None, candidates)``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise ValueError("not a GLEIF lei-records payload")
    key = normalize_name(name)
    found: list[dict[str, JsonValue]] = []
    for record in payload["data"]:
        attributes = as_dict(as_dict(record).get("attributes"))
        entity = as_dict(attributes.get("entity"))
        legal = str(as_dict(entity.get("legalName")).get("name") or "")
        if normalize_name(legal) != key or entity.get("category") == "FUND":
            continue
        registered = as_dict(attributes.get("registration")).get("status") == "ISSUED"
        if entity.get("status") != "ACTIVE" or not registered:
            continue
        country = as_dict(entity.get("headquartersAddress")).get("country")
        found.append(
            {
                "lei": str(as_dict(record).get("id") or ""),
                "legal_name": legal,
                "country": country if isinstance(country, str) else None,
            }
        )
    if len(found) == 1 and found[0]["lei"]:
        return str(found[0]["lei"]), []
    return None, found


def domain_of(url_or_host: str) -> str | None:
    """``"https://www.stripe.com/"`` -> ``"stripe.com"``."""
    text = url_or_host.strip().lower()
    host = urlsplit(text if "://" in text else f"http://{text}").hostname or ""
    return host.removeprefix("www.") or None


def facts_of(payload: object, qid: str) -> dict[str, str]:
    try:
        claims = parse_entity(payload, qid=qid)
        title = parse_sitelink(payload, qid=qid)
    except ValueError:
        return {}
    facts: dict[str, str] = {"wikipedia": title} if title else {}
    if claims is None:
        return facts
    for prop, key in (("P5531", "cik"), ("P1278", "lei"), ("P856", "domain")):
        values = [s.value for s in claims.best(prop) if isinstance(s.value, str)]
        if values:
            facts[key] = values[0]
    if "cik" in facts:
        try:
            facts["cik"] = cik10(facts["cik"])
        except ValueError:
            del facts["cik"]
    if "domain" in facts:
        facts["domain"] = domain_of(facts["domain"]) or ""
    return {k: v for k, v in facts.items() if v}


def contradicts(facts: Mapping[str, str], known: Mapping[str, str]) -> bool:
    return any(k in facts and k in known and facts[k] != known[k] for k in ("cik", "domain"))


def agrees(facts: Mapping[str, str], known: Mapping[str, str]) -> bool:
    return any(k in facts and facts.get(k) == known.get(k) for k in ("cik", "domain"))


def looks_like_ticker(name: str) -> bool:
    text = name.strip()
    return text.startswith("$") or (text.isupper() and text.isalpha() and len(text) <= 5)


def given_identifiers(account: Mapping[str, object]) -> dict[str, str]:
    given: dict[str, str] = {}
    for key in ("name", "domain", "cik", "ticker", "wikidata", "wikipedia", "lei"):
        value = account.get(key)
        if isinstance(value, (str, int)) and str(value).strip():
            given[key] = str(value).strip()
    nested = account.get("boards")
    boards: Mapping[str, object] = nested if isinstance(nested, Mapping) else {}
    for provider in BOARD_PROVIDERS:
        token = boards.get(provider) or account.get(provider)
        if isinstance(token, str) and token.strip():
            given[provider] = token.strip()
    if "cik" in given:
        try:
            given["cik"] = cik10(given["cik"])
        except ValueError:
            del given["cik"]
    if "domain" in given:
        given["domain"] = domain_of(given["domain"]) or given["domain"]
    if "ticker" in given:
        given["ticker"] = given["ticker"].upper()
    if "wikidata" in given:
        given["wikidata"] = given["wikidata"].upper()
    return given
