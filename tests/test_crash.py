"""An ingest killed with SIGKILL at several points is finished by the next one, losing nothing."""

import pytest

from bench.crash import make_corpus, run_ingest, snapshot, trial

pytestmark = pytest.mark.integration


def test_ingest_killed_at_many_points_recovers_exactly(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    assert run_ingest(tmp_path / "ref", corpus)[0] == 0
    reference = snapshot(tmp_path / "ref")
    assert reference[2] == [] and len(reference[0]) > 100
    # Model loading ends about 3 s in; embedding and writing follow. Kill in each phase,
    # and twice in a row.
    for i, kills in enumerate([[1.0], [4.0], [5.5], [7.0], [4.5, 6.5]]):
        assert trial(tmp_path / f"trial{i}", corpus, reference, kills) == []


def test_gold_evidence_is_retrievable_after_a_killed_ingest(tmp_path):
    from evals.gold import load_gold
    from evals.metrics import hits, locate
    from rag.engine import Chatbot
    from rag.settings import Settings
    from tests.conftest import ROOT, SEED

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    run_ingest(tmp_path / "home", corpus, kill_after=4.5)
    assert run_ingest(tmp_path / "home", corpus)[0] == 0
    bot = Chatbot(Settings(home=tmp_path / "home"))
    texts = bot.store.source_texts()
    for item in load_gold(ROOT / "evals" / "gold.jsonl")[:30]:
        for evidence in item.evidence:
            span = locate(evidence, texts)
            assert any(hits(p.source, p.start, p.end, span) for p in bot.store.all_passages())
