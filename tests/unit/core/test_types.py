from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from dossier.core.sessions import CreateSession
from dossier.core.types import Account, FindingKind, Vendor, finding_id, normalize_name, slugify


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Acme Corp.", "acme"),
        ("ACME, Inc", "acme"),
        ("acme", "acme"),
        ("Stripe, Inc.", "stripe"),
        ("Société Générale SA", "societe generale"),
        ("The Co", "the co"),
        ("Inc", "inc"),
    ],
)
def test_account_keys_ignore_case_accents_and_legal_suffixes(name: str, key: str) -> None:
    assert normalize_name(name) == key


def test_slug_is_the_board_token_guess() -> None:
    assert slugify("Stripe, Inc.") == "stripe"
    assert slugify("Fly.io") == "flyio"


@pytest.mark.parametrize(
    "body",
    [
        {"account": {"name": ""}},
        {"account": {"name": "   "}},
        {"account": {"name": "x" * 201}},
        {"account": {"name": "!!!"}},
        {"account": {"name": "Acme\x00"}},
        {"account": {"name": "Acme", "domain": "not a domain"}},
        {"account": {"name": "Acme", "domain": "http://"}},
        {"account": {"name": "Acme", "cik": "12ab"}},
        {"account": {"name": "Acme", "boards": {"greenhouse": "../etc"}}},
        {"account": {"name": "Acme", "boards": {"myspace": "acme"}}},
        {"account": {"name": "Acme"}, "surprise": 1},
        {"account": "Acme"},
        {},
    ],
)
def test_bad_session_requests_are_rejected(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CreateSession.model_validate(body)


def test_domains_are_normalised() -> None:
    account = Account(name="Stripe", domain="https://www.Stripe.com/about")
    assert account.domain == "stripe.com"


@given(st.text(min_size=1, max_size=200))
def test_any_accepted_name_has_a_non_empty_key(name: str) -> None:
    try:
        account = Account(name=name)
    except ValidationError:
        return
    assert account.key
    assert account.key == normalize_name(account.name)


@given(
    st.fixed_dictionaries(
        {"name": st.text(max_size=250)},
        optional={
            "domain": st.text(max_size=30),
            "cik": st.text(max_size=12),
            "ticker": st.text(max_size=12),
        },
    )
)
def test_account_validation_never_crashes_on_junk(payload: dict[str, str]) -> None:
    with contextlib.suppress(ValidationError):
        Account.model_validate(payload)


def test_vendor_hash_is_stable_and_content_sensitive() -> None:
    a = Vendor(name="Acme", description="fraud tools")
    assert a.hash == Vendor(name="ACME Inc", description="fraud tools").hash
    assert a.hash != Vendor(name="Acme", description="other").hash


def test_finding_ids_are_stable_per_natural_key() -> None:
    one = finding_id(FindingKind.PERSON, "Patrick Collison")
    assert one == finding_id(FindingKind.PERSON, " patrick collison ")
    assert one != finding_id(FindingKind.NEWS_ARTICLE, "Patrick Collison")
