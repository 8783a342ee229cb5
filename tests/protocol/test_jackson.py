"""Jackson's wording, which Step Functions and Lambda pass on for JSON they refuse."""

from __future__ import annotations

import pytest

from eventyard.protocol.jackson import VALUES, char_description, unexpected_character, unrecognized_token


@pytest.mark.parametrize(("char", "described"), [
    ("x", "'x' (code 120)"), ("\t", "(CTRL-CHAR, code 9)"), ("\x85", "(CTRL-CHAR, code 133)"),
    ("é", "'é' (code 233)"), ("€", "'€' (code 8364 / 0x20ac)"),
    ("🥳", "'\ud83e' (code 55358 / 0xd83e)"),  # Java sees the high surrogate first
])
def test_a_character_is_described_as_jackson_does(char: str, described: str) -> None:
    assert char_description(ord(char)) == described


def test_the_two_complaints_about_a_value() -> None:
    assert unexpected_character(ord("'"), "was expecting double-quote to start field name") == (
        "Unexpected character (''' (code 39)): was expecting double-quote to start field name")
    assert unrecognized_token("not") == f"Unrecognized token 'not': was expecting {VALUES}"
