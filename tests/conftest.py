"""Fixtures for the project's own tests: the toy assignment and notebooks made on the fly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")  # as the CLI: never initialise CUDA before forking

pytest_plugins = ["tests.instructors_class"]  # the synthetic class of the instructors' commands

TOY_REPO = Path(__file__).parent / "fixtures" / "toyrepo"


@pytest.fixture(scope="session")
def toy():
    from autograder.manifest import load_assignment

    return load_assignment(TOY_REPO / "assignments" / "toy" / "assignment.toml", repo=TOY_REPO.resolve())


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    """Write an nbformat-4 notebook from (kind, source) pairs."""
    nb = {"cells": [{"cell_type": k, "metadata": {}, "source": s, **({"outputs": [], "execution_count": None}
                                                                     if k == "code" else {})}
                    for k, s in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


TOY_OK = {
    "add": "# GRADED: add\ndef add(a, b):\n    return a + b\n",
    "scale": ("# GRADED: scale\nclass Scale(torch.nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
              "        self.weight = torch.nn.Parameter(torch.ones(n))\n    def forward(self, x):\n"
              "        return x * self.weight\n"),
}


@pytest.fixture
def toy_notebook(tmp_path):
    """toy_notebook(add=..., scale=...) -> path of a toy submission; missing cells get the correct code."""

    def make(imports: str = "import torch", **cells: str | None) -> Path:
        sources = {**TOY_OK, **cells}
        body = [("code", imports)] + [("code", s) for s in sources.values() if s is not None]
        return write_notebook(tmp_path / "submission.ipynb", body)

    return make
