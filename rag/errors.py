"""Errors that carry a one-line message fit to show the person who caused them."""


class RagError(Exception):
    """Base class: `str(error)` is the message for the user; the CLI and UI show only that."""


class InvalidInput(RagError):
    """Input the user gave is malformed (the CLI exits 2 on it, as for a usage error)."""


class InvalidQuestion(InvalidInput):
    """The question is empty, too long, or not text."""


class IngestBusy(RagError):
    """Another ingest holds the store's write lock."""


class UnreadableFile(RagError):
    """A file that is binary, not decodable, empty or too large."""


class StoreUnavailable(RagError):
    """The Chroma store cannot be opened or reached."""


class LLMUnavailable(RagError):
    """The configured LLM cannot be reached, timed out or answered garbage."""


class UnknownDocument(InvalidInput):
    """A document named on the command line or the page is not in the library."""
