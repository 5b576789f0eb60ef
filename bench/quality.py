"""Retrieval quality: evidence recall on LoCoMo's labelled conversations, beside plain BM25.

``python -m bench quality --data DIR``. Each conversation becomes its own
project: every dialogue turn is stored through ``remember`` over the wire
("Speaker: text", as a learning), then every question whose evidence turns
are annotated (categories 1-4; 5 has no evidence) is asked through
``recall`` over the wire with ``limit`` 50. Evidence recall@k is the share
of a question's evidence turns among the first k memories, averaged over
questions; a turn stored as an exact repeat of an earlier one counts as
found when that one is.

In the same run, on the same turns and questions:

- plain BM25 (Okapi, k1 1.5, b 0.75, as the ``rank-bm25`` package computes
  it), every word a term, no stemming: the baseline any search should beat;
- recall's previous statement (``bench/_recall_before.py``) on the same
  databases: "never worse than before" is checked here;
- at scale: all conversations' turns in one project among library text
  (:mod:`bench.corpus`), 10,000 and 100,000 memories in all, asked in-daemon
  with the new recall and the previous statement, so what recall's budget
  costs in quality is measured where it bounds the work.
"""

from __future__ import annotations

import math
import random
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import _recall_before as before
from bench import corpus, locomo
from bench.report import Figure, Section, median, ms, percentile
from reverie.daemon.memory import probes
from reverie.daemon.memory import recall as recall_query
from reverie.daemon.memory.text import words
from reverie.daemon.projects.identity import resolve_project
from reverie.daemon.store import db
from reverie.daemon.store.migrations import migrate
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from reverie.protocol.paths import resolve
from tests.support import home_env

KS = (1, 5, 10)
LIMIT = 50
SCALES = (10_000, 100_000)


def evidence_recall(ranked: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Share of ``evidence`` among the first ``k`` of ``ranked`` (ids as strings)."""
    wanted = set(evidence)
    if not wanted:
        return 0.0
    return len(wanted & set(ranked[:k])) / len(wanted)


class Scores:
    """Evidence recall@k per category, accumulated question by question."""

    def __init__(self) -> None:
        self.by_category: dict[int, list[tuple[float, ...]]] = {}

    def add(self, category: int, ranked: Sequence[str], evidence: Sequence[str]) -> None:
        row = tuple(evidence_recall(ranked, evidence, k) for k in KS)
        self.by_category.setdefault(category, []).append(row)

    def at(self, k: int, category: int | None = None) -> float:
        """Mean recall@k in percent, over one category or all questions."""
        i = KS.index(k)
        rows = (self.by_category.get(category, []) if category is not None
                else [r for rows in self.by_category.values() for r in rows])
        return 100 * statistics.fmean(r[i] for r in rows) if rows else float("nan")

    def count(self, category: int | None = None) -> int:
        if category is not None:
            return len(self.by_category.get(category, []))
        return sum(len(rows) for rows in self.by_category.values())

    def summary(self) -> str:
        return " / ".join(f"{self.at(k):.1f} %" for k in KS)


class OkapiBM25:
    """Okapi BM25 as ``rank_bm25.BM25Okapi`` computes it (the issue's baseline).

    IDF is ``ln((N - n + 0.5) / (n + 0.5))``; a negative one is replaced by
    ``epsilon`` times the mean IDF, as that package does.
    """

    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75,
                 epsilon: float = 0.25) -> None:
        self.k1, self.b = k1, b
        self.freqs = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avgdl = sum(self.lengths) / max(1, len(docs))
        df: Counter[str] = Counter()
        for f in self.freqs:
            df.update(f.keys())
        n = len(docs)
        idf = {w: math.log(n - c + 0.5) - math.log(c + 0.5) for w, c in df.items()}
        floor = epsilon * (sum(idf.values()) / len(idf)) if idf else 0.0
        self.idf = {w: (v if v >= 0 else floor) for w, v in idf.items()}

    def scores(self, query: list[str]) -> list[float]:
        out = [0.0] * len(self.freqs)
        for q in query:
            idf = self.idf.get(q)
            if idf is None:
                continue
            for i, f in enumerate(self.freqs):
                tf = f.get(q)
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avgdl)
                    out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def top(self, query: list[str], k: int) -> list[int]:
        s = self.scores(query)
        return sorted(range(len(s)), key=lambda i: -s[i])[:k]


def turn_text(turn: locomo.Turn) -> str:
    return f"{turn.speaker}: {turn.text}"


def _store_conversation(conn: Any, conv: locomo.Conversation) -> dict[int, list[str]]:
    """Remember every turn over the wire; memory id → the dialogue ids it holds."""
    held: dict[int, list[str]] = {}
    for turn in conv.turns:
        out = conn.call("tools.call", {"name": "remember", "arguments": {
            "category": "learning", "content": turn_text(turn)}})
        assert not out.get("is_error"), out
        held.setdefault(out["structured"]["id"], []).append(turn.dia_id)
    return held


def _as_turns(ids: list[int], held: dict[int, list[str]]) -> list[str]:
    return [d for mid in ids for d in held.get(mid, [])]


def _db_path(home: Path, root: Path) -> Path:
    paths = resolve(home_env(home))
    return resolve_project(str(root), home=str(home)).db_path(paths.projects_dir)


def _per_category(scores: Scores) -> str:
    return "; ".join(
        f"{name} ({scores.count(c)}): {scores.at(5, c):.1f} / {scores.at(10, c):.1f}"
        for c, name in locomo.CATEGORIES.items())


def _conversations(base: Path, convs: tuple[locomo.Conversation, ...]) -> tuple[
        Scores, Scores, Scores, list[float]]:
    """(recall over the wire, the previous statement, plain BM25, recall latencies)."""
    from bench.memory import bench_project
    from tests.support import DaemonProcess

    home = base / "h"
    home.mkdir()
    now_scores, before_scores, bm25_scores = Scores(), Scores(), Scores()
    latencies: list[float] = []
    proc = DaemonProcess(home).start()
    try:
        for conv in convs:
            root = bench_project(base, f"locomo-{conv.name}")
            with proc.connect(project=str(root)) as conn:
                held = _store_conversation(conn, conv)
                path = _db_path(home, root)
                reader = db.connect(path, readonly=True)
                bm25 = OkapiBM25([words(turn_text(t)) for t in conv.turns])
                ids = [t.dia_id for t in conv.turns]
                for q in conv.questions:
                    t0 = time.perf_counter()
                    out = conn.call("tools.call", {"name": "recall", "arguments": {
                        "query": q.question, "limit": LIMIT}})
                    latencies.append(time.perf_counter() - t0)
                    assert not out.get("is_error"), out
                    got = [m["id"] for m in out["structured"]["memories"]]
                    now_scores.add(q.category, _as_turns(got, held), q.evidence)
                    old = before.recall(reader, q.question, time.time(), limit=LIMIT)
                    before_scores.add(q.category, _as_turns(old, held), q.evidence)
                    top = bm25.top(words(q.question), LIMIT)
                    bm25_scores.add(q.category, [ids[i] for i in top], q.evidence)
                reader.close()
    finally:
        proc.stop()
    return now_scores, before_scores, bm25_scores, latencies


def _seed_scale(path: Path, convs: tuple[locomo.Conversation, ...], size: int,
                ) -> dict[int, str]:
    """Every turn among library text, ``size`` memories in all; memory id → 'conv/dia_id'."""
    turns = [(f"{c.name}/{t.dia_id}", turn_text(t)) for c in convs for t in c.turns]
    filler = [(None, text) for text in corpus.memories(size - len(turns), seed=13,
                                                       with_locomo=False)]
    rows = filler + turns
    random.Random(17).shuffle(rows)
    conn = db.connect(path)
    migrate(conn, PROJECT_MIGRATIONS, label="bench")
    now = time.time()
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    held = {}
    for i, (key, text) in enumerate(rows, start=1):
        fp = probes.fingerprint(text)
        conn.execute(
            "INSERT INTO memories (id, category, content, created_at, updated_at, "
            "content_hash, probe_tokens) VALUES (?, 'learning', ?, ?, ?, ?, ?)",
            (i, text, now - 60, now - 60, fp.digest, fp.tokens))
        if key is not None:
            held[i] = key
    conn.execute("COMMIT")
    conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
    conn.execute("PRAGMA optimize")
    conn.close()
    return held


def _at_scale(base: Path, convs: tuple[locomo.Conversation, ...], size: int,
              ) -> dict[str, tuple[Scores, list[float]]]:
    path = base / f"scale{size}" / "memory.db"
    held = _seed_scale(path, convs, size)
    reader = db.connect(path, readonly=True)
    asks: dict[str, Callable[[sqlite3.Connection, str, float], list[int]]] = {
        "now": lambda c, t, now: [h.id for h in recall_query.run(
            c, recall_query.Query(text=t, limit=LIMIT), now)],
        "before": lambda c, t, now: before.recall(c, t, now, limit=LIMIT),
        "before without question words": lambda c, t, now: before.recall(
            c, t, now, limit=LIMIT, stop_question_words=True),
    }
    out = {}
    for name, ask in asks.items():
        scores, samples = Scores(), []
        for conv in convs:
            for q in conv.questions:
                now = time.time()
                t0 = time.perf_counter()
                got = ask(reader, q.question, now)
                samples.append(time.perf_counter() - t0)
                keys = [held[i].split("/", 1)[1] for i in got
                        if i in held and held[i].startswith(conv.name + "/")]
                scores.add(q.category, keys, q.evidence)
        out[name] = (scores, samples)
    reader.close()
    return out


def run(quick: bool) -> Section:
    from tests.support import private_home

    convs = locomo.load()
    command = "python -m bench quality --data DIR" + (" --quick" if quick else "")
    if not convs:
        return Section(title="Retrieval quality (LoCoMo)", command=command, figures=[],
                       notes=[f"Not measured: {locomo.HOW_TO_GET}."])
    if quick:
        convs = convs[:2]
    figures: list[Figure] = []
    with private_home() as base:
        now, old, bm25, latencies = _conversations(base, convs)
        scales = {size: _at_scale(base, convs, size) for size in SCALES}
    figures.append(Figure(
        "evidence recall@1 / @5 / @10, recall over the wire", now.summary(),
        target="never below the previous statement; @10 ≥ 60 %",
        reference=f"previous statement: {old.summary()}; plain BM25: {bm25.summary()}",
        ok=all(now.at(k) >= old.at(k) - 0.05 for k in KS) and now.at(10) >= 60))
    for c, name in locomo.CATEGORIES.items():
        figures.append(Figure(
            f"  {name} ({now.count(c)} questions), @5 / @10",
            f"{now.at(5, c):.1f} % / {now.at(10, c):.1f} %",
            reference=f"previous {old.at(5, c):.1f} % / {old.at(10, c):.1f} %; BM25 "
                      f"{bm25.at(5, c):.1f} % / {bm25.at(10, c):.1f} %"))
    figures.append(Figure(
        "recall latency on these projects, over the wire (p50)", ms(median(latencies)),
        reference=f"p99 {ms(percentile(latencies, 99))}, limit {LIMIT}"))
    for size, scale in scales.items():
        s_now, t_now = scale["now"]
        s_old, t_old = scale["before"]
        s_mid, _ = scale["before without question words"]
        figures.append(Figure(
            f"at {size:,} memories (turns among library text), recall@1 / @5 / @10",
            s_now.summary(), target="never below the previous statement",
            reference=f"previous statement: {s_old.summary()}; every match scored (the "
                      f"previous statement without question words): {s_mid.summary()}",
            ok=all(s_now.at(k) >= s_old.at(k) - 0.05 for k in KS)))
        figures.append(Figure(
            f"at {size:,}, recall in-daemon (p50)", ms(median(t_now)),
            reference=f"previous statement {ms(median(t_old))}; p99 "
                      f"{ms(percentile(t_now, 99))} vs {ms(percentile(t_old, 99))}"))
    total = sum(len(c.turns) for c in convs)
    notes = [
        f"{len(convs)} LoCoMo conversations ({', '.join(c.name for c in convs)}), {total:,} "
        f"turns, {now.count()} questions with evidence (categories 1-4), from "
        f"{locomo.ENV} or the default directory; the data set is read where it lies, never "
        "copied into the project.",
        "Per category: recall over the wire, @5 / @10; references: the previous statement "
        "and plain BM25 on the same turns.",
        f"Previous statement: bench/_recall_before.py. At scale the {total:,} turns are "
        "mixed with memories of library text (bench/corpus.py) in one project, all of the "
        "same age; each question counts only its own conversation's turns; at 10,000 "
        "recall's budget is 100 memories, at 100,000 it is 600 (memory/fts.py).",
    ]
    return Section(title="Retrieval quality (LoCoMo)", command=command, figures=figures,
                   notes=notes)
