"""``similarity`` on a class with planted copies (renamed, reordered, commented) and independent variants."""

from __future__ import annotations

import csv
import json

from autograder import cli
from autograder.similarity import fingerprint, jaccard
from tests.similarity_class import build_similarity_class, write_cells


def test_planted_copies_found_and_no_false_flags(optimizers, tmp_path, capsys):
    planted = [p.stem for p in optimizers.variants_dir.glob("*.py")] + [f"reference_{q.id}" for q in optimizers.graded]
    folder, copies, independent = build_similarity_class(optimizers, tmp_path / "class", planted)
    assert len(copies) >= 20 and len(independent) >= 20
    out = tmp_path / "sim"
    assert cli.main(["similarity", "optimizers", str(folder), "--out", str(out)]) == 0
    flagged = {(p["question"], *sorted((p["a"], p["b"]))) for p in json.loads((out / "flagged.json").read_text())}
    assert copies <= flagged  # every planted pair found
    assert not flagged & independent and flagged == copies  # no false flags
    with open(out / "similarity.csv") as f:
        scores = {(r["question"], *sorted((r["a"], r["b"]))): float(r["score"]) for r in csv.DictReader(f)}
    print(f"planted: min {min(scores[c] for c in copies):.2f}; independent: max "
          f"{max(scores[c] for c in independent):.2f} over {len(copies)} and {len(independent)} pairs")
    assert min(scores[c] for c in copies) > 0.85 and max(scores[c] for c in independent) < 0.5
    index = (out / "index.html").read_text()
    assert index.count("side by side") == len(copies)
    page = next((out / "pairs").glob("sgd__copy_of_sgd_foreach__sgd_foreach.html")).read_text()
    assert page.count("class=hit") > 10 and "I wrote this myself" in page


def test_normalisation_and_skeleton(optimizers):
    a = "# GRADED: lr_schedule\ndef f(step, total):\n    \"\"\"Doc.\"\"\"\n    x = step / total  # ratio\n" \
        "    return 0.5 * (1 + math.cos(math.pi * x)) + helper(x)\n\ndef helper(y):\n    return y * y - 2 * y + 1\n"
    b = "# GRADED: lr_schedule\ndef helper(q):\n    return q*q - 2*q + 1\n\n\ndef cosine(s,t):\n" \
        "    frac=s/t\n    return 0.5*(1+math.cos(math.pi*frac))+helper(frac)\n"
    c = "# GRADED: lr_schedule\ndef f(step, total):\n    return max(0.0, 1 - step / total) ** 2 + torch.sin(step)\n"
    assert jaccard(fingerprint(a), fingerprint(b)) == 1.0
    assert jaccard(fingerprint(a), fingerprint(c)) < 0.2


def test_skeleton_only_submissions_are_not_flagged(optimizers, tmp_path):
    from autograder.notebook import read_cells

    skeleton = [c.source for c in read_cells(optimizers.notebook_path) if c.question and c.kind == "code"]
    for s in ("ann", "ben", "cy"):
        write_cells(tmp_path / "class" / f"{s}.ipynb", skeleton)
    assert cli.main(["similarity", "optimizers", str(tmp_path / "class"), "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "flagged.json").read_text()) == []
    assert cli.main(["similarity", "optimizers", str(tmp_path / "no_such_class"), "--out", str(tmp_path / "o")]) == 2
