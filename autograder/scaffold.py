"""`make new-topic HW=<topic>`: the files of a new assignment, already passing the validation suite.

One autograded question (``softplus``: a numerically stable softplus, a small real exercise) and one
written question, with a public and a hidden test, three mutants, a correct variant, the topic's
row in ``course.toml`` and in the README's table. The author replaces the example with the real
questions, keeping the shape of each file (docs/authoring.md says what each one is for); the
command then writes the released notebook and the snapshots (``make release``/``make snapshots``).
"""

from __future__ import annotations

import re
from pathlib import Path

from .manifest import REPO

ID = re.compile(r"[a-z][a-z0-9_]*")

MANIFEST = '''# The single manifest of the {topic} assignment: points live here and nowhere else.
[assignment]
id = "{topic}"
title = "{title}"
time_limit = 30
memory_mb = 2048
hidden_visibility = "after_published"

[[questions]]
id = "softplus"
title = "A softplus that neither overflows nor loses small values"
points = 2
names = ["softplus"]
forbidden = ["torch.nn.functional.softplus", "torch.nn.Softplus"]

[[questions]]
id = "written_stability"
title = "Why the naive formula fails, and where"
points = 1
manual = true
'''

SOLUTION = '''# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # {title}
#
# **Learning goals.** By the end you can write $\\mathrm{{softplus}}(x) = \\log(1 + e^x)$ so that it
# neither overflows for large $x$ nor rounds to zero for very negative $x$.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write
# your code between the lines the template marks, keep the signatures, and run `check("<question>")`
# right after. Only graded cells and cells made only of `import` statements run when grading.

# %%
import math
import os

import torch

from autograder import check, require

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)

# %% [markdown]
# ## Softplus
#
# $\\log(1 + e^x) = \\max(x, 0) + \\log(1 + e^{{-|x|}})$: the exponential never overflows, and
# `torch.log1p` keeps $\\log(1 + u)$ accurate for tiny $u$.

# %%
# GRADED: softplus
def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + exp(x)) elementwise, stable for every x; same shape and dtype as x."""
    # BEGIN SOLUTION
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))
    # END SOLUTION


# %%
check("softplus")

# %%
require("softplus")
x = torch.linspace(-40, 40, 9, dtype=torch.float64)
print(softplus(x))

# %% [markdown]
# # GRADED: written_stability
# **Stability.** For which $x$ does `torch.log(1 + torch.exp(x))` fail in float32, and how? (2 to 3
# sentences.)
#
# BEGIN SOLUTION
# For x above about 88 the exponential overflows to inf in float32, so the naive result is inf; for x
# below about -17, 1 + exp(x) rounds to 1 and the result is 0 instead of about exp(x).
# END SOLUTION
'''

PUBLIC = '''"""Public tests of the {topic} assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly.
"""

import pytest
import torch


@pytest.mark.question("softplus")
def test_softplus_values(sub, observe, device, gen):
    """matches log(1 + exp(x)) on moderate inputs"""
    x = torch.randn(5, 4, generator=gen, dtype=torch.float64).to(device)
    y = sub.softplus(x)
    ok = bool(y.shape == x.shape)
    assert ok, f"softplus keeps the input's shape {{tuple(x.shape)}}"
    observe("softplus(x)", y)
'''

HIDDEN = '''"""Hidden tests of `softplus(x) -> log(1 + exp(x))`, elementwise.

Oracle: the closed form in float64 on moderate inputs, its asymptotes (x for large x, exp(x) for very
negative x) elsewhere. Invariants: shape and dtype kept, the input left unchanged.
"""

import pytest
import torch

from autograder.testing import expect_close

pytestmark = pytest.mark.question("softplus")


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
@pytest.mark.question("softplus", weight=2)
def test_matches_closed_form(sub, observe, device, gen, shape):
    """matches log(1 + exp(x)) in float64 and keeps the shape"""
    x = 3 * torch.randn(*shape, generator=gen, dtype=torch.float64)
    y = sub.softplus(x.to(device)).cpu()
    expect_close(y, torch.log(1 + torch.exp(x)), "softplus(x) = log(1 + exp(x))", rtol=1e-10, atol=1e-12,
                 name="softplus")
    observe("softplus(x)", y)


def test_large_inputs_do_not_overflow(sub, observe, device):
    """is x + exp(-x) for large x in float32 (no inf)"""
    x = torch.tensor([50.0, 100.0, 500.0], device=device)
    y = sub.softplus(x).cpu()
    ok = bool(torch.isfinite(y).all() and y.dtype == torch.float32)
    assert ok, f"softplus must stay finite (and float32) for large x; got {{y.tolist()}}"
    observe("softplus of large x", y)


def test_very_negative_inputs_keep_their_value(sub, observe, device):
    """is about exp(x) for very negative x, not 0"""
    x = torch.tensor([-30.0, -50.0, -80.0], dtype=torch.float64, device=device)
    y = sub.softplus(x).cpu()
    expect_close(y, torch.exp(x.cpu()), "softplus(x) is about exp(x) for x << 0", rtol=1e-8, atol=0,
                 name="softplus")
    observe("softplus of very negative x", y)


def test_input_unchanged(sub, observe, device, gen):
    """leaves its input unchanged"""
    x = torch.randn(6, generator=gen, dtype=torch.float64).to(device)
    before = x.clone()
    sub.softplus(x)
    ok = bool(torch.equal(x, before))
    assert ok, "softplus must not modify its input"
    observe("input unchanged", ok)
'''

MUTANTS = {
    "softplus_naive": ("the formula log(1 + exp(x)) as written: exp overflows for large x and 1 + exp(x) rounds "
                       "to 1 for very negative x\n# CORNER: right for moderate x, wrong only at the extremes",
                       "    return torch.log(1 + torch.exp(x))\n"),
    "softplus_relu_only": ("only the max(x, 0) part of the stable formula, without log(1 + exp(-|x|))",
                           "    return x.clamp(min=0)\n"),
    "softplus_sign_flipped": ("exp(+|x|) instead of exp(-|x|) in the correction term",
                              "    return x.clamp(min=0) + torch.log1p(torch.exp(x.abs()))\n"),
}

VARIANT = '''# VARIANT: softplus
# WHY: logaddexp(0, x), a library identity for the same value.
# %%
# GRADED: softplus
import torch


def softplus(x):
    return torch.logaddexp(torch.zeros_like(x), x)
'''


def _mutant(name: str, why: str, body: str) -> str:
    return (f"# MUTANT: softplus\n# WHY: {why}\n# %%\n# GRADED: softplus\nimport torch\n\n\n"
            f"def softplus(x):\n{body}")


def new_topic(topic: str, title: str | None = None, repo: Path = REPO) -> list[Path]:
    """Write the files of a new topic (refusing to overwrite any), add it to ``course.toml`` and the README's
    table; returns the files written."""
    if not ID.fullmatch(topic):
        raise ValueError(f"{topic!r} is not a topic id: lower-case letters, digits and _, starting with a letter")
    title = title or f"{topic.replace('_', ' ').capitalize()}: an example question to replace"
    files = {
        repo / "assignments" / topic / "assignment.toml": MANIFEST.format(topic=topic, title=title),
        repo / "assignments" / topic / "tests" / "test_public.py": PUBLIC.format(topic=topic),
        repo / "solutions" / topic / f"{topic}.py": SOLUTION.format(title=title),
        repo / "autograder" / topic / "tests" / "test_softplus.py": HIDDEN,
        repo / "autograder" / topic / "variants" / "softplus_logaddexp.py": VARIANT,
        **{repo / "autograder" / topic / "mutants" / f"{name}.py": _mutant(name, why, body)
           for name, (why, body) in MUTANTS.items()},
    }
    existing = [p for p in (repo / "assignments" / topic, *files) if p.exists()]
    if existing:
        raise FileExistsError(f"{topic} exists already ({existing[0].relative_to(repo)}): nothing was written")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _add_to_course(repo / "course.toml", topic)
    _add_to_readme(repo / "README.md", topic)
    return list(files)


def _add_to_course(path: Path, topic: str) -> None:
    if not path.exists():
        path.write_text(f"topics = [\"{topic}\"]\n")
        return
    text = path.read_text()
    m = re.search(r"^topics\s*=\s*\[(.*?)\]", text, re.S | re.M)
    if m is None:
        path.write_text(f"topics = [\"{topic}\"]\n" + text)
    elif f'"{topic}"' not in m.group(1):
        inner = m.group(1).rstrip()
        sep = ", " if inner.strip() else ""
        path.write_text(text[:m.start(1)] + inner + f'{sep}"{topic}"' + text[m.end(1):])


def _add_to_readme(path: Path, topic: str) -> None:
    """A row at the end of the README's table of topics (the table after "| topic | questions |")."""
    if not path.exists():
        return
    lines = path.read_text().split("\n")
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("| topic | questions |"))
    except StopIteration:
        return
    end = start + 2
    while end < len(lines) and lines[end].startswith("| `"):
        end += 1
    lines.insert(end, f"| `{topic}` | (an example question: a stable softplus; describe the questions here) |")
    path.write_text("\n".join(lines))
