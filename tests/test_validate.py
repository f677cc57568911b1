import pytest

from rag.engine import validate_question
from rag.errors import InvalidQuestion
from rag.settings import Settings

SETTINGS = Settings(home="/nonexistent")


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 100_000, "100,000 characters long"),
        ("\x00\x01\x02", "empty"),
        ("🙂🙂🙂", "no words"),
        ("?!?", "no words"),
    ],
)
def test_bad_questions_get_one_line_errors(question, message):
    with pytest.raises(InvalidQuestion, match=message) as error:
        validate_question(question, SETTINGS)
    assert "\n" not in str(error.value)


def test_control_characters_are_removed_from_a_real_question():
    assert validate_question("Why did\x00 Liu Jun\n return?", SETTINGS) == "Why did Liu Jun return?"
