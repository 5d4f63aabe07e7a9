"""Tests of shared.compare: tolerances, teaching messages, containers and untrusted values."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compare import assert_close, compare, default_tolerances

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


def _reference() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(4, 3, generator=g) + 0.1  # (4, 3), away from zero


# --------------------------------------------------------------------------- tolerances


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (torch.float64, (1e-7, 1e-10)),
        (torch.float32, (1e-4, 1e-5)),
        (torch.float16, (2e-3, 1e-3)),
        (torch.bfloat16, (1.6e-2, 1e-2)),
        (torch.complex128, (1e-7, 1e-10)),
        (torch.complex64, (1e-4, 1e-5)),
        (torch.int64, (0.0, 0.0)),
        (torch.uint8, (0.0, 0.0)),
        (torch.bool, (0.0, 0.0)),
    ],
)
def test_default_tolerances(dtype: torch.dtype, expected: tuple[float, float]) -> None:
    assert default_tolerances(dtype) == pytest.approx(expected)


def test_float32_tolerances_are_10x_looser_on_cuda() -> None:
    assert default_tolerances(torch.float32, "cuda") == pytest.approx((1e-3, 1e-4))
    assert default_tolerances(torch.float64, "cuda") == pytest.approx((1e-7, 1e-10))


# --------------------------------------------------------------------------- equal values


def test_equal_and_within_tolerance_return_none() -> None:
    e = _reference()
    assert compare(e.clone(), e) is None
    assert compare(e + 5e-6, e) is None  # below atol=1e-5
    assert compare(e * (1 + 5e-5), e) is None  # below rtol=1e-4
    assert compare(torch.nn.Parameter(e.clone()), e) is None
    assert compare(e.clone().requires_grad_(), e) is None


def test_nan_and_inf_match_themselves() -> None:
    e = torch.tensor([1.0, math.nan, math.inf, -math.inf])
    assert compare(e.clone(), e) is None
    msg = compare(torch.tensor([1.0, math.nan, -math.inf, -math.inf]), e)
    assert msg is not None and "index (2,)" in msg


def test_low_precision_and_numpy_inputs() -> None:
    e = torch.linspace(-2, 2, 7, dtype=torch.bfloat16)
    assert compare(e.clone(), e) is None
    a = np.linspace(0, 1, 5, dtype=np.float32)
    assert compare(a.copy(), a) is None
    assert compare(a + 1, a) is not None


# --------------------------------------------------------------------------- value messages


def test_message_names_worst_index_count_and_tolerances() -> None:
    e = _reference()
    a = e.clone()
    a[2, 1] += 0.031
    a[0, 0] += 0.002
    msg = compare(a, e, name="params")
    assert msg is not None
    assert msg.startswith("params: max abs error 3.1e-02 at index (2, 1)")
    assert f"(got {a[2, 1].item():.4f}, expected {e[2, 1].item():.4f})" in msg
    assert "2 of 12 elements (16.7%) exceed atol=1e-05 + rtol=0.0001*|expected|" in msg


def test_explicit_tolerances_override_defaults() -> None:
    e = _reference()
    assert compare(e + 0.01, e, atol=0.02) is None
    msg = compare(e + 0.01, e, atol=0.0, rtol=1e-3)
    assert msg is not None and "atol=0 + rtol=0.001" in msg
    with pytest.raises(ValueError):
        compare(e, e, rtol=-1.0)


def test_nan_where_finite_expected_gives_advice() -> None:
    e = _reference()
    a = e.clone()
    a[1, 2] = math.nan
    msg = compare(a, e, name="out")
    assert msg is not None
    assert msg.startswith(f"out: got NaN at index (1, 2), expected {e[1, 2].item():.4f}")
    assert "division by zero" in msg and "log of a non-positive number" in msg


def test_inf_and_missing_nan_messages() -> None:
    e = _reference()
    a = e.clone()
    a[3, 0] = math.inf
    msg = compare(a, e)
    assert msg is not None and "got inf at index (3, 0)" in msg and "overflow" in msg
    e2 = e.clone()
    e2[0, 1] = math.nan
    msg = compare(e.clone(), e2)
    assert msg is not None and "expected NaN at index (0, 1)" in msg


def test_integer_and_bool_tensors_compare_exactly() -> None:
    e = torch.tensor([1, 2, 3, 4])
    assert compare(e.clone(), e) is None
    msg = compare(torch.tensor([1, 2, 5, 4]), e, name="labels")
    assert msg == "labels: 1 of 4 elements (25.0%) differ; first at index (2,) (got 5, expected 3)"
    msg = compare(torch.tensor([True, True]), torch.tensor([True, False]))
    assert msg is not None and "(got True, expected False)" in msg


def test_complex_tensors() -> None:
    e = torch.tensor([1 + 1j, 2 - 1j], dtype=torch.complex128)
    assert compare(e.clone(), e) is None
    msg = compare(e + 0.5j, e)
    assert msg is not None and "imaginary part" in msg


# --------------------------------------------------------------------------- structure messages


def test_shape_messages() -> None:
    e = torch.zeros(4, 3)
    assert (
        compare(torch.zeros(3, 4), e, name="params") == "params: expected shape (4, 3), got (3, 4) (looks transposed)"
    )
    msg = compare(torch.zeros(4, 3, 1), e)
    assert msg is not None and "size 1" in msg
    msg = compare(torch.zeros(2, 6), e)
    assert msg is not None and "reshape" in msg
    msg = compare(torch.zeros(5), torch.zeros(4))
    assert msg == "value: expected shape (4,), got (5,)"


def test_dtype_message_and_check_dtype_off() -> None:
    e = _reference()
    assert compare(e.double(), e) == "value: expected torch.float32, got torch.float64"
    assert compare(e.double(), e, check_dtype=False) is None
    assert compare(e.numpy().astype(np.float64), e.numpy()) == "value: expected float32, got float64"


def test_device_checked_only_when_asked() -> None:
    e = _reference()
    assert compare(e.clone(), e, check_device=True) is None


def test_type_mismatches_teach() -> None:
    e = _reference()
    msg = compare(e.numpy(), e)
    assert msg is not None and "expected torch.Tensor, got numpy.ndarray" in msg
    msg = compare(torch.tensor(0.5), 0.5, name="loss")
    assert msg is not None and msg.startswith("loss: expected float, got torch.Tensor") and ".item()" in msg
    assert compare(None, e) == "value: expected torch.Tensor, got NoneType"
    assert compare(0, None) == "value: expected None, got int"


def test_python_scalars() -> None:
    assert compare(0.5, 0.5) is None
    assert compare(0.5 + 1e-12, 0.5) is None
    msg = compare(0.5, 0.4, name="lr")
    assert msg is not None and msg.startswith("lr: got 0.5000, expected 0.4000 (abs error 1.0e-01 exceeds")
    assert compare(3, 3) is None
    assert compare(3, 4) == "value: got 3, expected 4"
    assert compare(2**80, 2**80) is None
    assert compare(3, 3.0) is None  # an int is accepted where a float is expected
    msg = compare(3.0, 3)
    assert msg is not None and "expected an integer" in msg
    msg = compare(1, True)
    assert msg is not None and "expected a bool" in msg
    assert compare(1, True, check_dtype=False) is None
    assert compare(np.float32(0.25), 0.25) is None
    assert compare(np.int64(7), 7) is None
    assert compare(float("nan"), float("nan")) is None


def test_strings_compare_exactly() -> None:
    assert compare("adam", "adam") is None
    assert compare("adamw", "adam") == "value: expected 'adam', got 'adamw'"


# --------------------------------------------------------------------------- containers


def test_nested_containers_name_the_path() -> None:
    expected = {"w": [torch.zeros(2), torch.ones(2)], "step": 3}
    assert compare({"w": [torch.zeros(2), torch.ones(2)], "step": 3}, expected) is None
    assert compare({"w": (torch.zeros(2), torch.ones(2)), "step": 3}, expected) is None  # tuple ~ list
    msg = compare({"w": [torch.zeros(2), torch.zeros(2)], "step": 3}, expected, name="state")
    assert msg is not None and msg.startswith("state['w'][1]: max abs error 1.0e+00 at index (0,)")
    msg = compare({"w": [torch.zeros(2)], "step": 3}, expected, name="state")
    assert msg == "state['w']: expected a list of length 2, got length 1"
    msg = compare({"w": [torch.zeros(2), torch.ones(2)], "steps": 3}, expected, name="state")
    assert msg == "state: missing keys ['step']; unexpected keys ['steps']"
    assert compare(torch.Size([2, 3]), (2, 3)) is None


def test_deep_nesting_is_reported_not_crashing() -> None:
    deep: list = []
    deep.append(deep)  # a cycle
    msg = compare(deep, [[[[]]]])
    assert msg is not None and "length" in msg
    self_ref: list = []
    self_ref.append(self_ref)
    msg = compare(self_ref, self_ref)
    assert msg is not None and "nested more than" in msg


# --------------------------------------------------------------------------- untrusted values


class _Liar:
    """Claims to equal everything and to have zero difference from anything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __sub__(self, other: object) -> int:
        return 0

    __hash__ = object.__hash__


class _LyingTensor(torch.Tensor):
    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return True


class _LyingFloat(float):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


def test_rejects_objects_with_lying_eq() -> None:
    e = _reference()
    for expected in (e, 0.5, 3, "text", e.numpy()):
        msg = compare(_Liar(), expected)
        assert msg is not None and "_Liar" in msg
    assert compare(_LyingFloat(0.1), 0.5) is not None
    assert compare([_Liar()], [1.0]) is not None
    assert compare({_Liar(): 1}, {"a": 1}) is not None


def test_rejects_tensor_subclass() -> None:
    e = _reference()
    msg = compare(e.clone().as_subclass(_LyingTensor), e)
    assert msg is not None and "subclass of torch.Tensor" in msg


def test_rejects_ndarray_subclass_and_object_arrays() -> None:
    a = np.arange(3.0)
    assert compare(a.view(np.matrix), a) is not None
    liars = np.array([_Liar()] * 3, dtype=object)
    assert compare(liars, a) == "value: expected float64, got object"
    msg = compare(liars, a, check_dtype=False)
    assert msg is not None and "unsupported array dtype" in msg


def test_assert_close_raises_with_message() -> None:
    e = _reference()
    assert_close(e.clone(), e)
    with pytest.raises(AssertionError, match=re.escape("p: expected shape (4, 3), got (3, 4)")):
        assert_close(e.T, e, name="p")


# --------------------------------------------------------------------------- properties

_finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(deadline=None, max_examples=60)
@given(values=st.lists(_finite, min_size=1, max_size=20), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_property_small_perturbation_passes_big_fails(values: list[float], dtype: torch.dtype) -> None:
    x = torch.tensor(values, dtype=dtype)
    rtol, atol = default_tolerances(dtype)
    small = 0.1 * (atol + rtol * x.abs())
    assert compare(x + small, x) is None
    big = x.clone()
    big[len(values) // 2] += 1.0 + 2 * rtol * abs(values[len(values) // 2])
    assert compare(big, x) is not None


@settings(deadline=None, max_examples=30)
@given(value=_finite)
def test_property_scalars_like_tensors(value: float) -> None:
    assert compare(value, value) is None
    assert (compare(value + 1.0, value) is None) == (compare(torch.tensor(value + 1.0), torch.tensor(value)) is None)


# --------------------------------------------------------------------------- cuda


@requires_cuda
def test_cuda_tensors() -> None:
    e = _reference()
    cuda = e.cuda()
    assert compare(cuda.clone(), cuda) is None
    assert compare(cuda, e) is None  # values are moved to the CPU
    assert compare(cuda + 5e-4, e) is not None
    assert compare(cuda + 5e-5, cuda) is None  # float32 on cuda: 10x atol
    msg = compare(cuda, e, check_device=True)
    assert msg is not None and "expected device cpu" in msg


def test_a_near_miss_shows_digits_that_differ():
    """"got 1.0000, expected 1.0000" teaches nothing: the message shows as many digits as the difference needs."""
    from shared._elementwise import compare_values, from_tensor

    msg = compare_values(from_tensor(torch.tensor([1.000012], dtype=torch.float64)),
                         from_tensor(torch.tensor([1.000031], dtype=torch.float64)), "y", rtol=1e-7, atol=1e-9)
    assert "got 1.00001, expected 1.00003" in msg, msg
    msg = compare_values(from_tensor(torch.tensor(2.5)), from_tensor(torch.tensor(3.5)), "y", rtol=1e-5, atol=1e-8)
    assert "got 2.5000, expected 3.5000" in msg, msg
