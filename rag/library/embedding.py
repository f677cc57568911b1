"""The sentence-transformers models, loaded once per process: the retrieval model as LlamaIndex
sees it and as numpy, and the evidence encoder that scores sentences."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.settings import Settings

# The model ships inside a package; nothing may be fetched from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@lru_cache(maxsize=4)
def _load(model_path: str, batch_size: int):
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding  # noqa: PLC0415
    from transformers.utils import logging as transformers_logging  # noqa: PLC0415

    # A packaged model loads in a blink; its "Loading weights" bar is noise on every `rag ask`.
    transformers_logging.disable_progress_bar()

    return HuggingFaceEmbedding(
        model_name=model_path, device="cpu", embed_batch_size=batch_size, normalize=True
    )


def embed_model(settings: Settings):
    """The LlamaIndex embedding model (cached per process)."""
    return _load(settings.embed_model_path, settings.embed_batch_size)


CACHE_ENTRIES = 200_000


class Embedder:
    """Normalized embeddings as numpy arrays, with a cache for sentences seen before; one
    embedder may serve many threads."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = embed_model(settings)
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def evidence_query(self, text: str) -> np.ndarray:
        """Embedding of one question by the evidence encoder (to score sentences)."""
        return evidence_embeddings(self.settings, [text])[0]

    def evidence_texts(self, texts: list[str]) -> np.ndarray:
        """Embeddings of sentences by the evidence encoder (those stored without one)."""
        return evidence_embeddings(self.settings, texts)

    def query(self, text: str) -> np.ndarray:
        """Embedding of one question."""
        return np.asarray(self.model.get_query_embedding(text), dtype=np.float32)

    def texts(self, texts: list[str]) -> np.ndarray:
        """Embeddings of many texts, one row each; repeated texts are embedded once."""
        # The rows come from this call's own copy: another call (or this one) may clear the
        # cache between the look-up and the answer. The model runs outside the lock.
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self.model.get_text_embedding_batch(missing)
            new = dict(zip(missing, (np.asarray(v, np.float32) for v in vectors), strict=True))
            found.update(new)
            with self._lock:
                # Bound memory in a long-running app (~1.5 kB an entry); sentences and the
                # words of near-synonym checks both live here, so the bound must hold a
                # working set.
                if len(self._cache) > CACHE_ENTRIES:
                    self._cache.clear()
                self._cache.update(new)
        if not texts:
            return np.zeros((0, 1), np.float32)
        return np.stack([found[t] for t in texts])


# The evidence encoder: the packaged MiniLM with transformer layers fine-tuned to put a
# question next to the sentence that answers it (bench/train_evidence.py). Sentences are
# embedded with it at ingest; a question is embedded with it once more to score them.
EVIDENCE_WEIGHTS = Path(__file__).resolve().parent / "evidence_encoder.safetensors"


@lru_cache(maxsize=2)
def _evidence_model(model_path: str, weights: str | None):
    from safetensors.torch import load_file  # noqa: PLC0415
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    model = SentenceTransformer(model_path, device="cpu")
    if weights:
        layers = {k: v.float() for k, v in load_file(weights).items()}
        model[0].auto_model.load_state_dict(layers, strict=False)
    model.eval()
    return model


def evidence_model(settings: Settings):
    """The sentence-transformers model that embeds sentences and questions for scoring."""
    trained = settings.evidence_encoder_id != "packaged"
    return _evidence_model(settings.embed_model_path, str(EVIDENCE_WEIGHTS) if trained else None)


def evidence_embeddings(settings: Settings, texts: list[str]) -> np.ndarray:
    """Normalized evidence embeddings of texts (hard-wrapped text flattened first)."""
    if not texts:
        return np.zeros((0, 1), np.float32)
    flat = [" ".join(t.split()) for t in texts]
    vectors = evidence_model(settings).encode(
        flat, batch_size=settings.embed_batch_size, normalize_embeddings=True
    )
    return np.asarray(vectors, np.float32)
