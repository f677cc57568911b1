"""Make a follow-up question standalone, by rule, from the earlier questions of the chat."""

from __future__ import annotations

import re

from rag.answering.features import name_phrases

_WHAT_ABOUT = re.compile(r"^\s*(?:what|how)\s+about\s+(.+?)\s*\??\s*$", re.I)
_BARE = re.compile(r"^\s*(why|how)(?:\s+(?:so|is that|was that|is it))?\s*\??\s*$", re.I)
# "Is that common?": a short question pointing back with "that" or "this".
_POINTS_BACK = re.compile(r"^\W*(?:\w+\W+){0,4}(?:that|this)\b(?:\W+\w+){0,2}\W*$", re.I)
_LEADING_WH = re.compile(r"^\s*(?:what|which|where|when|who|whom|how(?:\s+\w+)?)\s+", re.I)
_AUXILIARY = re.compile(
    r"^(?:did|does|do|is|are|was|were|has|have|had|can|could|would|will|should)\b", re.I
)
# Singular personal pronouns name a person; "they"/"it" are resolved only when none is there
# ("Which prize did they award her?" is about her, not about them).
_SINGULAR = [
    (re.compile(r"\b(his|her)\b(?=\s+\w)", re.I), "{}'s"),
    (re.compile(r"\b(he|she|him|her)\b", re.I), "{}"),
]
_OTHER = [
    (re.compile(r"\b(their|its)\b(?=\s+\w)", re.I), "{}'s"),
    (re.compile(r"\b(they|them|it)\b", re.I), "{}"),
]


def condense(question: str, history: list[str]) -> str:
    """The question made standalone: pronouns resolved to what the last turn was about,
    "What about X?" asked of X, and a bare "Why?" asked of the last question."""
    if not history:
        return question
    previous = history[-1]
    subject = topic(history)
    what_about = _WHAT_ABOUT.match(question)
    if what_about and subject and subject in previous:
        return previous.replace(subject, what_about.group(1).strip(), 1)
    bare = _BARE.match(question)
    if bare:
        return _ask_of(bare.group(1).capitalize(), previous)
    if _POINTS_BACK.match(question) and not name_phrases(question):
        return f"{question.rstrip(' ?')}: {previous}"
    if not subject or subject in question:
        return question
    for patterns in (_SINGULAR, _OTHER):
        if any(pattern.search(question) for pattern, _ in patterns):
            for pattern, form in patterns:
                question = pattern.sub(form.format(subject), question)
            return question
    return question


def _ask_of(word: str, previous: str) -> str:
    """ "Why?" after "When did X join Y?" is "Why did X join Y?"; otherwise "Why: <previous>"."""
    rest = _LEADING_WH.sub("", previous, count=1).strip()
    if rest != previous.strip() and _AUXILIARY.match(rest):
        return f"{word} {rest}"
    return f"{word}: {previous.strip()}"


def topic(history: list[str]) -> str | None:
    """What the latest turn that names anything is about: the first name it mentions.

    The first name is usually the subject ("What did Liu Jun say about Tsinghua?" is about
    Liu Jun); a name asked about later is an object.
    """
    for text in reversed(history):
        # An acronym ("US", "AI") is seldom what a follow-up's "he" or "it" stands for.
        names = [n for n in name_phrases(text) if any(ch.islower() for w in n for ch in w)]
        if names:
            return " ".join(names[0])
    return None
