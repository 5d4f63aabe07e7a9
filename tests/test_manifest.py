"""assignment.toml is validated: a typo is an error with its line, never a silently dropped rule."""

from __future__ import annotations

import pytest

from autograder.manifest import ManifestError, load_assignment

GOOD = """[assignment]
id = "t"
title = "T"

[[questions]]
id = "add"
title = "Add"
points = 2
names = ["add"]
forbidden = ["torch.add"]
"""


def manifest(tmp_path, text):
    path = tmp_path / "t" / "assignment.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_a_good_manifest_loads(tmp_path):
    a = load_assignment(manifest(tmp_path, GOOD))
    assert a.question("add").forbidden == ("torch.add",)


@pytest.mark.parametrize("change,message", [
    (("forbidden =", "forbiden ="),
     "t/assignment.toml:10: unknown key 'forbiden' in [questions] (did you mean 'forbidden'?)"),
    (("points = 2", "points = 0"), "points must be positive"),
    (("points = 2", "points = -1"), "points must be positive"),
    (('names = ["add"]', 'names = ["add-it"]'), "not a Python name"),
    (('id = "add"', 'id = "my add"'), "must be a Python identifier"),
    (("[assignment]", "[asignment]"), "unknown table [asignment]"),
    (("points = 2\n", "points = 2\ndepends_on = [\"ghost\"]\n"), "depends_on names unknown questions ['ghost']"),
    (("points = 2\n", ""), "a question without 'points'"),
    (("title = \"T\"", "title = "), "t/assignment.toml"),
])
def test_a_mistake_is_an_error_with_its_line(tmp_path, change, message):
    with pytest.raises(ManifestError) as e:
        load_assignment(manifest(tmp_path, GOOD.replace(*change)))
    assert message in str(e.value)
