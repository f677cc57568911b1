from rag.answering.condense import condense, topic


def test_pronoun_follow_up_names_the_person_from_the_previous_question():
    history = ["Why did Liu Jun return to China?"]
    assert condense("How old was he then?", history) == "How old was Liu Jun then?"
    assert condense("What was his title?", history) == "What was Liu Jun's title?"


def test_pronouns_resolve_to_the_subject_not_the_last_name_mentioned():
    history = ["What did Liu Jun say about Tsinghua University?"]
    assert condense("How old is he?", history) == "How old is Liu Jun?"


def test_it_and_they_resolve_too():
    assert condense("When was it launched?", ["What is the China Initiative?"]) == (
        "When was China Initiative launched?"
    )
    assert condense("Where do they work?", ["What did Alwyn Lim say?"]) == (
        "Where do Alwyn Lim work?"
    )


def test_what_about_asks_the_previous_question_of_someone_else():
    history = ["When did Fu Tianfan join Chen Jing's lab?"]
    assert condense("What about Zhang Yitang?", history) == (
        "When did Zhang Yitang join Chen Jing's lab?"
    )


def test_a_bare_why_asks_why_of_the_last_question():
    assert condense("Why?", ["When did Fu Tianfan join Tsinghua?"]) == (
        "Why did Fu Tianfan join Tsinghua?"
    )
    assert condense("How so?", ["What happened?"]) == "How: What happened?"


def test_a_standalone_question_is_left_alone():
    assert condense("Who is Lizzi Lee?", ["Why did Liu Jun return?"]) == "Who is Lizzi Lee?"
    assert condense("How old was he?", []) == "How old was he?"


def test_topic_is_the_first_name_of_the_latest_turn_that_names_one():
    assert topic(["What did Chen Jing study at Rice University?"]) == "Chen Jing"
    assert topic(["Why did Zhang leave?", "And then?"]) == "Zhang"


def test_a_singular_pronoun_wins_over_they_and_it():
    history = ["What title did Tsinghua give Liu Jun?"]
    assert condense("When did they give it to him?", ["Who is Liu Jun?"]) == (
        "When did they give it to Liu Jun?"
    )
    assert topic(history) == "Tsinghua"


def test_a_short_question_pointing_back_carries_the_last_question():
    assert condense("Why does that matter?", ["What is state capital?"]) == (
        "Why does that matter: What is state capital?"
    )
    assert condense("Why?", ["What happened to the China Initiative?"]) == (
        "Why: What happened to the China Initiative?"
    )


def test_acronyms_are_not_the_topic():
    assert topic(["Where in the US was Liu Jun based?"]) == "Liu Jun"
