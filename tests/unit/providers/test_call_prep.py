"""Call prep: the entry point is someone in a role we sell to, matched on the whole role."""

from __future__ import annotations

from dossier.core.types import Finding, FindingKind
from dossier.providers.call_prep import area_of, entry_point, matching_people
from tests.fakes import make_finding

K = FindingKind


def person(name: str, title: str, role: str) -> Finding:
    found = make_finding(K.PERSON, name, name=name, roles=[role])
    return found.model_copy(update={"fields": {**found.fields, "title": title}})


def test_a_role_we_sell_to_matches_on_every_word() -> None:
    field_ops = person("Ajay", "EVP, Worldwide Field Operations", "EVP")
    fraud_ops = person("Dana", "VP Fraud Operations", "VP")
    found = matching_people([field_ops, fraud_ops], None, ["fraud operations"])
    assert [p.fields["name"] for p in found] == ["Dana"]


def test_without_a_match_the_entry_point_names_the_role_and_the_team_that_points_there() -> None:
    ceo = person("Pat", "CEO", "CEO")
    job = make_finding(K.JOB_POSTING, "Fraud Analyst", department="Fraud Operations")
    said = entry_point([ceo, job], "fraud detection for marketplaces", ["risk", "fraud operations"])
    assert said[0].text.startswith("Entry point: nobody in risk or fraud operations is named yet")
    assert "hiring for Fraud Operations" in said[0].text and "Pat" not in said[0].text
    assert said[0].cites == (job,)


def test_what_we_sell_in_a_few_words() -> None:
    assert area_of("fraud and risk analytics for payment teams.") == "fraud and risk analytics"
    assert area_of(None) is None
