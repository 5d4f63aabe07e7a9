"""Hidden tests of `mup_param_groups(model, base_width, lr)` for `shared.models.MLP`.

width_mult = model.width / base_width; the input weight and every bias keep lr;
hidden weights and the output weight get lr / width_mult.

Any grouping is accepted (one group per parameter, one per learning rate, ...):
the tests look up, for each parameter in `model.named_parameters()` order, the
learning rate of the group that holds it.
"""

import pytest
import torch

from shared.models import MLP

pytestmark = pytest.mark.question("mup")


def lr_by_name(model, groups):
    """{parameter name: lr of its group}, checking the groups' structure on the way."""
    assert isinstance(groups, (list, tuple)), (
        f"mup_param_groups must return a list of dicts (param groups), got {type(groups).__name__}"
    )
    owner = {}  # id(parameter) -> lr
    for i, group in enumerate(groups):
        assert isinstance(group, dict), f"group {i} must be a dict with keys 'params' and 'lr'"
        assert "params" in group and "lr" in group, f"group {i} must have keys 'params' and 'lr', has {sorted(group)}"
        params = group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        group["params"] = params  # a generator would be used up by this look
        for p in params:
            assert id(p) not in owner, "a parameter appears in two groups: every parameter belongs to exactly one"
            owner[id(p)] = float(group["lr"])
    out = {}
    for name, p in model.named_parameters():
        assert id(p) in owner, f"parameter {name!r} is in no group: every parameter of the model needs a learning rate"
        out[name] = owner.pop(id(p))
    assert not owner, "the groups contain tensors that are not parameters of the model"
    return out


CONFIGS = {
    "wide_two_hidden": dict(in_dim=5, width=64, out_dim=3, n_hidden=2, bias=True, base=16, lr=0.01),
    "narrower_than_base": dict(in_dim=7, width=8, out_dim=2, n_hidden=1, bias=True, base=32, lr=0.1),
    "no_bias_three_hidden": dict(in_dim=4, width=48, out_dim=6, n_hidden=3, bias=False, base=16, lr=3e-3),
    "width_equals_base": dict(in_dim=3, width=24, out_dim=3, n_hidden=1, bias=True, base=24, lr=0.02),
    "odd_ratio": dict(in_dim=6, width=40, out_dim=4, n_hidden=2, bias=True, base=16, lr=1e-3),
}


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_learning_rates(sub, observe, device, config):
    """gives every parameter the reference's learning rate"""
    c = dict(config)
    base, lr = c.pop("base"), c.pop("lr")
    model = MLP(**c).to(device)
    groups = sub.mup_param_groups(model, base, lr)
    for name, value in lr_by_name(model, groups).items():
        observe(f"lr of {name}", value)


def test_groups_work_with_torch_optimizers(sub, observe, device):
    """returns groups that torch.optim.AdamW accepts, keeping their learning rates"""
    model = MLP(4, 32, 2, n_hidden=2).to(device)
    groups = sub.mup_param_groups(model, 8, 0.01)
    lrs = lr_by_name(model, groups)
    opt = torch.optim.AdamW(groups, lr=123.0)  # a group's own lr wins over the default
    seen = {}
    for group in opt.param_groups:
        for p in group["params"]:
            seen[id(p)] = group["lr"]
    for name, p in model.named_parameters():
        assert seen[id(p)] == pytest.approx(lrs[name]), (
            f"{name}: torch.optim.AdamW read lr {seen[id(p)]} from your groups; the 'lr' key of a group "
            "must hold that group's learning rate"
        )
    observe("learning rates inside AdamW", [seen[id(p)] for _, p in model.named_parameters()])


def test_does_not_depend_on_input_and_output_sizes(sub, observe, device):
    """takes the width from the model's hidden width, not from its input or output size"""
    out = []
    for in_dim, out_dim in [(3, 2), (100, 50)]:
        model = MLP(in_dim, 32, out_dim, n_hidden=1).to(device)
        lrs = lr_by_name(model, sub.mup_param_groups(model, 16, 0.05))
        out.append(lrs)
    assert out[0] == pytest.approx(out[1]), (
        "the learning rates must depend only on width / base_width (model.width), not on the input or output dimensions"
    )
    observe("learning rates", out[0])


def test_scales_with_width(sub, observe, device):
    """halves the hidden and output learning rates each time the width doubles"""
    table = []
    for width in [16, 32, 64, 128]:
        model = MLP(4, width, 3, n_hidden=1).to(device)
        lrs = lr_by_name(model, sub.mup_param_groups(model, 16, 0.04))
        table.append(lrs)
        observe(f"learning rates at width {width}", lrs)
    for name in table[0]:
        ratio = table[-1][name] / table[0][name]
        assert ratio == pytest.approx(1.0) or ratio == pytest.approx(1 / 8), (
            f"{name}: going from width 16 to 128 (width_mult 1 to 8) multiplied its lr by {ratio:.4g}; "
            "under muP each lr is either kept (input weight, biases) or divided by width_mult"
        )
