"""Which rules apply to an intent and a set of files, and why.

A rule applies when its trigger is relevant to the intent or one of its file
patterns matches one of the files.

A trigger is relevant when the intent shares enough of its content words
(words other than stop words like "the" or "to", compared after a light
suffix strip, so "migrations" meets "migration"): at least
:data:`MIN_SHARED_WORDS` (two) distinct ones, or every one of them when the
trigger has fewer. So the one-word trigger "deploy" fires for "deploy the
api", and "database migration schema change" fires for "change the database
schema" but not for "change the payment timeout", which shares only
"change". A single shared word is never enough for a longer trigger, however
rare it is: one word says what an intent touches, not what it means. The
reason given names the shared words as the intent wrote them, e.g.
``intent shares "schema", "migration" with the trigger``.

Among the rules that apply, :attr:`Match.relevance` orders them (after
priority): BM25 of the trigger (the document) against the intent (the
query), divided by the trigger's BM25 against itself, i.e. how much of the
trigger the intent mentions, each word weighted by how rare it is among the
project's enabled rules; 1.0 means all of it. It only orders; it never
decides whether a rule applies.

BM25 is computed here rather than by FTS5 because FTS5 gives words that
occur in more than half the rules an IDF of ~0, and most projects have only
a handful of rules: a lone rule would never match its own trigger.
"""

from __future__ import annotations

import math
from collections import Counter

import msgspec

from reverie.daemon.memory import globs
from reverie.daemon.memory.text import STOP_WORDS, stem, terms, words

MIN_SHARED_WORDS = 2
K1 = 1.2
B = 0.75


# How each kind of a rule's advice reads in a line a model sees (briefing,
# counsel, hooks), most binding first.
ADVICE_LABELS = {"must_not": "must not", "ask_first": "ask first", "must_do": "must",
                 "warnings": "warning"}


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


def as_written(intent: str, shared: set[str]) -> str:
    """The intent's words that meet ``shared``, each once, quoted, in the intent's order."""
    seen: dict[str, str] = {}
    for word in words(intent):
        if word not in STOP_WORDS and stem(word) in shared:
            seen.setdefault(stem(word), word)
    return ", ".join(f'"{w}"' for w in seen.values())


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
        shared = wanted.intersection(weights)
        if total > 0 and shared and len(shared) >= min(MIN_SHARED_WORDS, len(weights)):
            relevance = sum(weights[t] for t in shared) / total
            reasons.append(f"intent shares {as_written(intent, shared)} with the trigger")
        for pattern in rule.file_globs:
            hits = [f for f in files if globs.matches(pattern, f)]
            if hits:
                reasons.append(f"{hits[0]} matches {pattern}")
                break
        if reasons:
            out.append(Match(rule=rule, relevance=round(relevance, 3), why="; ".join(reasons)))
    out.sort(key=lambda m: (-m.rule.priority, -m.relevance, m.rule.id))
    return out
