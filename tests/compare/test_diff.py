"""peaceplans.compare.diff: tokens, ops, verdicts and similarity, with examples and properties."""

import difflib
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peaceplans.compare.diff import Change, ClauseDiff, Op, compare, diff_ops, similarity, tokenize
from tests.conftest import scaled

# The autouse settings fixture in conftest.py is function-scoped; it only swaps settings
# these pure functions never read, so sharing it across examples is harmless.
# 200 examples in the ci profile, 20 in the dev one (`make test`'s default; tests/conftest.py).
PROPERTY = settings(
    max_examples=scaled(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

DEMO_A = "Ukraine's Armed Forces are capped at 600,000 personnel."
DEMO_B = "Ukraine's armed forces are limited to 800,000 in peacetime."


def rebuilds(result: ClauseDiff, a: str, b: str) -> bool:
    return "".join(op.a for op in result.ops) == a and "".join(op.b for op in result.ops) == b


def mirror(ops) -> tuple[Op, ...]:
    swap = {"insert": "delete", "delete": "insert"}
    return tuple(Op(swap.get(op.kind, op.kind), op.b, op.a) for op in ops)


def changes(result: ClauseDiff) -> list[Op]:
    return [op for op in result.ops if op.kind != "equal"]


# --- tokenize -------------------------------------------------------------------------


def test_tokenize_empty_text_has_no_tokens():
    """An empty text is no tokens at all."""
    assert tokenize("") == []


def test_tokenize_whitespace_runs_are_single_tokens():
    """Each run of whitespace, whatever it mixes, is one token of its own."""
    assert tokenize("  peace \t\n now\n") == ["  ", "peace", " \t\n ", "now", "\n"]


def test_tokenize_punctuation_marks_are_separate_tokens():
    """Each punctuation mark is a token, apart from the word it follows or precedes."""
    assert tokenize("peace, now! (soon)") == ["peace", ",", " ", "now", "!", " ", "(", "soon", ")"]


def test_tokenize_number_with_thousands_separators_is_one_token():
    """600,000 and 1,000,000.50 stay whole."""
    assert tokenize("600,000 or 1,000,000.50") == ["600,000", " ", "or", " ", "1,000,000.50"]


def test_tokenize_decimal_is_one_token():
    """2.5 stays whole."""
    assert tokenize("2.5 times") == ["2.5", " ", "times"]


def test_tokenize_trailing_punctuation_is_not_part_of_a_number():
    """In "600,000." the full stop is a token of its own."""
    assert tokenize("capped at 600,000.") == ["capped", " ", "at", " ", "600,000", "."]


def test_tokenize_parentheses_around_a_number_are_separate():
    """(600,000) is three tokens."""
    assert tokenize("(600,000)") == ["(", "600,000", ")"]


def test_tokenize_percentage_is_one_token():
    """50% is one token; with a space before it, the sign stands alone."""
    assert tokenize("50% and 12.5 %") == ["50%", " ", "and", " ", "12.5", " ", "%"]


def test_tokenize_amounts_are_one_token():
    """$100bn, $100, €90 and 90bn are one token each."""
    assert tokenize("$100bn $100 €90 90bn") == ["$100bn", " ", "$100", " ", "€90", " ", "90bn"]


def test_tokenize_amount_in_words_splits_at_spaces():
    """EUR 90 billion is three words."""
    assert tokenize("EUR 90 billion") == ["EUR", " ", "90", " ", "billion"]


def test_tokenize_currency_sign_without_a_number_is_punctuation():
    """A $ not followed by a digit is a token of its own."""
    assert tokenize("US$ deal") == ["US", "$", " ", "deal"]


def test_tokenize_hyphenated_words_are_one_token():
    """Witkoff-Dmitriev, non-aggression and 50-50 stay whole."""
    assert tokenize("Witkoff-Dmitriev non-aggression 50-50") == [
        "Witkoff-Dmitriev",
        " ",
        "non-aggression",
        " ",
        "50-50",
    ]


def test_tokenize_dangling_hyphen_is_separate():
    """A hyphen with no word after it is punctuation: "pre- and post-war"."""
    assert tokenize("pre- and post-war") == ["pre", "-", " ", "and", " ", "post-war"]


def test_tokenize_words_with_apostrophes_are_one_token():
    """Straight and curly apostrophes inside a word keep it whole."""
    assert tokenize("Ukraine's Ukraine’s") == ["Ukraine's", " ", "Ukraine’s"]


def test_tokenize_quotes_around_words_are_separate():
    """Quote marks at the edges of words are not part of them."""
    assert tokenize("'Peace Council' “now”") == ["'", "Peace", " ", "Council", "'", " ", "“", "now", "”"]


def test_tokenize_cyrillic_words_are_one_token():
    """A Cyrillic word, with an apostrophe inside, is one token."""
    assert tokenize("Зеленський п’ять") == ["Зеленський", " ", "п’ять"]


def test_tokenize_combining_marks_stay_with_their_letter():
    """A decomposed accent, or Arabic vowel marks, do not split a word."""
    assert tokenize("cafe\u0301 \u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627") == [
        "cafe\u0301",
        " ",
        "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627",
    ]


def test_tokenize_emoji_with_modifiers_are_one_token():
    """A skin-toned emoji, a flag, a family joined by ZWJ and a keycap are one token each."""
    text = "👍🏽 🇺🇦 👨\u200d👩\u200d👧 1️⃣"
    assert tokenize(text) == ["👍🏽", " ", "🇺🇦", " ", "👨\u200d👩\u200d👧", " ", "1️⃣"]


def test_tokenize_number_with_no_break_space_groups_is_one_token():
    """600 000 written with a no-break or narrow no-break space is one number."""
    assert tokenize("600\u00a0000 and 600\u202f000") == ["600\u00a0000", " ", "and", " ", "600\u202f000"]


def test_tokenize_nul_is_a_token():
    """A NUL character is kept, as a token of its own."""
    assert tokenize("a\x00b") == ["a", "\x00", "b"]


def test_tokenize_long_trailing_whitespace_is_linear():
    """Trailing whitespace costs linear time, not quadratic (200,000 spaces in well under a second)."""
    text = "x" + " " * 200_000
    start = time.perf_counter()
    assert tokenize(text) == ["x", " " * 200_000]
    assert time.perf_counter() - start < 1.0


# --- compare: the demo case and ops ---------------------------------------------------


def test_demo_clause_is_changed():
    """The army cap clause of the demo is CHANGED."""
    assert compare(DEMO_A, DEMO_B).change is Change.CHANGED


def test_demo_clause_ops_delete_600000_and_insert_800000():
    """Some delete or replace op removes "600,000" and one adds "800,000"."""
    ops = changes(compare(DEMO_A, DEMO_B))
    assert any("600,000" in op.a for op in ops if op.kind in ("delete", "replace"))
    assert any("800,000" in op.b for op in ops if op.kind in ("insert", "replace"))


def test_demo_clause_change_of_figure_is_one_readable_replacement():
    """The new figure and wording are one op, not fragments around unchanged spaces."""
    replacement = Op("replace", "capped at 600,000 personnel", "limited to 800,000 in peacetime")
    assert replacement in compare(DEMO_A, DEMO_B).ops


def test_demo_clause_unchanged_words_are_equal_ops():
    """The words both versions share are covered by equal ops."""
    equal = "".join(op.a for op in compare(DEMO_A, DEMO_B).ops if op.kind == "equal")
    assert equal == "Ukraine's  are ."


def test_letter_case_change_of_a_word_is_a_replacement():
    """A capital letter lowered (Armed Forces -> armed forces) is shown as a replacement, not hidden."""
    assert Op("replace", "Armed Forces", "armed forces") in compare(DEMO_A, DEMO_B).ops


def test_whitespace_between_changed_words_is_absorbed():
    """Two changed words with an unchanged space between them are one replace op, even
    when one of them only changed case."""
    assert compare("one Two three", "uno two three").ops == (
        Op("replace", "one Two", "uno two"),
        Op("equal", " three", " three"),
    )


def test_inserted_words_are_one_insert_op():
    """Words added in one place are a single insert, with the space that goes with them."""
    assert compare("cap the army", "cap the whole regular army").ops == (
        Op("equal", "cap the ", "cap the "),
        Op("insert", "", "whole regular "),
        Op("equal", "army", "army"),
    )


def test_deleted_words_are_one_delete_op():
    """Words removed in one place are a single delete."""
    assert compare("cap the whole regular army", "cap the army").ops == (
        Op("equal", "cap the ", "cap the "),
        Op("delete", "whole regular ", ""),
        Op("equal", "army", "army"),
    )


def test_diff_ops_of_identical_texts_is_one_equal_op():
    """diff_ops of a text with itself is a single equal op."""
    assert diff_ops("peace now", "peace now") == [Op("equal", "peace now", "peace now")]


def test_diff_ops_of_two_empty_texts_is_empty():
    """diff_ops("", "") has no ops."""
    assert diff_ops("", "") == []


def test_diff_ops_matches_compare():
    """diff_ops gives the same ops as compare."""
    assert tuple(diff_ops(DEMO_A, DEMO_B)) == compare(DEMO_A, DEMO_B).ops


def test_one_changed_word_in_a_long_text_is_one_change():
    """In a 3,000-word text (aligned by chunks), one changed figure is the only change."""
    rng = random.Random(7)
    vocabulary = ("the", "of", "peace", "plan", "army", "cap", "guarantee", "sanctions", "Kyiv", "NATO", "zone")
    words = [rng.choice(vocabulary) for _ in range(3000)]
    words[1500] = "600,000"
    a = " ".join(words) + "."
    b = a.replace("600,000", "800,000")
    result = compare(a, b)
    assert changes(result) == [Op("replace", "600,000", "800,000")]
    assert result.similarity == pytest.approx(1 - 1 / 3001)


# --- compare: verdicts ----------------------------------------------------------------


def test_identical_texts_are_unchanged():
    """The same text on both sides is UNCHANGED, one equal op, similarity 1.0."""
    assert compare(DEMO_A, DEMO_A) == ClauseDiff(Change.UNCHANGED, (Op("equal", DEMO_A, DEMO_A),), 1.0, ())


def test_only_curly_quotes_changed_is_cosmetic_quotes():
    """“ ” against " " is COSMETIC, of quotes only."""
    result = compare("the “Peace Council”", 'the "Peace Council"')
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("quotes",))


def test_only_apostrophe_style_changed_is_cosmetic_quotes():
    """Ukraine's against Ukraine’s is COSMETIC, of quotes only."""
    result = compare("Ukraine's army", "Ukraine’s army")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("quotes",))


def test_quotes_added_is_cosmetic_quotes():
    """Putting quote marks around words is COSMETIC, of quotes only."""
    result = compare("a Peace Council", "a 'Peace Council'")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("quotes",))


def test_only_punctuation_changed_is_cosmetic_punctuation():
    """A comma dropped and a full stop added is COSMETIC, of punctuation only."""
    result = compare("Russia, Ukraine and Europe", "Russia Ukraine and Europe.")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("punctuation",))


def test_only_whitespace_changed_is_cosmetic_whitespace():
    """Doubled, trailing and different whitespace is COSMETIC, of whitespace only."""
    result = compare("Russia  and\nUkraine ", "Russia and Ukraine")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("whitespace",))


def test_space_after_comma_is_cosmetic_whitespace():
    """A space added after a comma is a whitespace change, not punctuation."""
    result = compare("Russia,Ukraine", "Russia, Ukraine")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("whitespace",))


def test_no_break_space_in_a_number_against_a_space_is_cosmetic_whitespace():
    """600 000 with a no-break space against an ordinary space is a whitespace change."""
    result = compare("capped at 600\u00a0000", "capped at 600 000")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("whitespace",))


def test_only_letter_case_changed_is_cosmetic_letter_case():
    """Peace Council against peace council is COSMETIC, of letter case only."""
    result = compare("the Peace Council", "the peace council")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("letter case",))


def test_several_cosmetic_kinds_are_all_listed():
    """Whitespace, punctuation and case changed together are all named, in a fixed order."""
    result = compare("Peace,  now", "peace now")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("whitespace", "punctuation", "letter case"))


def test_hyphen_for_space_is_cosmetic_punctuation():
    """non-aggression against non aggression is COSMETIC and names punctuation."""
    result = compare("a non-aggression pact", "a non aggression pact")
    assert result.change is Change.COSMETIC
    assert "punctuation" in result.cosmetic


def test_space_moved_across_a_comma_is_cosmetic_whitespace():
    """A space moved from after a comma to before it is named as a whitespace change."""
    result = compare("Russia, Ukraine", "Russia ,Ukraine")
    assert (result.change, result.cosmetic) == (Change.COSMETIC, ("whitespace",))


def test_one_word_changed_is_changed():
    """A different word is CHANGED, with no cosmetic kinds."""
    result = compare("Europe signs the pact", "NATO signs the pact")
    assert (result.change, result.cosmetic) == (Change.CHANGED, ())


def test_words_joined_is_changed():
    """Removing the space between two words changes the words: CHANGED."""
    assert compare("peace keeping", "peacekeeping").change is Change.CHANGED


def test_number_separator_change_is_changed():
    """600,000 against 600.000 may be another number: CHANGED, not punctuation."""
    assert compare("capped at 600,000", "capped at 600.000").change is Change.CHANGED


def test_decimal_point_removed_is_changed():
    """2.5% against 25% is CHANGED."""
    assert compare("growth of 2.5%", "growth of 25%").change is Change.CHANGED


def test_percent_sign_removed_is_changed():
    """50% against 50 is CHANGED: the percent sign carries meaning."""
    assert compare("a 50% share", "a 50 share").change is Change.CHANGED


# --- compare: missing sides -----------------------------------------------------------


def test_missing_first_text_is_added():
    """No text before: ADDED, the new text as one insert, similarity 0.0."""
    assert compare(None, "New clause.") == ClauseDiff(Change.ADDED, (Op("insert", "", "New clause."),), 0.0, ())


def test_missing_second_text_is_dropped():
    """No text after: DROPPED, the old text as one delete, similarity 0.0."""
    assert compare("Old clause.", None) == ClauseDiff(Change.DROPPED, (Op("delete", "Old clause.", ""),), 0.0, ())


def test_both_texts_missing_is_unchanged_without_ops():
    """No text on either side: UNCHANGED, no ops."""
    assert compare(None, None) == ClauseDiff(Change.UNCHANGED, (), 1.0, ())


def test_missing_against_empty_text_is_added_without_ops():
    """None against "" is ADDED, with no op (there is no text to show)."""
    assert compare(None, "") == ClauseDiff(Change.ADDED, (), 0.0, ())


# --- hostile input --------------------------------------------------------------------


def test_markup_is_returned_as_plain_text():
    """<script> is not escaped or removed here: the ops carry it verbatim for templates to escape."""
    b = "Peace <script>alert('x')</script> now &amp;"
    result = compare("Peace now", b)
    assert rebuilds(result, "Peace now", b)
    assert any("<script>alert('x')</script>" in op.b for op in result.ops)


def test_empty_first_text_is_one_insert():
    """An empty text against a text is CHANGED: everything inserted."""
    assert compare("", "peace") == ClauseDiff(Change.CHANGED, (Op("insert", "", "peace"),), 0.0, ())


def test_empty_second_text_is_one_delete():
    """A text against "" is CHANGED: everything deleted."""
    assert compare("peace", "") == ClauseDiff(Change.CHANGED, (Op("delete", "peace", ""),), 0.0, ())


def test_two_empty_texts_are_unchanged():
    """Two empty texts are UNCHANGED, with no ops."""
    assert compare("", "") == ClauseDiff(Change.UNCHANGED, (), 1.0, ())


def test_very_long_single_token():
    """A 200,000-character word changed at its end is one replacement, quickly."""
    a, b = "x" * 200_000, "x" * 199_999 + "y"
    start = time.perf_counter()
    assert compare(a, b).ops == (Op("replace", a, b),)
    assert time.perf_counter() - start < 1.0


def test_only_whitespace_texts():
    """Texts of whitespace only differ only in whitespace."""
    result = compare("   ", "\n\t")
    assert (result.change, result.cosmetic, result.similarity) == (Change.COSMETIC, ("whitespace",), 1.0)
    assert rebuilds(result, "   ", "\n\t")


def test_mixed_cyrillic_emoji_and_right_to_left_text():
    """Cyrillic, emoji, Hebrew and Arabic survive a comparison intact, changed word by word."""
    a = "Зеленський 👍🏽 שלום עולם مرحبا 🇺🇦"
    b = "Зеленський 👎 שלום עולם مرحبا 🇺🇦"
    result = compare(a, b)
    assert rebuilds(result, a, b)
    assert changes(result) == [Op("replace", "👍🏽", "👎")]


def test_nul_characters():
    """NUL characters are compared like any other character."""
    result = compare("a\x00b c", "a\x00b d")
    assert rebuilds(result, "a\x00b c", "a\x00b d")
    assert changes(result) == [Op("replace", "c", "d")]


def test_lone_surrogate():
    """A lone surrogate (possible in a Python string) does not break tokenizing or diffing."""
    result = compare("peace \ud800", "peace")
    assert rebuilds(result, "peace \ud800", "peace")


def test_repetitive_long_texts_are_fast():
    """4,000 repetitions of one word, with one changed, take well under a second."""
    a = " ".join(["peace"] * 4000)
    b = " ".join(["peace"] * 2000 + ["war"] + ["peace"] * 1999)
    start = time.perf_counter()
    result = compare(a, b)
    assert time.perf_counter() - start < 1.0
    assert rebuilds(result, a, b)


def test_two_unrelated_long_texts_are_fast():
    """Two unrelated 5,000-word texts take well under a second."""
    rng = random.Random(1)
    a = " ".join(rng.choice(["the", "of", "peace", "plan", "army", "cap"]) for _ in range(5000))
    b = " ".join(rng.choice(["war", "and", "sanctions", "fund", "zone", "the"]) for _ in range(5000))
    start = time.perf_counter()
    result = compare(a, b)
    assert time.perf_counter() - start < 1.0
    assert rebuilds(result, a, b)


# --- similarity -----------------------------------------------------------------------


def test_similarity_is_difflib_ratio_over_casefolded_words_for_clauses():
    """For a clause, similarity is difflib's ratio over the casefolded non-whitespace tokens."""

    def words(text):
        return [t.casefold() for t in tokenize(text) if not t.isspace()]

    expected = difflib.SequenceMatcher(None, words(DEMO_A), words(DEMO_B), autojunk=False).ratio()
    assert similarity(DEMO_A, DEMO_B) == expected == compare(DEMO_A, DEMO_B).similarity


def test_similarity_ignores_letter_case():
    """Texts differing in letter case only are similarity 1.0."""
    assert similarity("The Peace Council", "the peace council") == 1.0


def test_similarity_of_unrelated_texts_is_zero():
    """Texts with no word in common are similarity 0.0."""
    assert similarity("peace now", "war later") == 0.0


# --- properties -----------------------------------------------------------------------
VOCABULARY = [
    "peace",
    "600\u00a0000",
    "Peace",
    "the",
    "army",
    "600,000",
    "800,000",
    "$100bn",
    "50%",
    "2.5",
    "Witkoff-Dmitriev",
    "non-aggression",
    "Ukraine's",
    "Ukraine’s",
    "Зеленський",
    "👍🏽",
    "🇺🇦",
    "שלום",
    "<b>",
    "&amp;",
    "",
]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\t", ", ", ". ", ",", ".", "“", "”", '"', "'", "-", "(", ")", "\u00a0", ""]

word_texts = st.lists(
    st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(SEPARATORS)),
    max_size=40,
).map(lambda pairs: "".join(w + s for w, s in pairs))
# Any Unicode, also with lone surrogates (which a Python string may hold), and plan-like text.
any_texts = st.one_of(st.text(), st.text(st.characters(exclude_categories=())), word_texts)
pairs = st.one_of(st.tuples(any_texts, any_texts), word_texts.flatmap(lambda a: st.tuples(st.just(a), word_texts)))


def _long_pair(seed: int, rate: float) -> tuple[str, str]:
    """Two versions of a 400- to 1,200-word text, `rate` of the words changed."""
    rng = random.Random(seed)
    words = [rng.choice(VOCABULARY) + rng.choice(SEPARATORS) for _ in range(rng.randrange(400, 1200))]
    edited = [rng.choice(VOCABULARY) + " " if rng.random() < rate else w for w in words if rng.random() > rate / 3]
    return "".join(words), "".join(edited)


long_pairs = st.builds(_long_pair, st.integers(0, 2**32), st.floats(0.0, 0.3))


@PROPERTY
@given(any_texts)
def test_tokens_rebuild_the_text(text):
    """Joining the tokens of any text gives the text back."""
    assert "".join(tokenize(text)) == text


@PROPERTY
@given(any_texts)
def test_no_token_is_empty(text):
    """Every token has at least one character."""
    assert all(tokenize(text))


@PROPERTY
@given(pairs)
def test_ops_rebuild_both_texts(pair):
    """The a sides of the ops join to a, the b sides to b."""
    a, b = pair
    assert rebuilds(compare(a, b), a, b)


@PROPERTY
@given(long_pairs)
def test_ops_rebuild_both_long_texts(pair):
    """Long texts (aligned by chunks and anchors) are rebuilt exactly too."""
    a, b = pair
    assert rebuilds(compare(a, b), a, b)


@PROPERTY
@given(st.one_of(pairs, long_pairs))
def test_op_kinds_match_their_sides(pair):
    """equal has a == b; insert only b; delete only a; replace both sides, different."""
    for op in compare(*pair).ops:
        assert (op.a, op.b) != ("", "")
        assert {
            "equal": op.a == op.b,
            "insert": op.a == "" and op.b != "",
            "delete": op.b == "" and op.a != "",
            "replace": "" not in (op.a, op.b) and op.a != op.b,
        }[op.kind]


@PROPERTY
@given(st.one_of(pairs, long_pairs))
def test_adjacent_ops_differ_in_kind_and_no_whitespace_island(pair):
    """No two neighbouring ops are of one kind, and no whitespace-only equal op sits
    between two changes."""
    ops = compare(*pair).ops
    for before, after in zip(ops, ops[1:], strict=False):
        assert before.kind != after.kind
        assert "equal" in (before.kind, after.kind)
    for before, middle, after in zip(ops, ops[1:], ops[2:], strict=False):
        if before.kind != "equal" and after.kind != "equal":
            assert not middle.a.isspace()


@PROPERTY
@given(any_texts)
def test_a_text_against_itself_is_unchanged(text):
    """compare(x, x) is UNCHANGED, all ops equal, similarity 1.0."""
    result = compare(text, text)
    assert result.change is Change.UNCHANGED
    assert all(op.kind == "equal" for op in result.ops)
    assert result.similarity == 1.0


@PROPERTY
@given(st.one_of(pairs, long_pairs))
def test_swapping_sides_mirrors_the_ops(pair):
    """compare(b, a) has the ops of compare(a, b) with inserts and deletes (and the two
    sides of each op) swapped, and the same verdict and similarity."""
    a, b = pair
    forward, backward = compare(a, b), compare(b, a)
    assert backward.ops == mirror(forward.ops)
    assert (backward.change, backward.cosmetic, backward.similarity) == (
        forward.change,
        forward.cosmetic,
        forward.similarity,
    )


@PROPERTY
@given(st.one_of(pairs, long_pairs))
def test_similarity_is_symmetric_and_between_zero_and_one(pair):
    """similarity(a, b) == similarity(b, a), within [0, 1], and is compare's figure."""
    a, b = pair
    value = similarity(a, b)
    assert 0.0 <= value <= 1.0
    assert value == similarity(b, a) == compare(a, b).similarity


@PROPERTY
@given(pairs)
def test_cosmetic_kinds_only_on_cosmetic_changes(pair):
    """Cosmetic kinds are listed exactly when the verdict is COSMETIC, from the four known ones."""
    result = compare(*pair)
    assert bool(result.cosmetic) == (result.change is Change.COSMETIC)
    assert set(result.cosmetic) <= {"whitespace", "punctuation", "quotes", "letter case"}


@PROPERTY
@given(pairs)
def test_texts_differing_only_in_whitespace_are_cosmetic_whitespace(pair):
    """Re-spacing a text (collapsing each whitespace run to one space) is at most a
    whitespace change."""
    a, _ = pair
    b = " ".join(a.split())
    result = compare(a, b)
    assert result.change in (Change.UNCHANGED, Change.COSMETIC)
    assert result.cosmetic in ((), ("whitespace",))
