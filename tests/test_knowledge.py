"""The real knowledge base: valid, sourced, honest, and covering what citizens ask about."""

from __future__ import annotations

import re

import pytest

from bot.domain import Knowledge, TrainingData

pytestmark = pytest.mark.slow

REQUIRED_IDS = [
    "depa",
    "smart-city-thailand-office",
    "nia",
    "ieat",
    "tistr",
    "community-partnership-association",
    "ministry-of-industry",
    "smart-city-steering-committee",
    "smart-city-subcommittee",
    "phuket-smart-city",
    "khon-kaen-smart-city",
    "mae-mo-smart-city",
    "samyan-smart-city",
    "wangchan-valley-smart-city",
    "nakhon-chai-burin",
    "csco",
    "ccio",
    "smart-city-certification",
    "pilot-smart-cities",
    "smart-city-promotion-zone",
    "smart-city-handbook",
    "open-innovation-platform",
    "sme-4-0",
    "thailand-innovation-center",
    "industry-transformation-center",
    "nakhon-chai-burin-projects",
    "asean-smart-cities-network",
    "ieat-nia-mou",
    "tistr-cpa-eco-industrial-town",
    "smart-city",
    "seven-smarts",
    "smart-environment",
    "smart-mobility",
    "smart-living",
    "smart-people",
    "smart-economy",
    "smart-energy",
    "smart-governance",
    "khon-kaen-3m",
    "area-based-innovation",
    "eco-industrial-town",
]


def test_covers_every_required_entity(real: tuple[Knowledge, TrainingData]) -> None:
    knowledge, _ = real
    assert [i for i in REQUIRED_IDS if i not in knowledge] == []


def test_pilot_cities_and_seven_smarts_are_complete(real: tuple[Knowledge, TrainingData]) -> None:
    knowledge, _ = real
    pilots = {m.ref for m in knowledge.get("pilot-smart-cities").members}
    assert pilots == {
        "phuket-smart-city", "khon-kaen-smart-city", "mae-mo-smart-city",
        "samyan-smart-city", "wangchan-valley-smart-city",
    }  # fmt: skip
    smarts = {m.ref for m in knowledge.get("seven-smarts").members}
    assert len(smarts) == 7
    aliases = {a.lower() for i in smarts for a in knowledge.get(i).aliases}
    assert {
        "smart citizen",
        "smart public administration",
        "smart travel and transportation",
    } <= aliases


def test_seed_links_are_kept_exactly(real: tuple[Knowledge, TrainingData]) -> None:
    knowledge, _ = real
    urls = {link.url for entry in knowledge.entries for link in entry.links}
    for expected in (
        "bit.ly/depa-csco",
        "bit.ly/smartcityhandbook",
        "facebook.com/SmartCityThailandOffice",
    ):
        assert any(expected in url for url in urls), expected


def test_every_entry_has_a_source(real: tuple[Knowledge, TrainingData]) -> None:
    knowledge, _ = real
    assert all(entry.sources for entry in knowledge.entries)


def test_no_person_is_said_to_hold_a_role_currently(real: tuple[Knowledge, TrainingData]) -> None:
    knowledge, _ = real
    texts = [
        text
        for entry in knowledge.entries
        for person in entry.people
        for text in (person.role.th, person.role.en)
    ]
    assert not [t for t in texts if re.search(r"ปัจจุบัน|currently|\bnow\b", t, re.IGNORECASE)]


def test_unconfirmed_facts_are_flagged(real: tuple[Knowledge, TrainingData]) -> None:
    """facts.md marks these unconfirmed: the entries must say so, not state a value."""
    knowledge, _ = real
    csco = knowledge.get("csco")
    assert any(u.topic == "requirements" for u in csco.unconfirmed)
    assert not csco.requirements  # no fee, length or eligibility stated as fact
    assert knowledge.get("ieat-nia-mou").unconfirmed
    assert knowledge.get("khon-kaen-3m").unconfirmed


UNCONFIRMED_ROMANISATIONS = (
    "Nuttapon",
    "Nimmanphatcharin",
    "Supakorn",
    "Thawatchai",
    "Aparat",
    "Warit",
)
"""facts.md §10: no page confirms these English spellings, so the bot must not invent them."""


def test_unconfirmed_romanisations_are_not_used(real: tuple[Knowledge, TrainingData]) -> None:
    knowledge, _ = real
    texts = [
        text
        for entry in knowledge.entries
        for text in (
            *(p.name.en for p in entry.people),
            *(d.en for d in entry.details),
            entry.summary.en,
        )
    ]
    assert not [t for t in texts if any(name in t for name in UNCONFIRMED_ROMANISATIONS)]
