"""What resolution found, and how each of its lookups went."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import JsonValue

# Identifiers that say *which* company this is (a board slug guess does not).
IDENTITY_KEYS = ("cik", "wikidata", "domain")
PROVIDES: dict[str, tuple[str, ...]] = {
    "sec_tickers": ("cik",),
    "wikidata_search": ("wikidata",),
    "wikidata_check": ("wikidata",),
}


@dataclass(frozen=True)
class Lookup:
    """One request resolution made and how it went.

    ``identity``: the lookup could have told who the company is (SEC list, Wikidata), so
    its failure leaves the company unidentified for a reason other than "not found".
    """

    name: str
    label: str
    answered: bool
    cause: str | None = None
    error: str | None = None
    identity: bool = False
    # the identifiers it would have given: once another lookup gave them, its failure
    # changes nothing (Wikidata's CIK makes the SEC list's answer moot)
    provides: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "name": self.name,
            "label": self.label,
            "answered": self.answered,
            "identity": self.identity,
        }
        if not self.answered:
            out["cause"] = self.cause
            out["error"] = self.error
        return out


@dataclass
class Resolution:
    """What resolution found. ``identifiers`` feed the collectors; ``candidates`` are
    offered to the user when the name was ambiguous; ``negatives`` (``"lever:acme"``) are
    boards that answered "no such board", to be cached as such; ``lookups`` say how each
    request went."""

    identifiers: dict[str, str]
    candidates: list[dict[str, JsonValue]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)

    @property
    def identified(self) -> bool:
        """We know which company this is (a CIK, a Wikidata item or a domain)."""
        return any(self.identifiers.get(k) for k in IDENTITY_KEYS)

    @property
    def failed_lookups(self) -> list[Lookup]:
        return [lookup for lookup in self.lookups if not lookup.answered]

    @property
    def open_failures(self) -> list[Lookup]:
        """Failed identity lookups whose answer is still missing (not superseded)."""
        return [
            lookup
            for lookup in self.failed_lookups
            if lookup.identity and not any(self.identifiers.get(k) for k in lookup.provides)
        ]

    def settle(self) -> None:
        """Mark identity lookups whose answer another lookup gave as not mattering."""
        self.lookups = [
            lookup
            if lookup.answered or lookup in self.open_failures or not lookup.identity
            else Lookup(
                lookup.name, lookup.label, False, lookup.cause, lookup.error, False, lookup.provides
            )
            for lookup in self.lookups
        ]
