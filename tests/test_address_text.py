"""Address text and search queries, checked on any input (Hypothesis): the words a search
compares ignore case, accents, punctuation and abbreviations, and no typed text reaches the
full-text index as anything but a valid query (never a 500)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.reporting.address_text import SPELLED_OUT, fold, split_address, tokens
from app.reporting.places import Query
from app.storage import places
from tests.test_places import open_addresses_csv

WORDS = st.sampled_from(["Hill", "Élysée", "Saint-Michel", "Oak", "N", "St", "Ave", "Blvd",
                         "Bd", "R", "rue", "de", "l'Église", "3rd", "977", "12b", "Ñandú"])
TYPED = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)


@given(st.lists(WORDS, min_size=1, max_size=6))
def test_case_and_punctuation_do_not_change_the_words(parts):
    text = " ".join(parts)
    assert tokens(text.upper()) == tokens(text) == tokens(text.lower())
    assert tokens(", ".join(parts) + ".") == tokens(text)


@given(st.lists(WORDS, min_size=1, max_size=6))
def test_abbreviations_and_their_words_meet(parts):
    spelled = [SPELLED_OUT.get(fold(p), p) for p in parts]
    assert tokens(" ".join(parts)) == tokens(" ".join(spelled))


@given(st.sampled_from(["é", "è", "ê", "ë", "à", "ç", "ô", "ü", "ñ"]))
def test_accents_fold_away(letter):
    assert fold(f"Rue {letter}") == f"rue {fold(letter)}" and fold(letter).isascii()


@given(st.integers(1, 99999), st.lists(WORDS.filter(lambda w: not w[0].isdigit()),
                                        min_size=1, max_size=4))
def test_a_leading_house_number_is_split_off(number, street):
    parts = split_address(f"{number} {' '.join(street)}, 90012")
    assert parts.number == str(number) and parts.locality == "90012"
    assert tokens(parts.street) == tokens(" ".join(street))


@pytest.fixture
def one_street(db):
    """The run's database holding one street, to run every parsed query against."""
    places.replace_addresses(db, [{
        "id": 1, "name": "N Hill St", "locality": "90012", "name_tokens": "north hill street",
        "locality_tokens": "90012", "lon": -118.24, "lat": 34.06}], [],
        {"source": "test", "points": 0, "skipped_no_position": 0, "skipped_outside": 0})
    return db


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TYPED)
def test_any_typed_text_is_a_valid_full_text_query(one_street, text):
    query = Query.parse(text)
    if query.terms:
        places.matching_streets(one_street, query.groups(), 10)
        places.numbered_matches(one_street, query.groups(), "1", 10)


@pytest.fixture
def loaded_client(client, runner, tmp_path):
    path = open_addresses_csv(tmp_path / "addresses.csv")
    assert runner.invoke(args=["addresses", "load", str(path)]).exit_code == 0
    return client


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TYPED)
def test_the_api_answers_any_text_with_results_or_a_400(loaded_client, text):
    response = loaded_client.get("/api/places", query_string={"q": text})
    assert response.status_code in (200, 400), text
    if response.status_code == 400:
        assert response.get_json()["error"]["message"]
