"""Reading llama-server's grammar-forced answers (the "forced" scoring mode): which tokens
count, what a missing or underflowed log-probability becomes, and answers that did not
follow the grammar. Answers are shaped as llama-server's /completion writes them."""

from __future__ import annotations

import pytest

from osler.reasoning.server.errors import ServerProtocolError
from osler.reasoning.server.identity import (
    LOGPROB_FLOOR,
    NoPromptLogprobs,
    _gbnf_exact,
    parse_forced,
)


def entry(text: str | bytes, logprob, tok: int = 1) -> dict:
    raw = text.encode() if isinstance(text, str) else text
    return {"id": tok, "token": raw.decode("utf-8", "ignore"), "bytes": list(raw),
            "logprob": logprob, "top_logprobs": []}


def test_sums_the_continuation_tokens_and_ignores_the_end_of_text():
    answer = {"content": " Pulmonary embolism.", "completion_probabilities": [
        entry(" Pul", -1.5), entry("monary", -0.25), entry(" embolism", -2.0),
        entry(".", -0.5), entry("", -7.0, tok=2)]}
    probe = parse_forced(answer, " Pulmonary embolism.")
    assert probe.tokens == (" Pul", "monary", " embolism", ".")
    assert probe.total == pytest.approx(-4.25)


def test_a_character_split_across_tokens_is_put_together_from_bytes():
    e = "è".encode()
    answer = {"content": " Ménière.", "completion_probabilities": [
        entry(" M", -1.0), entry("é".encode(), -1.0), entry("ni", -1.0), entry(e[:1], -1.0),
        entry(e[1:], -1.0), entry("re.", -1.0)]}
    assert parse_forced(answer, " Ménière.").total == pytest.approx(-6.0)


def test_an_underflowed_probability_becomes_the_float32_floor():
    answer = {"content": " X.", "completion_probabilities": [entry(" X", None),
                                                              entry(".", -1e9)]}
    assert parse_forced(answer, " X.").logprobs == (LOGPROB_FLOOR, LOGPROB_FLOOR)


def test_an_answer_that_ignored_the_grammar_is_refused():
    answer = {"content": " Asthma.", "completion_probabilities": [entry(" Asthma", -1.0),
                                                                  entry(".", -1.0)]}
    with pytest.raises(ServerProtocolError, match="did not follow the grammar"):
        parse_forced(answer, " Croup.")


def test_tokens_that_do_not_spell_the_text_are_refused():
    answer = {"content": " Croup.", "completion_probabilities": [entry(" Cro", -1.0)]}
    with pytest.raises(ServerProtocolError, match="spell"):
        parse_forced(answer, " Croup.")


def test_no_probabilities_means_the_mode_is_not_supported():
    with pytest.raises(NoPromptLogprobs, match="n_probs"):
        parse_forced({"content": " Croup."}, " Croup.")
    with pytest.raises(NoPromptLogprobs):
        parse_forced(["not", "a", "dict"], " Croup.")


def test_the_grammar_allows_exactly_the_text():
    assert _gbnf_exact(' a "b" \\ c\n') == 'root ::= " a \\"b\\" \\\\ c\\n"\n'
