"""The course autograder: graded-cell notebooks, sandboxed grading, Gradescope results.

Students use ``from autograder import check`` in notebooks; instructors use the CLI
(``python -m autograder --help``) or ``autograder.api``.
"""

__version__ = "0.1.0"


def check(question=None, **kwargs):
    """Run the public tests of a question in this notebook (see ``autograder.check.check``)."""
    from .check import check as _check

    return _check(question, **kwargs)


def use(assignment: str) -> None:
    """Tell ``check()`` which assignment this notebook is (the released notebook's setup cell calls it)."""
    from .check import use as _use

    _use(assignment)


def require(*questions: str) -> None:
    """First line of an experiment cell: one clear line, before any figure, if a question it uses is unwritten."""
    from .check import require as _require

    _require(*questions)
