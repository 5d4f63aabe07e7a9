"""`make term-demo`: a term's grading on a synthetic optimizers class, every instructor command once.

Builds a Gradescope-shaped export (late uploads, a written answer and a figure in each notebook, a
zipped notebook), grades it, imports TA scores, adds an override, and writes the class report, the
course report, the written-answer pages, the LMS CSV and a similarity report of a class with planted
copies, all under build/term-demo/. Open build/term-demo/index.html.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import cli  # noqa: E402
from autograder.manifest import REPO, load_assignment  # noqa: E402
from autograder.roster import COURSE_ENV  # noqa: E402
from tests.instructors_class import DUE, STUDENTS, build_class  # noqa: E402
from tests.similarity_class import build_similarity_class  # noqa: E402


def run(*argv: str) -> None:
    print("$ python -m autograder", " ".join(argv))
    code = cli.main(list(argv))
    if code:
        raise SystemExit(code)


def main() -> None:
    a = load_assignment("optimizers")
    base = REPO / "build" / "term-demo"
    if base.exists():
        import shutil

        shutil.rmtree(base)
    course = base / "course.toml"
    base.mkdir(parents=True)
    course.write_text(f'[late]\nslip_days = 5\n[due]\noptimizers = "{DUE}"\n')
    os.environ[COURSE_ENV] = str(course)
    export = build_class(a, base / "export")
    grades = base / "grades"
    out = grades / "optimizers"
    run("grade", "optimizers", str(export), "--out", str(out))
    ta = base / "ta_scores.csv"
    sids = [s[1] for s in STUDENTS.values()]
    ta.write_text("student,written_adamw,written_ns,written_mup,grader\n" + "".join(
        f"{sid},{1 - i * 0.25:g},{0.5 + (i % 2) * 0.5:g},{(i + 1) % 2:g},ta_{i}\n" for i, sid in enumerate(sids)))
    run("scores", "import", "optimizers", str(ta), "--out", str(out))
    run("scores", "override", "optimizers", "--student", sids[1], "--question", "adam", "--delta", "0.5",
        "--reason", "regrade request: eps placement explained in office hours", "--by", "prof", "--out", str(out))
    run("scores", "export", "--root", str(grades))
    run("report", "optimizers", "--grades", str(out), "--out", str(base / "report"))
    run("report", "--course", "--root", str(grades), "--out", str(base / "course-report"))
    run("written", "optimizers", str(export), "--out", str(base / "written"))
    planted = [p.stem for p in a.variants_dir.glob("*.py")][:6] + ["reference_adam"]
    sim_class, _, _ = build_similarity_class(a, base / "similarity-class", planted)
    run("similarity", "optimizers", str(sim_class), "--out", str(base / "similarity"))
    links = ["grades/optimizers/grades.csv", "grades/lms.csv", "report/index.html", "course-report/index.html",
             "written/index.html", "written/students/submission_1001.html", "similarity/index.html"]
    items = "".join(f"<li><a href='{x}'>{x}</a></li>" for x in links)
    (base / "index.html").write_text(f"<!doctype html><meta charset='utf-8'><title>Term demo</title><h1>Term demo"
                                     f"</h1><ul>{items}</ul>\n")
    print(f"open {base / 'index.html'}")


if __name__ == "__main__":
    main()
