"""Hidden tests of `inject_lora(model, target_names, r, alpha, dropout=0.0) -> int`.

Every nn.Linear whose qualified name ends with a target is replaced in place by
`LoRALinear(linear, r, alpha, dropout)`; every other parameter is frozen; the return value is the
number of trainable parameter elements. While these tests run, `LoRALinear` is pointed at a trusted
stand-in, so a mistake in that class costs points only on its own question.
"""


import pytest
import torch
import torch.nn as nn

from autograder.testing import load_helpers, substitute

H = load_helpers(__file__)

pytestmark = pytest.mark.question("inject")


def inject(sub, model, targets, r=2, alpha=4.0, **kwargs):
    with substitute(sub, LoRALinear=H.TrustedLoRALinear, merge_lora=H.trusted_merge,
                    lora_linear=H.trusted_lora_linear):
        n = sub.inject_lora(model, targets, r, alpha, **kwargs)
    assert isinstance(n, int) and not isinstance(n, bool), (
        f"inject_lora must return the number of trainable parameters as an int, got {type(n).__name__}"
    )
    return n


def wrapped(model):
    return sorted(n for n, m in model.named_modules() if isinstance(m, H.TrustedLoRALinear))


def check_frozen(model, n):
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    stray = [t for t in trainable if not t.endswith(("lora_A", "lora_B"))]
    assert not stray, f"inject_lora must freeze every parameter but the LoRA ones; still trainable: {stray}"
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert n == count, f"inject_lora returned {n}, but the model has {count} trainable parameter elements"
    return trainable


TARGETS = [["query", "value"], ["out"], ["mlp.0", "blocks.1.query"], ["value", "mlp.2", "embed"]]


@pytest.mark.parametrize("targets", TARGETS, ids=["query_value", "top_level", "qualified", "mixed"])
def test_wraps_the_targets(sub, observe, device, gen, targets):
    """wraps exactly the nn.Linear layers whose qualified names end with a target"""
    model = H.toy_net(gen).to(device)
    n = inject(sub, model, targets)
    names = wrapped(model)
    check_frozen(model, n)
    observe("wrapped modules", names)
    observe("trainable parameters", n)


def test_skips_what_is_not_a_target(sub, observe, device, gen):
    """leaves alone names that only contain a target, and modules that are not nn.Linear"""
    model = H.toy_net(gen).to(device)
    n = inject(sub, model, ["value", "mlp", "norm"])  # value_head contains "value"; mlp and norm are not Linear
    names = wrapped(model)
    assert all(not name.endswith("value_head") for name in names), (
        "value_head only contains 'value': a target must match the END of the qualified name"
    )
    assert all(isinstance(m, (nn.Sequential, nn.LayerNorm)) for name, m in model.named_modules()
               if name.endswith(("mlp", "norm"))), "only nn.Linear layers may be wrapped (mlp and norm are not)"
    check_frozen(model, n)
    observe("wrapped modules", names)


def test_arguments_and_output(sub, observe, device, gen):
    """passes r, alpha and dropout on, keeps the wrapped layer, and leaves the output unchanged"""
    model = H.toy_net(gen).to(device).eval()
    x = torch.randn(3, 4, generator=gen).to(device)
    before = model(x)
    query = model.blocks[0].query
    n = inject(sub, model, ["query"], r=3, alpha=6.0, dropout=0.25)
    wrapper = model.blocks[0].query
    assert isinstance(wrapper, H.TrustedLoRALinear) and wrapper.base is query, (
        "blocks.0.query must be replaced by LoRALinear(the original layer, r, alpha, dropout), called by name"
    )
    args = [(m.r, m.alpha, m.dropout_p) for m in model.modules() if isinstance(m, H.TrustedLoRALinear)]
    observe("LoRALinear arguments", [list(a) for a in args])
    same = bool(torch.equal(model(x), before))
    assert same, "right after injection (B = 0) the model must compute exactly what it did before"
    observe("output unchanged", same)
    observe("trainable parameters", n)


def test_tinygpt(sub, observe, device, gen):
    """on the course CharGPT: freezes embeddings and norms, wraps every block's query, value and the head"""
    model = H.small_gpt(gen, n_layers=2).to(device)
    n = inject(sub, model, ["query", "value", "head"], r=4, alpha=8.0)
    trainable = check_frozen(model, n)
    observe("wrapped modules", wrapped(model))
    observe("trainable", trainable)
    observe("count", n)


# One contract: this test runs the checks above on one input each (targets matched by the end of the qualified name,
# dotted and top-level, names that only contain a target left alone, r, alpha and dropout passed on, everything else
# frozen and counted) and carries two thirds of the question's points, so that code wrong in any one part keeps at
# most a third; the tests above say which part is wrong.
@pytest.mark.question("inject", weight=20)
def test_whole_contract(sub, observe, device, gen):
    """dotted and top-level targets, near-miss names skipped, the arguments passed on, the rest frozen"""
    test_wraps_the_targets(sub, observe, device, gen, ["mlp.0", "blocks.1.query"])
    test_wraps_the_targets(sub, observe, device, gen, ["out"])
    test_skips_what_is_not_a_target(sub, observe, device, gen)
    test_arguments_and_output(sub, observe, device, gen)
    test_tinygpt(sub, observe, device, gen)
