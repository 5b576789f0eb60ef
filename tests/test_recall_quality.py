"""The quality benchmark's own parts, on a tiny conversation written here.

The benchmark's figures are only as good as its scorer, its baseline and
its reading of the data set, so each is checked on input small enough to
work out by hand. No LoCoMo data is used: the conversation below is made up.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import locomo, quality

TINY = {
    "speaker_a": "Ana",
    "speaker_b": "Ben",
    "session_1_date_time": "1:00 pm on 2 May, 2023",
    "session_1": [
        {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a grey cat named Pixel."},
        {"speaker": "Ben", "dia_id": "D1:2", "text": "Lovely! I started rowing on Sundays."},
        {"speaker": "Ana", "dia_id": "D1:3", "text": "", "blip_caption": "a photo"},
    ],
    "session_2": [
        {"speaker": "Ben", "dia_id": "D2:1", "text": "The regatta is in June, I'm nervous."},
        {"speaker": "Ana", "dia_id": "D2:2", "text": "Pixel knocked my plant over again."},
    ],
    "session_10": [
        {"speaker": "Ben", "dia_id": "D10:1", "text": "We won the regatta!"},
    ],
    "qa": [
        {"question": "What is the name of Ana's cat?", "answer": "Pixel",
         "evidence": ["D1:1"], "category": 4},
        {"question": "When is Ben's regatta?", "answer": "June",
         "evidence": ["D2:1; D10:1"], "category": 2},
        {"question": "Is Ana a rower?", "answer": "no", "evidence": ["D1:2"], "category": 5},
        {"question": "What did Pixel break?", "answer": "a plant",
         "evidence": ["D9:9", "D"], "category": 1},
    ],
}


def test_evidence_recall_is_the_share_of_evidence_in_the_first_k() -> None:
    ranked = ["D1:2", "D1:1", "D2:1", "D2:2"]
    assert quality.evidence_recall(ranked, ["D1:1"], 1) == 0.0
    assert quality.evidence_recall(ranked, ["D1:1"], 2) == 1.0
    assert quality.evidence_recall(ranked, ["D1:1", "D2:2"], 3) == 0.5
    assert quality.evidence_recall(ranked, ["D1:1", "D2:2"], 10) == 1.0
    assert quality.evidence_recall(ranked, [], 10) == 0.0
    # A turn found twice (two turns stored as one memory) still counts once.
    assert quality.evidence_recall(["D1:1", "D1:1"], ["D1:1", "D2:1"], 2) == 0.5


def test_scores_average_per_question_overall_and_per_category() -> None:
    s = quality.Scores()
    s.add(4, ["a", "b"], ["a"])       # @1 1, @5 1
    s.add(4, ["x", "b"], ["a", "b"])  # @1 0, @5 0.5
    s.add(2, ["y"], ["z"])            # @1 0, @5 0
    assert s.count() == 3 and s.count(4) == 2 and s.count(1) == 0
    assert s.at(1, 4) == pytest.approx(50.0)
    assert s.at(5, 4) == pytest.approx(75.0)
    assert s.at(5) == pytest.approx(100 * 1.5 / 3)
    assert math.isnan(s.at(5, 1))
    assert s.summary() == "33.3 % / 50.0 % / 50.0 %"


def test_the_baseline_is_okapi_bm25_as_rank_bm25_computes_it() -> None:
    docs = [["cat", "pixel", "grey"], ["rowing", "pixel"], ["pixel", "plant", "plant"],
            ["regatta", "june"]]
    bm = quality.OkapiBM25(docs)
    n, avgdl, k1, b = 4, 10 / 4, 1.5, 0.75
    raw = {w: math.log(n - c + 0.5) - math.log(c + 0.5) for w, c in (
        ("cat", 1), ("pixel", 3), ("grey", 1), ("rowing", 1), ("plant", 1), ("regatta", 1),
        ("june", 1))}
    assert raw["pixel"] < 0  # in three of four documents
    # A negative IDF becomes epsilon (0.25) times the mean IDF, as rank-bm25 does it.
    assert bm.idf["pixel"] == pytest.approx(0.25 * sum(raw.values()) / len(raw))
    assert bm.idf["plant"] == pytest.approx(raw["plant"])
    want = raw["plant"] * 2 * (k1 + 1) / (2 + k1 * (1 - b + b * 3 / avgdl))
    assert bm.scores(["plant"])[2] == pytest.approx(want)
    assert bm.top(["plant", "pixel"], 2)[0] == 2
    assert bm.scores(["unknown"]) == [0.0] * 4


def test_a_conversation_is_read_with_its_evidence(tmp_path: Path) -> None:
    conv = locomo.parse("tiny", TINY)
    # Sessions in number order (10 after 2), empty turns left out.
    assert [t.dia_id for t in conv.turns] == ["D1:1", "D1:2", "D2:1", "D2:2", "D10:1"]
    assert conv.turns[0] == locomo.Turn("D1:1", "Ana", "I adopted a grey cat named Pixel.")
    # Category 5 has no evidence to find; a malformed id list is split; unknown ids dropped,
    # and a question left with no evidence is dropped.
    assert [(q.category, q.evidence) for q in conv.questions] == [
        (4, ("D1:1",)), (2, ("D2:1", "D10:1"))]
    assert quality.turn_text(conv.turns[1]) == "Ben: Lovely! I started rowing on Sundays."


def test_the_data_set_is_read_from_where_it_is_named(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    monkeypatch.setenv(locomo.ENV, str(tmp_path))
    (conv,) = locomo.load()
    assert conv.name == "tiny" and len(conv.turns) == 5


def test_without_the_data_set_the_section_says_how_to_get_it(tmp_path: Path,
                                                             monkeypatch) -> None:
    monkeypatch.setenv(locomo.ENV, str(tmp_path / "absent"))
    section = quality.run(quick=True)
    assert section.figures == []
    (note,) = section.notes
    assert "--data DIR" in note and locomo.ENV in note
