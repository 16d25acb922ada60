"""The fee catalogue says which e-ID level each service needs online."""

from subsidies.catalogue import get_service


def test_the_judicial_record_certificate_needs_an_e_id_of_level_two(seeded, db):
    assert get_service(db, "LLTP").min_eid_level == 2


def test_other_services_accept_level_one(seeded, db):
    assert {get_service(db, code).min_eid_level for code in ("TLHT", "PARKING_HN")} == {1}
