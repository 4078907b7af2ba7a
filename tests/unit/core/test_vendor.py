"""Who is selling: the roles we sell to are part of the vendor, and of its hash only when
given (caches of vendors that never said stay valid)."""

from __future__ import annotations

import hashlib
import json

import pytest
from pydantic import ValidationError

from dossier.core.types import Vendor, default_vendor, normalize_name
from dossier.settings import Settings


def test_sells_to_is_read_from_a_list_or_a_comma_separated_text() -> None:
    assert Vendor(sells_to=["risk", " fraud  operations ", "", "risk"]).sells_to == (
        "risk",
        "fraud operations",
    )
    assert Vendor.model_validate({"sells_to": "risk, fraud"}).sells_to == ("risk", "fraud")


def test_the_hash_changes_with_sells_to_and_only_when_given() -> None:
    plain = Vendor(name="Acme", description="fraud analytics")
    # the hash as it was before sells_to existed: cached analyses keep their keys
    before = json.dumps([normalize_name("Acme"), "", "fraud analytics"])
    assert plain.hash == hashlib.sha256(before.encode()).hexdigest()[:12]
    assert Vendor(name="Acme", description="fraud analytics", sells_to=()).hash == plain.hash
    assert Vendor(name="Acme", description="fraud analytics", sells_to=["risk"]).hash != plain.hash


def test_bad_roles_are_refused() -> None:
    with pytest.raises(ValidationError):
        Vendor(sells_to=["x" * 81])
    with pytest.raises(ValidationError):
        Vendor(sells_to=[f"role {i}" for i in range(11)])


def test_the_settings_vendor_takes_sells_to(settings: Settings) -> None:
    configured = settings.model_copy(update={"vendor_sells_to": "risk, payments"})
    assert default_vendor(configured).sells_to == ("risk", "payments")
