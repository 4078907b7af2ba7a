from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from dossier.core.sessions import CreateSession
from dossier.core.types import (
    Account,
    FindingKind,
    Vendor,
    VendorRequest,
    finding_id,
    normalize_name,
    slugify,
)


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


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.text(max_size=60) | st.sampled_from(["!!!", "   ", "Ev\x00il", "Acme"]),
            "domain": st.text(max_size=30) | st.sampled_from(["127.0.0.1:8899", "acme.com"]),
        },
    )
)
def test_a_vendor_accepted_at_the_edge_can_be_researched_as_an_account(
    payload: dict[str, str],
) -> None:
    """Vendor Context researches the vendor as an Account: whatever the edge lets in must
    be one (issue 12: ``127.0.0.1:8899`` or ``!!!`` passed, then failed as a 500)."""
    try:
        vendor = VendorRequest.model_validate(payload)
    except ValidationError:
        return
    Account(name=vendor.name or "Our company", domain=vendor.domain)


def test_stored_vendors_are_read_as_they_were() -> None:
    """The checks are the request's: a vendor logged before them still reads back."""
    assert Vendor.model_validate({"name": "!!!", "domain": "127.0.0.1:8899"}).name == "!!!"
    with pytest.raises(ValidationError):
        CreateSession.model_validate({"account": {"name": "Acme"}, "vendor": {"name": "!!!"}})


def test_finding_ids_are_stable_per_natural_key() -> None:
    one = finding_id(FindingKind.PERSON, "Patrick Collison")
    assert one == finding_id(FindingKind.PERSON, " patrick collison ")
    assert one != finding_id(FindingKind.NEWS_ARTICLE, "Patrick Collison")
