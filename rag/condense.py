"""Make a follow-up question standalone, by rule, from the earlier questions of the chat."""

from __future__ import annotations

import re

from rag.features import name_phrases

_WHAT_ABOUT = re.compile(r"^\s*(?:what|how)\s+about\s+(.+?)\s*\??\s*$", re.I)
_BARE = re.compile(r"^\s*(why|how)(?:\s+(?:is|was)\s+(?:that|this|it))?\s*\??\s*$", re.I)
_LEADING_WH = re.compile(r"^\s*(?:what|which|where|when|who|whom|how(?:\s+\w+)?)\b", re.I)
_POSSESSIVE = re.compile(r"\b(his|her|their|its)\b(?=\s+\w)", re.I)
_PERSONAL = re.compile(r"\b(he|she|they|him|them|it)\b", re.I)
_HER_OBJECT = re.compile(r"\bher\b", re.I)


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
        rest = _LEADING_WH.sub("", previous, count=1).strip()
        return f"{bare.group(1).capitalize()} {rest}" if rest != previous.strip() else question
    if not subject or not _mentions_pronoun(question) or subject in question:
        return question
    question = _POSSESSIVE.sub(f"{subject}'s", question)
    question = _PERSONAL.sub(subject, question)
    return _HER_OBJECT.sub(subject, question)


def topic(history: list[str]) -> str | None:
    """What the latest turn that names anything is about: the first name it mentions.

    The first name is usually the subject ("What did Liu Jun say about Tsinghua?" is about
    Liu Jun); a name asked about later is an object.
    """
    for text in reversed(history):
        names = name_phrases(text)
        if names:
            return " ".join(names[0])
    return None


def _mentions_pronoun(question: str) -> bool:
    return any(p.search(question) for p in (_PERSONAL, _POSSESSIVE, _HER_OBJECT))
