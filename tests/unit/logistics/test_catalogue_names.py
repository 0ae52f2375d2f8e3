"""Users read names, never codes: every catalogue item and unit has an Indonesian and an
English name, and the Indonesian name is not the code."""

from __future__ import annotations

from logistics.catalogue import default_catalogue


def test_every_item_has_an_indonesian_and_an_english_name_that_is_not_its_code() -> None:
    for row in default_catalogue().listing():
        assert row["name_id"] and row["name_en"], row
        assert row["name_id"] != row["id"] and "_" not in row["name_id"], row


def test_every_unit_the_catalogue_uses_has_a_name_in_both_languages() -> None:
    catalogue = default_catalogue()
    for item in catalogue.items.values():
        assert set(catalogue.units[item.unit]) == {"id", "en"}, item.unit
    assert catalogue.unit_name("pack", "id") == "bungkus"
    assert catalogue.unit_name("pack", "en") == "pack"
    assert catalogue.unit_name("no-such-unit") == "no-such-unit"
