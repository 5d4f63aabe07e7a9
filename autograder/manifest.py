"""``assignment.toml``: the one place where questions, points and limits are written down."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# In the student bundle the course data (manifests, public tests, snapshots) ships inside the package.
REPO = _PACKAGE / "course" if (_PACKAGE / "course" / "course.toml").is_file() else _PACKAGE.parent
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    points: float
    names: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    time_limit: float = 60.0
    manual: bool = False
    depends_on: tuple[str, ...] = ()  # integration questions: bugs in these may cost points here too


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    root: Path  # assignments/<topic>
    questions: tuple[Question, ...]
    memory_mb: int = 2048
    hidden_visibility: str = "after_published"
    repo: Path = REPO

    @property
    def notebook_path(self) -> Path:
        return self.root / f"{self.id}.ipynb"

    @property
    def solution_path(self) -> Path:
        return self.repo / "solutions" / self.id / f"{self.id}.py"

    @property
    def public_tests(self) -> Path:
        return self.root / "tests"

    @property
    def hidden_tests(self) -> Path:
        return self.repo / "autograder" / self.id / "tests"

    @property
    def mutants_dir(self) -> Path:
        return self.repo / "autograder" / self.id / "mutants"

    @property
    def variants_dir(self) -> Path:
        """Correct implementations written differently from the reference: each must score full marks."""
        return self.repo / "autograder" / self.id / "variants"

    @property
    def snapshots_path(self) -> Path:
        return self.root / "snapshots.json"

    @property
    def diagnoses_path(self) -> Path:
        """The mutants' signatures on the public tests, for students' checks (``autograder.diagnose``)."""
        return self.root / "diagnoses.json"

    @property
    def owners(self) -> dict[str, str]:
        """Required name -> the question whose cell defines it."""
        return {n: q.id for q in self.questions for n in q.names}

    @property
    def graded(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if not q.manual)

    def dependents(self, qid: str) -> set[str]:
        """Questions that declare (directly or through others) that they build on ``qid``."""
        found: set[str] = set()
        frontier = {qid}
        while frontier:
            new = {q.id for q in self.questions if set(q.depends_on) & frontier} - found
            found |= new
            frontier = new
        return found

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(f"{self.id} has no question {qid!r}; it has: {', '.join(q.id for q in self.questions)}")


KEYS = {"assignment": {"id", "title", "time_limit", "memory_mb", "hidden_visibility", "due"},
        "questions": {"id", "title", "points", "names", "forbidden", "time_limit", "manual", "depends_on"},
        "gradescope": {"cuda"}}


def _line(text: str, needle: str) -> int:
    """The 1-based line where ``needle`` first appears (where a manifest error points)."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return 1


def _check_keys(path: Path, text: str, data: dict) -> None:
    """A misspelt key (``forbiden``) would silently drop what it says: every key must be a known one."""
    for table, value in data.items():
        if table not in KEYS:
            raise ManifestError(f"{path}:{_line(text, table)}: unknown table [{table}]; known: {', '.join(KEYS)}")
        for entry in (value if isinstance(value, list) else [value]):
            if not isinstance(entry, dict):
                raise ManifestError(f"{path}:{_line(text, table)}: [{table}] must be a table")
            for key in entry:
                if key not in KEYS[table]:
                    near = difflib.get_close_matches(key, KEYS[table], 1)
                    hint = f" (did you mean {near[0]!r}?)" if near else ""
                    raise ManifestError(f"{path}:{_line(text, key)}: unknown key {key!r} in [{table}]{hint}; known: "
                                        f"{', '.join(sorted(KEYS[table]))}")
    for q in data.get("questions", []):
        for key in ("id", "points"):
            if key not in q:
                raise ManifestError(f"{path}:{_line(text, str(q.get('id', '[[questions]]')))}: a question without "
                                    f"{key!r}")


def load_assignment(topic: str | Path, repo: Path = REPO) -> Assignment:
    """Load ``assignments/<topic>/assignment.toml`` (or the toml file given by path)."""
    path = Path(topic)
    if path.suffix != ".toml":
        path = repo / "assignments" / str(topic) / "assignment.toml"
    if not path.exists():
        known = ", ".join(list_topics(repo)) or "none"
        raise ManifestError(f"no assignment {topic!r} (looked for {path}); known: {known}")
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{path}: {e}") from None
    _check_keys(path, text, data)
    head = data.get("assignment", {})
    default_limit = float(head.get("time_limit", 60))
    questions = []
    for q in data.get("questions", []):
        questions.append(Question(
            id=q["id"], title=q.get("title", q["id"]), points=float(q["points"]),
            names=tuple(q.get("names", ())), forbidden=tuple(q.get("forbidden", ())),
            time_limit=float(q.get("time_limit", default_limit)), manual=bool(q.get("manual", False)),
            depends_on=tuple(q.get("depends_on", ())),
        ))
    ids = [q.id for q in questions]
    for q in questions:
        if not q.id.isidentifier():
            raise ManifestError(f"{path}:{_line(text, q.id)}: question id {q.id!r} must be a Python identifier")
        if not q.points > 0:
            raise ManifestError(f"{path}:{_line(text, q.id)}: {q.id} has points = {q.points:g}; points must be "
                                "positive")
        bad = [n for n in q.names if not n.isidentifier()]
        if bad:
            raise ManifestError(f"{path}:{_line(text, bad[0])}: {q.id} names {bad[0]!r}, which is not a Python name")
        if q.manual and (q.names or q.forbidden):
            raise ManifestError(f"{path}:{_line(text, q.id)}: {q.id} is manual (graded by staff): it has no names "
                                "or forbidden APIs")
    if len(set(ids)) != len(ids):
        raise ManifestError(f"{path}: duplicate question ids")
    unknown = {d for q in questions for d in q.depends_on} - set(ids)
    if unknown:
        raise ManifestError(f"{path}: depends_on names unknown questions {sorted(unknown)}")
    vis = head.get("hidden_visibility", "after_published")
    if vis not in VISIBILITIES:
        raise ManifestError(f"{path}: hidden_visibility must be one of {VISIBILITIES}")
    return Assignment(id=head.get("id", path.parent.name), title=head.get("title", ""), root=path.parent,
                      questions=tuple(questions), memory_mb=int(head.get("memory_mb", 2048)),
                      hidden_visibility=vis, repo=repo)


def list_topics(repo: Path = REPO) -> list[str]:
    """Topics in course order (``course.toml``), then any others alphabetically."""
    found = sorted(p.parent.name for p in (repo / "assignments").glob("*/assignment.toml"))
    order_file = repo / "course.toml"
    order = tomllib.loads(order_file.read_text()).get("topics", []) if order_file.exists() else []
    return [t for t in order if t in found] + [t for t in found if t not in order]


def released_topics(repo: Path = REPO) -> list[str]:
    """The assignments released to students so far (``[student] released`` in ``course.toml``; all by
    default): what ``make student`` bundles."""
    order_file = repo / "course.toml"
    data = tomllib.loads(order_file.read_text()) if order_file.exists() else {}
    released = data.get("student", {}).get("released")
    topics = list_topics(repo)
    if released is None:
        return topics
    unknown = sorted(set(released) - set(topics))
    if unknown:
        raise ManifestError(f"course.toml: [student] released names {', '.join(unknown)}, which is no assignment")
    return [t for t in topics if t in released]


def find_topic_for_question(qid: str, repo: Path = REPO) -> str:
    """The topic whose manifest has question ``qid`` (for ``check("adam")`` in a notebook)."""
    cwd_manifest = Path.cwd() / "assignment.toml"
    if cwd_manifest.exists():
        a = load_assignment(cwd_manifest, repo)
        if any(q.id == qid for q in a.questions):
            return a.id
    hits = [t for t in list_topics(repo) if any(q.id == qid for q in load_assignment(t, repo).questions)]
    if not hits:
        raise ManifestError(f"no assignment has a question {qid!r}")
    if len(hits) > 1:
        raise ManifestError(f"question {qid!r} exists in {hits}; pass topic=...")
    return hits[0]
