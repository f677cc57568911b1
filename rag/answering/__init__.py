"""Answering a question: condense, retrieve, score and select evidence, compose."""
