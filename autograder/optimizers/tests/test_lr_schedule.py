"""Hidden tests of `cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0)`.

step < warmup: peak * step / warmup (step 0 gives 0); afterwards
progress = (step - warmup) / max(1, total - warmup), clamped to [0, 1], and
lr = min + (peak - min) * (1 + cos(pi * progress)) / 2. warmup 0 means no warmup.
"""

import pytest

pytestmark = pytest.mark.question("lr_schedule")


def curve(sub, total, warmup, peak, min_lr=None, steps=None):
    steps = range(total + 11) if steps is None else steps
    out = []
    for s in steps:
        if min_lr is None:
            lr = sub.cosine_with_warmup(s, total, warmup, peak)
        else:
            lr = sub.cosine_with_warmup(s, total, warmup, peak, min_lr)
        assert isinstance(lr, float), (
            f"cosine_with_warmup must return a Python float, got {type(lr).__name__} at step {s}"
        )
        out.append(lr)
    return out


CONFIGS = {
    "warmup_10_of_100": dict(total=100, warmup=10, peak=3e-3, min_lr=1e-4),
    "warmup_5_of_20_default_min": dict(total=20, warmup=5, peak=1.0),
    "no_warmup": dict(total=50, warmup=0, peak=1.0, min_lr=0.1),
    "long_warmup": dict(total=30, warmup=25, peak=0.5, min_lr=0.05),
}


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_curve(sub, observe, device, config):
    """matches the reference at every step, including 10 steps past the end"""
    observe("learning rates", curve(sub, **config))


def test_warmup_starts_at_zero_and_reaches_peak(sub, observe, device):
    """starts warmup at 0 and reaches peak_lr exactly at step warmup_steps"""
    lrs = curve(sub, total=40, warmup=8, peak=2.0, min_lr=0.5, steps=range(9))
    assert lrs[0] == 0.0, f"warmup starts from 0 (peak_lr * 0 / warmup_steps), got {lrs[0]}"
    assert lrs[8] == pytest.approx(2.0), f"at step == warmup_steps the schedule is at its peak, got {lrs[8]}"
    assert lrs[1] == pytest.approx(2.0 / 8), (
        f"warmup is linear: step 1 of 8 gives peak_lr / 8 = 0.25, got {lrs[1]} (off by one?)"
    )
    observe("learning rates over warmup", lrs)


def test_no_warmup_starts_at_peak(sub, observe, device):
    """with warmup_steps=0 starts at peak_lr (and never divides by zero)"""
    lrs = curve(sub, total=10, warmup=0, peak=0.3, min_lr=0.01, steps=range(3))
    assert lrs[0] == pytest.approx(0.3), f"without warmup step 0 is at peak_lr, got {lrs[0]}"
    observe("learning rates", lrs)


def test_midpoint(sub, observe, device):
    """is halfway between peak_lr and min_lr halfway through the decay"""
    lr = sub.cosine_with_warmup(60, 110, 10, 1.0, 0.2)
    assert lr == pytest.approx(0.6), (
        "halfway through the cosine part (progress 1/2, counted over total_steps - warmup_steps) "
        f"lr = (peak + min) / 2 = 0.6, got {lr}"
    )
    observe("lr at the midpoint", lr)


def test_stays_at_min_after_the_end(sub, observe, device):
    """stays at min_lr from total_steps on (progress clamped to 1)"""
    lrs = curve(sub, total=50, warmup=5, peak=1.0, min_lr=0.1, steps=[50, 51, 60, 75, 100, 1000])
    for lr in lrs:
        assert lr == pytest.approx(0.1), (
            f"after total_steps the schedule must stay at min_lr = 0.1 (clamp progress to 1), got {lr}"
        )
    observe("learning rates after the end", lrs)


def test_warmup_equals_total(sub, observe, device):
    """handles warmup_steps == total_steps (the max(1, ...) in the denominator)"""
    observe("learning rates", curve(sub, total=10, warmup=10, peak=1.0, min_lr=0.1, steps=range(16)))


def test_shape(sub, observe, device):
    """rises during warmup and never rises afterwards"""
    lrs = curve(sub, total=60, warmup=12, peak=1.0, min_lr=0.05, steps=range(70))
    for s in range(1, 13):
        assert lrs[s] > lrs[s - 1], f"the learning rate must rise during warmup (step {s - 1} -> {s})"
    for s in range(13, 70):
        assert lrs[s] <= lrs[s - 1] + 1e-15, (
            f"after warmup the learning rate must not rise (step {s - 1} -> {s}: {lrs[s - 1]} -> {lrs[s]})"
        )
    assert min(lrs[12:]) >= 0.05 - 1e-12, "the learning rate must never go below min_lr"
    observe("learning rates", lrs)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's other 11 tests, public ones included, weigh 1 each), so that a schedule wrong in any
# regime (a warmup from zero to the peak, with a min_lr given or the default one, no warmup at all, a warmup as
# long as the whole schedule, the steps past the end) keeps at most a third; the tests above say which part is
# wrong.
@pytest.mark.question("lr_schedule", weight=22)
def test_whole_contract(sub, observe, device):
    """warmup then cosine (min_lr given and default), no warmup, warmup as long as the schedule, past the end"""
    test_curve(sub, observe, device, CONFIGS["warmup_10_of_100"])
    test_curve(sub, observe, device, CONFIGS["warmup_5_of_20_default_min"])
    test_warmup_starts_at_zero_and_reaches_peak(sub, observe, device)
    test_no_warmup_starts_at_peak(sub, observe, device)
    test_warmup_equals_total(sub, observe, device)
    test_stays_at_min_after_the_end(sub, observe, device)
