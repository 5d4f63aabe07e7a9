"""How observation tolerances are chosen (autograder.observations.tolerances and judge)."""

import torch

from autograder.observations import encode, judge, tolerances


def record(value, rtol=None, atol=None):
    return {"name": "v", "value": encode(value), "rtol": rtol, "atol": atol}


def test_no_stated_tolerance_uses_the_dtype_default():
    x = torch.tensor([1.0, 2.0], dtype=torch.float32)
    assert tolerances(record(x)) == (None, None)
    assert judge([record(x * (1 + 5e-5))], [record(x)]) is None  # within float32's 1e-4
    assert judge([record(x.double() * (1 + 5e-5))], [record(x.double())])  # not within float64's 1e-7


def test_stated_tolerance_is_what_is_judged():
    x = torch.tensor([0.5, 0.25], dtype=torch.float32)
    assert judge([record(x * (1 + 5e-4), 5e-3, 1e-5)], [record(x, 5e-3, 1e-5)]) is None
    assert judge([record(x * (1 + 5e-2), 5e-3, 1e-5)], [record(x, 5e-3, 1e-5)])


def test_stated_tolerance_never_tighter_than_the_dtype():
    x32 = torch.ones(3, dtype=torch.float32)
    assert tolerances(record(x32, 1e-7, 1e-9)) == (1e-4, 1e-5)
    assert tolerances(record([x32, x32.double()], 1e-7, None)) == (1e-4, None)  # the least precise decides
    assert tolerances(record(0.5, 1e-9, None)) == (1e-7, None)  # a Python float is a float64
    assert tolerances(record(x32, 0.0, 0.2)) == (0.0, 0.2)  # an absolute check stays absolute


def test_exact_stays_exact():
    assert tolerances(record(torch.ones(2), 0.0, 0.0)) == (0.0, 0.0)
    assert judge([record(torch.tensor([1.0, 1.0 + 2**-20]), 0.0, 0.0)], [record(torch.ones(2), 0.0, 0.0)])
    assert tolerances(record(torch.arange(3), 1e-9, 1e-9)) == (1e-9, 1e-9)  # integers: exact in compare anyway
