"""Numbers: the emergency numbers no tenant may capture, for every country."""

from __future__ import annotations

import pytest

from provisioner.tenants.numbers import emergency_clash, emergency_numbers


@pytest.mark.parametrize(
    ("country", "number", "emergency"),
    [
        ("FR", "17", "17"),  # police
        ("FR", "18", "18"),  # fire brigade
        ("FR", "150", "15"),  # the phone would wait for more digits after 15
        ("IT", "113", "113"),
        ("ES", "*112", "112"),
        ("AU", "1060", "106"),
    ],
)
def test_the_countrys_own_emergency_numbers_are_refused(
    country: str, number: str, emergency: str
) -> None:
    assert emergency_clash(number, country) == emergency


def test_a_number_an_emergency_number_starts_with_is_refused() -> None:
    assert emergency_clash("11", "NL") == "112"
    assert emergency_clash("11", "FR") == "112"


def test_ordinary_numbers_stay_allowed() -> None:
    assert emergency_clash("240", "FR") is None
    assert emergency_clash("5000", "NL") is None
    assert emergency_clash("+31202103356", "NL") is None


def test_the_countrys_emergency_numbers_are_routed_and_the_known_order_kept() -> None:
    assert emergency_numbers("NL")[:4] == ("112", "911", "144", "09008844")
    assert {"15", "17", "18"} <= set(emergency_numbers("FR"))
