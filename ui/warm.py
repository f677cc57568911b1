"""What both servers do before they listen: a Chatbot whose library has something in it (the
bundled seeds on an empty store) and whose model and indexes are loaded."""

from __future__ import annotations

from rag.engine import Chatbot
from rag.settings import Settings


def warm_chatbot(settings: Settings) -> Chatbot:
    """A Chatbot ready for its first question at full speed."""
    bot = Chatbot(settings)
    if bot.retriever.is_empty():
        from ingest.pipeline import ingest  # noqa: PLC0415

        ingest([settings.seeds_dir], settings, store=bot.store)
    bot.warm_up()
    return bot
