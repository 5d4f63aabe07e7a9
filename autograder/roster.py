"""Who submitted what and when: Gradescope's ``submission_metadata.yml``, due dates and slip days.

The late policy lives in ``course.toml`` (and a due date per assignment, in ``course.toml``'s
``[due]`` table or the assignment's own ``[assignment] due``)::

    [late]
    slip_days = 5        # emergency slip days per student over the whole term
    grace_minutes = 0    # an upload this close after the deadline is on time

    [due]
    optimizers = "2026-09-18T23:59:00-07:00"

As in Berkeley's deep-learning course, late work is accepted only while slip days last: a
submission later than the slip days the student has left is not accepted (penalty 100%) and uses
none of them. Slip days are spent in course order, over every assignment of the course.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .gradebook import Gradebook, Late
from .manifest import REPO, Assignment, list_topics

METADATA = "submission_metadata.yml"
COURSE_ENV = "AUTOGRADER_COURSE"  # a term's own course.toml (due dates, slip days), instead of the repo's


class RosterError(Exception):
    pass


@dataclass(frozen=True)
class Policy:
    slip_days: int = 5
    grace_minutes: float = 0.0


def parse_time(value) -> datetime | None:
    """A timestamp as Gradescope or a manifest writes it; naive times are taken as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        t = value
    else:
        text = str(value).strip()
        head, _, rest = text.partition(".")  # Gradescope: 2026-09-18 22:01:05.123456789 -0700
        if rest:
            digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
            text = f"{head}.{digits[:6]}{rest[len(digits):]}"
        text = text.replace(" -", "-").replace(" +", "+").replace(" UTC", "+00:00").replace("Z", "+00:00")
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            raise RosterError(f"cannot read the time {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


MAX_METADATA_BYTES = 8 << 20  # Gradescope's export of a 2,000-student class is well under 2 MB
MAX_FIELD_CHARS = 1000  # a name, an email, a SID, a time
MAX_SUBMITTERS = 50  # per submission (group submissions)
MAX_DEPTH = 16  # nesting of mappings and lists


def _load_plain_yaml(path: Path):
    """The YAML of ``path`` as plain data: no anchors or aliases, bounded size and nesting, else RosterError."""
    import yaml

    size = path.stat().st_size
    if size > MAX_METADATA_BYTES:
        raise RosterError(f"{path}: {size} bytes, more than the {MAX_METADATA_BYTES >> 20} MiB a submission "
                          "metadata file may have")
    text = path.read_bytes().decode("utf-8", errors="replace")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        depth = 0  # one pass over the parser's events first: nothing is built from a file that uses aliases
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise RosterError(f"{path}: YAML anchors and aliases (& and *) are not accepted in submission "
                                  f"metadata (line {event.start_mark.line + 1})")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise RosterError(f"{path}: nested more than {MAX_DEPTH} levels deep "
                                      f"(line {event.start_mark.line + 1})")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        what = " ".join(str(getattr(e, "problem", None) or e).split())
        raise RosterError(f"{path} is not valid YAML: {what}{where}") from None


def _field(path: Path, key: str, what: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, datetime)):
        raise RosterError(f"{path}: {what} of {key[:80]!r} is a {type(value).__name__}, not a string")
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if len(text) > MAX_FIELD_CHARS:
        raise RosterError(f"{path}: {what} of {key[:80]!r} is {len(text)} characters long "
                          f"(at most {MAX_FIELD_CHARS})")
    return text


def read_metadata(folder: Path) -> dict[str, dict]:
    """submission folder -> {name, email, sid, submitted_at} from a Gradescope bulk export.

    The file is read without anchors or aliases, up to ``MAX_METADATA_BYTES``, and checked: each
    submission a mapping, its ``submitters`` a list of mappings, every field a string (or a number
    or a time) of at most ``MAX_FIELD_CHARS`` characters. Anything else is one ``RosterError`` line
    naming the file and what is wrong.
    """
    path = folder / METADATA
    if not path.exists():
        return {}
    data = _load_plain_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RosterError(f"{path}: expected a mapping of submissions at the top, found a {type(data).__name__}")
    out = {}
    for raw_key, sub in data.items():
        key = _field(path, str(raw_key)[:80], "the submission name", raw_key)
        if sub is None:
            sub = {}
        if not isinstance(sub, dict):
            raise RosterError(f"{path}: the entry of {key[:80]!r} is a {type(sub).__name__}, not a mapping")
        sub = {str(k).lstrip(":"): v for k, v in sub.items()}
        people = sub.get("submitters") or []
        if not isinstance(people, list):
            raise RosterError(f"{path}: submitters of {key[:80]!r} is a {type(people).__name__}, not a list")
        if len(people) > MAX_SUBMITTERS:
            raise RosterError(f"{path}: {key[:80]!r} has {len(people)} submitters (at most {MAX_SUBMITTERS})")
        fields: dict[str, list[str]] = {"name": [], "email": [], "sid": []}
        for p in people:
            if not isinstance(p, dict):
                raise RosterError(f"{path}: a submitter of {key[:80]!r} is a {type(p).__name__}, not a mapping")
            p = {str(k).lstrip(":"): v for k, v in p.items()}
            for k in fields:
                fields[k].append(_field(path, key, f"the {k} of a submitter", p.get(k)))
        created = _field(path, key, "created_at", sub.get("created_at"))
        try:
            t = parse_time(created)
        except RosterError as e:
            raise RosterError(f"{path}: created_at of {key[:80]!r}: {e}") from None
        out[key] = {k: " & ".join(v) for k, v in fields.items()} | {"submitted_at": t.isoformat() if t else ""}
    return out


def load_policy(repo: Path = REPO) -> tuple[Policy, dict[str, datetime]]:
    """The late policy and due dates: ``course.toml`` (or ``$AUTOGRADER_COURSE``), then ``assignment.toml``."""
    course = Path(os.environ.get(COURSE_ENV) or repo / "course.toml")
    data = tomllib.loads(course.read_text()) if course.exists() else {}
    late = data.get("late", {})
    policy = Policy(int(late.get("slip_days", 5)), float(late.get("grace_minutes", 0)))
    dues = {t: parse_time(v) for t, v in data.get("due", {}).items()}
    for manifest in (repo / "assignments").glob("*/assignment.toml"):
        head = tomllib.loads(manifest.read_text()).get("assignment", {})
        if "due" in head:
            dues[head.get("id", manifest.parent.name)] = parse_time(head["due"])
    return policy, {t: d for t, d in dues.items() if d is not None}


def describe_policy(topic: str, repo: Path = REPO) -> tuple[str, str]:
    """(what the late policy is, one line, where it comes from): printed by every ``grade`` of a class and
    kept in the gradebook, so that a regrade under another policy is seen."""
    course = Path(os.environ.get(COURSE_ENV) or repo / "course.toml")
    where = f"${COURSE_ENV} ({course.name})" if os.environ.get(COURSE_ENV) else course.name
    if not course.exists():
        where += ", missing: defaults"
    policy, dues = load_policy(repo)
    due = f"due {dues[topic]:%Y-%m-%d %H:%M}" if topic in dues else "no due date"
    return f"{topic} {due}, {policy.slip_days} slip days, {policy.grace_minutes:g} minutes of grace", where


def key_of(student: str, ident: dict) -> str:
    """One student across assignments: SID, else email, else the submission's name."""
    return ident.get("sid") or ident.get("email") or student


def lateness(submissions: dict[str, dict[str, str]], dues: dict[str, datetime], policy: Policy,
             order: list[str]) -> dict[tuple[str, str], Late]:
    """(topic, student key) -> Late, spending each student's slip days in course ``order``.

    ``submissions``: topic -> student key -> submission time (ISO, or "" when unknown).
    """
    out: dict[tuple[str, str], Late] = {}
    left: dict[str, int] = {}
    grace = timedelta(minutes=policy.grace_minutes)
    for topic in [t for t in order if t in submissions] + sorted(set(submissions) - set(order)):
        due = dues.get(topic)
        for key, when in sorted(submissions[topic].items()):
            t = parse_time(when) if when else None
            if due is None or t is None or t <= due + grace:
                out[topic, key] = Late()
                continue
            days = math.ceil((t - due - grace) / timedelta(days=1))
            have = left.setdefault(key, policy.slip_days)
            if days <= have:
                left[key] = have - days
                out[topic, key] = Late(days, days, 0.0)
            else:
                out[topic, key] = Late(days, 0, 1.0)
    return out


def course_books(root: Path, repo: Path = REPO) -> dict[str, Path]:
    """topic -> gradebook, for each assignment graded under ``root`` (``root/<any>/gradebook.sqlite``)."""
    found: dict[str, Path] = {}
    for path in sorted(root.glob("*/gradebook.sqlite")):
        book = Gradebook(path)
        for topic in book.topics():
            if topic in found:
                raise RosterError(f"{topic} is graded twice under {root}: in {found[topic].parent.name} and "
                                  f"{path.parent.name}")
            found[topic] = path
        book.close()
    order = list_topics(repo)
    return {t: found[t] for t in [*(t for t in order if t in found), *sorted(set(found) - set(order))]}


def course_lateness(root: Path, repo: Path = REPO) -> dict[str, dict[str, Late]]:
    """topic -> submission name -> Late, over every assignment graded under ``root``."""
    policy, dues = load_policy(repo)
    subs: dict[str, dict[str, str]] = {}
    names: dict[str, dict[str, str]] = {}
    for topic, path in course_books(root, repo).items():
        book = Gradebook(path)
        ids = book.identities(topic)
        subs[topic], names[topic] = {}, {}
        for student in book.graded(topic):
            ident = ids.get(student, {})
            subs[topic][key_of(student, ident)] = ident.get("submitted_at", "")
            names[topic][student] = key_of(student, ident)
        book.close()
    late = lateness(subs, dues, policy, list_topics(repo))
    return {t: {s: late[t, k] for s, k in names[t].items()} for t in names}


def before_grading(a: Assignment, folder: Path, out: Path, *, replace: bool = False,
                   policy_changed: bool = False) -> None:
    """Before any grading starts (never after the batch): refuse to mix two class folders in one gradebook
    (``replace``: start it again), a topic already graded in another folder beside ``out``, a late policy
    other than the one the gradebook was written with (``policy_changed``: the instructor means it), and a
    class whose submission metadata is unreadable."""
    if folder.is_dir():
        read_metadata(folder)
    if out.parent.is_dir():
        for other in sorted(out.parent.glob("*/gradebook.sqlite")):
            if other.parent.resolve() == out.resolve():
                continue
            book = Gradebook(other)
            try:
                if a.id in book.topics():
                    raise RosterError(f"{a.id} is already graded in {other.parent}: grade into that folder "
                                      f"(--out {other.parent}), or move one of the two out of {out.parent}")
            finally:
                book.close()
    book_path = out / "gradebook.sqlite"
    if not book_path.exists():
        return
    book = Gradebook(book_path)
    try:
        old = book.source(a.id)
        if old and old != str(folder.resolve()) and book.graded(a.id):
            if not replace:
                raise RosterError(f"{out} already holds the grades of {old} for {a.id}, not of {folder}: "
                                  "pass another --out, or --replace to start this gradebook again")
            book.prune(a.id, set())
    finally:
        book.close()
    if book_path.exists():
        rule, where = describe_policy(a.id, a.repo)
        book = Gradebook(book_path)
        try:
            old = book.meta(f"late_policy:{a.id}")
        finally:
            book.close()
        if old and old != rule and not (policy_changed or replace):
            raise RosterError(f"the late policy is not the one {out} was graded with: it was \"{old}\", now it is "
                              f"\"{rule}\" (from {where}); set {COURSE_ENV} to the term's course.toml, or pass "
                              "--policy-changed to regrade under the new policy")


def after_grading(a: Assignment, folder: Path, out: Path, *, keep_missing: bool = False,
                  repo: Path | None = None) -> dict:
    """Record the folder and who submitted when, drop students gone from the folder, export grades.csv."""
    from .batch import find_submissions

    repo = repo or a.repo
    book = Gradebook(out / "gradebook.sqlite")
    try:
        book.set_source(a.id, str(folder.resolve()))
        book.set_meta(f"late_policy:{a.id}", describe_policy(a.id, repo)[0])
        meta = read_metadata(folder)
        present = {e.student for e in find_submissions(folder, a.id)}
        for student in present:
            ident = meta.get(student)  # without metadata, no submission time: never counted late
            if ident is not None:
                book.set_identity(a.id, student, **ident)
        book.commit()
        dropped = [] if keep_missing else book.prune(a.id, present)
    finally:
        book.close()
    export(a, out, repo)
    return {"dropped": dropped, "with_metadata": len(meta)}


def export(a: Assignment, out: Path, repo: Path | None = None) -> Path:
    """grades.csv of ``a`` with its lateness over the whole course (the gradebooks next to ``out``)."""
    repo = repo or a.repo
    late = course_lateness(out.parent, repo).get(a.id, {})
    book = Gradebook(out / "gradebook.sqlite")
    try:
        return book.export_csv(a, out / "grades.csv", late)
    finally:
        book.close()
