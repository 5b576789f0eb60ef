"""Which rules apply to an intent and a set of files, and why.

A rule applies when its trigger is relevant to the intent or one of its file
patterns matches one of the files. Trigger relevance is BM25 of the trigger
(the document) against the intent (the query), divided by the trigger's
BM25 against itself, so it reads as "how much of the trigger, weighted by
how rare each word is among all rules, the intent mentions": 1.0 means every
trigger word appears in the intent. It applies at or above
:data:`TRIGGER_THRESHOLD` (0.25: e.g. one of four equally rare words).

BM25 is computed here rather than by FTS5 because FTS5 gives words that
occur in more than half the rules an IDF of ~0, and most projects have only
a handful of rules: a lone rule would never match its own trigger.
"""

from __future__ import annotations

import math
from collections import Counter

import msgspec

from reverie.daemon.memory import globs
from reverie.daemon.memory.text import terms

TRIGGER_THRESHOLD = 0.25
K1 = 1.2
B = 0.75


class Rule(msgspec.Struct, kw_only=True):
    id: int
    trigger: str
    file_globs: list[str] = []
    must_do: list[str] = []
    must_not: list[str] = []
    ask_first: list[str] = []
    warnings: list[str] = []
    priority: int = 0
    enabled: bool = True


class Match(msgspec.Struct, kw_only=True):
    rule: Rule
    relevance: float
    why: str


def _weights(trigger_terms: list[str], df: Counter[str], n: int, avgdl: float) -> dict[str, float]:
    tf = Counter(trigger_terms)
    dl = len(trigger_terms)
    out = {}
    for term, freq in tf.items():
        idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
        out[term] = idf * freq * (K1 + 1) / (freq + K1 * (1 - B + B * dl / avgdl))
    return out


def match(rules: list[Rule], intent: str, files: list[str]) -> list[Match]:
    """The enabled rules that apply, highest priority then relevance first."""
    live = [r for r in rules if r.enabled]
    tokenised = {r.id: terms(r.trigger) for r in live}
    df: Counter[str] = Counter()
    for t in tokenised.values():
        df.update(set(t))
    n = len(live)
    avgdl = (sum(len(t) for t in tokenised.values()) / n) if n else 1.0
    wanted = set(terms(intent))
    out: list[Match] = []
    for rule in live:
        reasons: list[str] = []
        relevance = 0.0
        weights = _weights(tokenised[rule.id], df, n, avgdl or 1.0)
        total = sum(weights.values())
        if total > 0 and wanted:
            hit = sorted(t for t in weights if t in wanted)
            relevance = sum(weights[t] for t in hit) / total
            if relevance >= TRIGGER_THRESHOLD:
                reasons.append(f"intent matches trigger ({', '.join(hit)}; {relevance:.2f})")
        for pattern in rule.file_globs:
            hits = [f for f in files if globs.matches(pattern, f)]
            if hits:
                reasons.append(f"{hits[0]} matches {pattern}")
                break
        if reasons:
            out.append(Match(rule=rule, relevance=round(relevance, 3), why="; ".join(reasons)))
    out.sort(key=lambda m: (-m.rule.priority, -m.relevance, m.rule.id))
    return out
