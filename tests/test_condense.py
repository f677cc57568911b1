from rag.condense import condense, last_named


def test_pronoun_follow_up_names_the_person_from_the_previous_question():
    history = ["Why did Liu Jun return to China?"]
    assert condense("How old was he then?", history) == "How old was Liu Jun then?"
    assert condense("What was his title?", history) == "What was Liu Jun's title?"


def test_what_about_asks_the_previous_question_of_someone_else():
    history = ["Which university did Liu Jun join?"]
    assert (
        condense("What about Zhang Yitang?", history) == "Which university did Zhang Yitang join?"
    )


def test_a_standalone_question_is_left_alone():
    assert condense("Who is Lizzi Lee?", ["Why did Liu Jun return?"]) == "Who is Lizzi Lee?"
    assert condense("How old was he?", []) == "How old was he?"


def test_last_named_skips_question_words():
    assert last_named(["What did Chen Jing study?"]) == "Chen Jing"
    assert last_named(["Why did Zhang leave?"]) == "Zhang"
