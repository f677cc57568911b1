"""Make a follow-up question standalone, by rule, from the earlier questions of the chat."""

from __future__ import annotations

import re

_NAME = re.compile(r"\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+)+)\b")
_SINGLE_NAME = re.compile(r"(?<!^)(?<![.?!] )\b([A-Z][a-z]{2,})\b")
_WHAT_ABOUT = re.compile(r"^\s*(?:what|how) about\s+(.+?)\s*\??\s*$", re.I)
_SUBJECT = re.compile(r"\b(he|she|they)\b", re.I)
_OBJECT = re.compile(r"\b(him|them)\b", re.I)
_POSSESSIVE = re.compile(r"\b(his|her|their)\b(?=\s+[a-z])", re.I)
_HER_OBJECT = re.compile(r"\bher\b", re.I)
_NOT_NAMES = {
    "What",
    "Why",
    "When",
    "Where",
    "Who",
    "How",
    "Which",
    "The",
    "Did",
    "Does",
    "Is",
    "Was",
    "Are",
    "Were",
    "Do",
    "Can",
    "Could",
    "Would",
    "Should",
    "And",
    "But",
    "In",
    "On",
    "At",
    "For",
    "Of",
    "To",
    "A",
    "An",
    "Its",
    "It",
    "He",
    "She",
    "They",
}


def condense(question: str, history: list[str]) -> str:
    """The question with pronouns resolved to the person last named in `history`."""
    if not history:
        return question
    previous = history[-1]
    subject = last_named(history)
    what_about = _WHAT_ABOUT.match(question)
    if what_about and subject and subject in previous:
        # "What about Chen Jing?" asks the previous question again of someone else.
        return previous.replace(subject, what_about.group(1).strip())
    if not subject or not _mentions_pronoun(question):
        return question
    question = _POSSESSIVE.sub(f"{subject}'s", question)
    question = _SUBJECT.sub(subject, question)
    question = _OBJECT.sub(subject, question)
    return _HER_OBJECT.sub(subject, question)


def last_named(history: list[str]) -> str | None:
    """The name (two or more capitalized words, else one) mentioned last in the history."""
    for text in reversed(history):
        names = [n for n in _NAME.findall(text) if n.split()[0] not in _NOT_NAMES]
        if names:
            return names[-1]
        singles = [n for n in _SINGLE_NAME.findall(text) if n not in _NOT_NAMES]
        if singles:
            return singles[-1]
    return None


def _mentions_pronoun(question: str) -> bool:
    return any(p.search(question) for p in (_SUBJECT, _OBJECT, _POSSESSIVE, _HER_OBJECT))
