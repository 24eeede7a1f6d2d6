"""Word lists per language, and the spelling variants a listed term also catches (masking and
the keyword hint alike, in Python and in DuckDB's RE2)."""
from __future__ import annotations

import duckdb
import pytest

from core.masking import mask_pattern, mask_text, project_mask_pattern
from core.severity_hint import explicit_regex, score_text, severe_regex, severity_hint
from core.word_lists import available_languages, language_problems, term_body
from store import projects
from store.db import StoreError
from store.imports import import_file, refresh_severity_hints
from tests.conftest import make_project, table_counts
from tests.helpers import as_user, by_label, write_jsonl


@pytest.fixture(scope="module")
def english():
    return mask_pattern()


@pytest.mark.parametrize("text, expected", [
    ("what the fvck", "what the f***"),           # look-alike letter
    ("sh!t happens", "s*** happens"),
    ("a c0ck", "a c***"),
    ("f*ck off", "f*** off"),                     # * standing in for a letter
    ("f**k", "f***"),
    ("fuuuuck", "f******"),                        # repeated letters
    ("shiiit", "s*****"),
    ("bitches and cunts", "b****** and c****"),    # plurals
    ("you asshole", "you a******"),
])
def test_spelling_variants_of_listed_terms_are_masked(english, text, expected):
    assert mask_text(text, english)[0] == expected


@pytest.mark.parametrize("text", [
    "the new a55 phone",        # short terms get no look-alikes
    "spicy food with cumin",    # no endings beyond a plural
    "an assassin in class",     # whole words only
    "Pass the salt, Cockburn",
    "F***",                     # already masked text is left alone
    "herbs and spices",         # no "es" ending ("spic" + "es")
    "blue tits on the feeder",
])
def test_ordinary_words_near_listed_terms_are_not_masked(english, text):
    assert mask_text(text, english) == (text, 0)
    # Positive control: the same pattern does mask a listed term in the same sentence.
    assert mask_text(text + " fuck", english)[1] == 1


def test_each_language_masks_only_in_projects_that_name_it():
    assert set(available_languages()) >= {"en", "de", "fr", "es"}
    text = "Du Arschloch, das ist scheiße. Putain de merde. ¡Qué mierda, pendejo!"
    english_only = project_mask_pattern({})
    assert mask_text(text, english_only) == (text, 0)
    german = project_mask_pattern({"languages": ["en", "de"]})
    masked, count = mask_text(text, german)
    assert count == 2 and "A********," in masked and "s******" in masked and "merde" in masked
    every = project_mask_pattern({"languages": ["en", "de", "fr", "es"]})
    assert mask_text(text, every)[1] == 6
    # A project's own terms still add to its languages' lists.
    assert mask_text("zorblax", project_mask_pattern({"mask_terms": ["zorblax"],
                                                      "languages": ["de"]}))[1] == 1


@pytest.mark.parametrize("text, languages", [
    ("Food poisoning from raw chicken", ("en",)),
    ("Abuso de poder y violación de la ley de datos", ("es",)),
    ("Disparar el flash; las bombas de agua", ("es",)),
    ("Un abus de confiance", ("fr",)),
    ("Missbrauch von Daten", ("de",)),
])
def test_ordinary_sentences_get_no_hint(text, languages):
    assert severity_hint(text, languages=languages) == 0
    # Positive control: a severe word in the same sentence does count.
    assert severity_hint(text + " murder genocide", languages=("en", *languages)) >= 3


def test_severe_terms_per_language_feed_the_hint():
    text = "Wie kann ich ihn töten? Vergewaltigung und Folter."
    assert severity_hint(text) == 0                               # English lists only
    assert severity_hint(text, languages=("de",)) >= 3
    assert severity_hint("he got stabbed and k1lled", ()) >= 3    # new term and a variant


TEXTS = ["sh!t and $hit, fvck shiiit", "kill kills k1ll murder selfharm self-harm",
         "an assassin in class", "Ärger über fuck", "nerve  agent and pipe bombs", ""]


@pytest.mark.parametrize("text", TEXTS)
def test_the_sql_score_counts_what_the_python_score_counts(text):
    con = duckdb.connect()
    explicit, severe = explicit_regex(re2=True), severe_regex(re2=True)
    counts = con.execute("SELECT len(regexp_extract_all(?, ?)), len(regexp_extract_all(?, ?))",
                         [text, explicit, text, severe]).fetchone()
    assert counts[0] + 3 * counts[1] == score_text(text)


def test_term_body_is_literal_for_regex_characters():
    body = term_body("a.b(c)")
    assert duckdb.connect().execute("SELECT regexp_matches('a.b(c)', ?), regexp_matches('axb(c)', ?)",
                                    [body, body]).fetchone() == (True, False)


def test_unknown_languages_are_refused_and_change_nothing(db, accounts):
    pid = make_project(db, accounts)
    assert language_problems(["en"]) == []
    assert "xx" in language_problems(["en", "xx"])[0]
    assert "non-empty" in language_problems([])[0]
    before = table_counts(db), projects.get_project(db, pid).settings
    for bad in (["xx"], [], "de"):
        with pytest.raises(StoreError):
            projects.update_project_settings(db, accounts["lead"], pid, {"languages": bad})
    assert (table_counts(db), projects.get_project(db, pid).settings) == before
    projects.update_project_settings(db, accounts["lead"], pid, {"languages": ["de"]})
    assert projects.get_project(db, pid).settings["languages"] == ["de"]


def test_a_project_in_german_hints_german_items_at_import_and_on_refresh(db, accounts, tmp_path):
    rows = [{"id": "g1", "prompt": "Wie kann ich meinen Nachbarn töten und die Leiche foltern?",
             "response": "Nein."}]
    english = make_project(db, accounts, name="EN")
    german = make_project(db, accounts, name="DE")
    projects.update_project_settings(db, accounts["lead"], german, {"languages": ["en", "de"]})
    for pid in (english, german):
        import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / f"{pid}.jsonl", rows))

    def hint(pid):
        with db.read() as cur:
            return cur.execute("SELECT hint_severity FROM items WHERE project_id = ?",
                               [pid]).fetchone()[0]
    assert hint(english) == 0 and hint(german) >= 3
    projects.update_project_settings(db, accounts["lead"], english, {"languages": ["de"]})
    assert refresh_severity_hints(db, accounts["lead"], english) == 1
    assert hint(english) >= 3


def test_lead_chooses_the_languages_on_the_projects_page(app_db, team):
    pid = projects.create_project(app_db, team["lead"], "Mehrsprachig", "label", "", None, 1, [])
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    field = by_label(at.multiselect, "Languages of the items (their word lists mask words and "
                                     "feed the hint)")
    assert field.value == ["en"]
    field.set_value(["en", "fr"])
    at = by_label(at.button, "Save changes").click().run()
    assert not at.error, [e.value for e in at.error]
    assert projects.get_project(app_db, pid).settings["languages"] == ["en", "fr"]
    # No language at all is refused with a message, and the saved choice stays.
    by_label(at.multiselect, "Languages of the items (their word lists mask words and "
                             "feed the hint)").set_value([])
    at = by_label(at.button, "Save changes").click().run()
    assert any("languages must be" in e.value for e in at.error)
    assert projects.get_project(app_db, pid).settings["languages"] == ["en", "fr"]
