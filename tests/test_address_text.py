"""Address text and search queries, checked on any input (Hypothesis): the words a search
compares ignore case, accents, punctuation and abbreviations, and no typed text reaches the
full-text index as anything but a valid query (never a 500)."""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.reporting.address_text import SPELLED_OUT, fold, split_address, tokens
from app.reporting.places import Query
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


@pytest.fixture(scope="module")
def fts():
    """The migration's full-text table, alone, to run every parsed query against."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(name_tokens, locality_tokens, "
               "prefix='1 2 3', tokenize='unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO t VALUES ('north hill street', '90012')")
    yield db
    db.close()


@settings(max_examples=300)
@given(TYPED)
def test_any_typed_text_is_a_valid_full_text_query(fts, text):
    query = Query.parse(text)
    if query.terms:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", [query.fts()]).fetchall()


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
