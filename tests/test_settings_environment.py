"""Settings read from the environment (``CIVIC_NAME``), as a production host gives them."""

from app.config import from_environment


def test_photo_store_is_read_from_its_name():
    assert from_environment({"CIVIC_PHOTO_STORE": "/mnt/photos"})["PHOTO_STORE"] == "/mnt/photos"


def test_a_host_set_up_with_the_former_name_keeps_its_photos():
    assert from_environment({"CIVIC_PHOTO_DIR": "/srv/photos"})["PHOTO_STORE"] == "/srv/photos"


def test_the_current_name_wins_over_the_former_one():
    values = from_environment({"CIVIC_PHOTO_DIR": "/old", "CIVIC_PHOTO_STORE": "/new"})
    assert values["PHOTO_STORE"] == "/new"


def test_integers_are_parsed_and_database_url_is_read_bare():
    values = from_environment({"CIVIC_MAX_PHOTOS": "5", "DATABASE_URL": "postgresql://x/y"})
    assert values == {"MAX_PHOTOS": 5, "DATABASE_URL": "postgresql://x/y"}
