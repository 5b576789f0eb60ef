"""The LoCoMo conversations, read where they lie: benchmark data, never part of the project.

LoCoMo (Maharana et al., 2024) is a public set of long multi-session
dialogues whose questions name the dialogue turns that hold the evidence.
The bench reads its JSON files from a directory given by ``--data`` (which
sets :data:`ENV`), else ``../shared/datasets/locomo-dev`` beside the
checkout; when there is none, the sections that need it say how to get it
and are skipped.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import msgspec

ENV = "REVERIE_LOCOMO_DIR"
DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "locomo-dev"
# 5 is "adversarial" (the answer is not in the conversation): no evidence to find.
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
HOW_TO_GET = (
    "the LoCoMo data set was not found: put the conversation files of the public LoCoMo "
    "benchmark (locomo10.json from the snap-research/locomo repository, split one "
    f"conversation per file) in a directory and pass --data DIR or set {ENV}"
)
_ID = re.compile(r"D\d+:\d+")


class Turn(msgspec.Struct, frozen=True):
    dia_id: str
    speaker: str
    text: str


class Question(msgspec.Struct, frozen=True):
    question: str
    evidence: tuple[str, ...]
    category: int


class Conversation(msgspec.Struct, frozen=True):
    name: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]


def directory() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT)


def parse(name: str, raw: dict[str, object]) -> Conversation:
    """One conversation file: its turns in order and its questions with evidence."""
    turns: list[Turn] = []
    sessions = sorted((int(k.split("_")[1]), v) for k, v in raw.items()
                      if re.fullmatch(r"session_\d+", k) and isinstance(v, list))
    for _, session in sessions:
        for t in session:
            if isinstance(t, dict) and t.get("text"):
                turns.append(Turn(str(t["dia_id"]), str(t["speaker"]), str(t["text"])))
    known = {t.dia_id for t in turns}
    questions = []
    qa = raw.get("qa")
    for q in qa if isinstance(qa, list) else []:
        if not isinstance(q, dict) or q.get("category") not in CATEGORIES:
            continue
        # A few evidence ids are malformed ("D8:6; D9:17"): take every id written.
        evidence = tuple(dict.fromkeys(
            e for raw_id in q.get("evidence", []) for e in _ID.findall(str(raw_id))
            if e in known))
        if evidence:
            questions.append(Question(str(q["question"]), evidence, int(q["category"])))
    return Conversation(name, tuple(turns), tuple(questions))


@cache
def _load(path: str) -> tuple[Conversation, ...]:
    files = sorted(Path(path).glob("*.json")) if Path(path).is_dir() else []
    return tuple(parse(f.stem, json.loads(f.read_text())) for f in files)


def load() -> tuple[Conversation, ...]:
    """Every conversation in :func:`directory`; empty when the data set is absent."""
    return _load(str(directory()))
