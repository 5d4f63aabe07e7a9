"""Scoring a question's pairs from the cells' features, weighted by how rare they are in the class.

A feature (a node of :mod:`.flow`'s graph) counts for nothing when the released skeleton has it or
when most of the class shares it (as MOSS's ``-m``: the equations everybody writes, a hint everybody
followed); otherwise it weighs ``log(1 + N / df)``, N the students compared and df those who have it,
so what only two students share weighs most. Two students' similarity is the weighted Jaccard index of
their feature sets. A student with too little code of their own (the skeleton kept, a line or two
added) is not compared.

The threshold is the class's own: per question, pairs of independent solutions form the bulk of the
distribution of scores and copies stand out above it. The bulk is described robustly (median and
median absolute deviation of the pairs' scores), and a pair is flagged when its score is at least
``median + Z * 1.4826 * MAD``, never below FLOOR, and also at least its students' typical
similarity to the rest of the class plus a margin (so that two students who resemble everybody are
not flagged for resembling each other); a pair scoring CERTAIN or more is always flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .flow import CellGraph

MIN_OWN = 8  # features of their own (not the skeleton's, not most of the class's) a student needs
MIN_SHARED = 6  # weighted features two students must share to be flagged
COMMON_FRACTION = 0.5  # a feature more than this fraction of the class has ...
COMMON_MIN = 3  # ... (and more than this many students) counts for nothing
Z = 8.0  # robust z-score of a flagged pair above the class's bulk
FLOOR = 0.45  # the automatic threshold is never lower
CERTAIN = 0.9  # ... nor higher
BLOCK = 4096  # feature columns per matrix product


@dataclass
class QuestionScores:
    question: str
    students: list[str]  # compared, in matrix order
    skipped: list[str]  # too little code of their own
    scores: np.ndarray  # (n, n) weighted Jaccard, symmetric, 0 on the diagonal
    shared: np.ndarray  # (n, n) how many weighted features each pair shares
    threshold: float = 1.0
    automatic: bool = True
    stats: dict = field(default_factory=dict)
    weights: dict[int, float] = field(default_factory=dict)  # feature -> weight (those with weight > 0)

    def pairs(self):
        """(i, j, score) of every compared pair, i < j."""
        n = len(self.students)
        iu, ju = np.triu_indices(n, 1)
        return iu, ju, self.scores[iu, ju]


def score_question(question: str, cells: dict[str, CellGraph], skeleton: CellGraph | None) -> QuestionScores:
    skel = skeleton.features if skeleton is not None else set()
    own = {s: c.features - skel for s, c in cells.items()}
    students = sorted(s for s, f in own.items() if len(f) >= MIN_OWN)
    df: dict[int, int] = {}
    for s in students:
        for f in own[s]:
            df[f] = df.get(f, 0) + 1
    n = len(students)
    cut = max(COMMON_MIN, COMMON_FRACTION * n)
    weights = {f: math.log1p(n / d) for f, d in df.items() if d <= cut}
    kept = [s for s in students if sum(1 for f in own[s] if f in weights) >= MIN_OWN]
    skipped = sorted(set(cells) - set(kept))
    n = len(kept)
    mass = np.array([sum(weights.get(f, 0.0) for f in own[s]) for s in kept], dtype=np.float64)
    shared_feats = sorted(f for f in weights if df[f] >= 2)
    column = {f: j for j, f in enumerate(shared_feats)}
    w = np.array([weights[f] for f in shared_feats], dtype=np.float64)
    rows = [np.fromiter((column[f] for f in own[s] if f in column), dtype=np.int64) for s in kept]
    inter = np.zeros((n, n), dtype=np.float64)
    count = np.zeros((n, n), dtype=np.float64)
    for start in range(0, len(shared_feats), BLOCK):
        stop = min(start + BLOCK, len(shared_feats))
        b = np.zeros((n, stop - start), dtype=np.float32)
        for i, cols in enumerate(rows):
            sel = cols[(cols >= start) & (cols < stop)] - start
            b[i, sel] = 1.0
        inter += (b * w[start:stop].astype(np.float32)) @ b.T
        count += b @ b.T
    union = mass[:, None] + mass[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(union > 0, inter / union, 0.0)
    np.fill_diagonal(scores, 0.0)
    np.fill_diagonal(count, 0.0)
    return QuestionScores(question, kept, skipped, np.clip(scores, 0.0, 1.0), count, weights=weights)


def threshold(q: QuestionScores, manual: float | None = None) -> None:
    """Sets ``q.threshold`` (and ``q.stats``): ``manual`` if given, else from the class's distribution."""
    _, _, s = q.pairs()
    if len(s):
        med = float(np.median(s))
        mad = float(np.median(np.abs(s - med))) * 1.4826
    else:
        med = mad = 0.0
    auto = min(CERTAIN, max(FLOOR, med + Z * mad))
    q.stats = {"pairs": int(len(s)), "median": round(med, 4), "mad": round(mad, 4), "automatic": round(auto, 4)}
    q.automatic = manual is None
    q.threshold = auto if manual is None else float(manual)


def flagged(q: QuestionScores) -> list[tuple[int, int, float]]:
    """The pairs at or above the threshold that share enough weighted code and stand out from what each
    of the two students shares with the rest of the class."""
    n = len(q.students)
    if n < 2:
        return []
    iu, ju, s = q.pairs()
    hit = (s >= q.threshold - 1e-12) & (q.shared[iu, ju] >= MIN_SHARED)
    if q.automatic and n >= 4:
        # a student's typical similarity to others: two students who resemble everybody are not flagged
        # for resembling each other (the margin is the class's own spread)
        typical = np.median(np.where(np.eye(n, dtype=bool), np.nan, q.scores), axis=1) if n > 2 else np.zeros(n)
        typical = np.nan_to_num(typical)
        margin = max(q.stats.get("mad", 0.0) * Z, FLOOR / 2)
        hit &= (s >= np.maximum(typical[iu], typical[ju]) + margin) | (s >= CERTAIN)
    return [(int(i), int(j), float(v)) for i, j, v in zip(iu[hit], ju[hit], s[hit])]
