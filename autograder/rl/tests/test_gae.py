"""Hidden tests of `gae(rewards, values, dones, last_value, gamma, lam) -> (advantages, returns)`.

delta_t = r_t + gamma (1 - done_t) V_(t+1) - V_t with V_T = last_value; A_t = delta_t +
gamma lam (1 - done_t) A_(t+1); returns = A + values. Oracle: the sum over k of
(gamma lam)^k delta_(t+k) episode by episode in plain floats. Closed forms: lam = 0 gives the TD
errors delta_t, lam = 1 gives the discounted return minus V when every episode ends inside the
tensor. last_value as a float, a 0-d tensor and one value per stream.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("gae")

F64 = torch.float64
TOL = dict(rtol=1e-9, atol=1e-10)


def inputs(gen, shape, p_done=0.4):
    rewards, dones = H.episodes(gen, shape, p_done)
    values = torch.randn(*shape, generator=gen, dtype=F64)
    return rewards, values, dones


@pytest.mark.parametrize("shape,last", [((12,), "float"), ((10, 3), "per stream"), ((9, 2), "0-d"),
                                        ((1,), "float"), ((6, 1), "per stream")],
                         ids=["T", "TxB", "TxB-scalar-last", "T=1", "B=1"])
def test_matches_episode_loop(sub, observe, device, gen, shape, last):
    """matches the sum of discounted TD errors within each episode; returns = advantages + values"""
    rewards, values, dones = inputs(gen, shape)
    gamma = float(torch.empty(()).uniform_(0.8, 0.99, generator=gen))
    lam = float(torch.empty(()).uniform_(0.5, 0.95, generator=gen))
    if last == "float":
        last_value = float(torch.randn((), generator=gen))
    elif last == "0-d":
        last_value = torch.randn((), generator=gen, dtype=F64).to(device)
    else:
        last_value = torch.randn(shape[1:], generator=gen, dtype=F64).to(device)
    adv, ret = H.call_pair(sub.gae, rewards.to(device), values.to(device), dones.to(device), last_value, gamma, lam)
    last_cpu = last_value.cpu() if torch.is_tensor(last_value) else last_value
    expected = H.loop_gae(rewards, values, dones, last_cpu, gamma, lam)
    expect_close(adv.cpu(), expected, "A_t = sum_k (gamma lam)^k delta_(t+k) within t's episode, V_T = last_value",
                 **TOL, name="advantages")
    expect_close(ret.cpu(), expected + values, "returns = advantages + values", **TOL, name="returns")
    observe("advantages", adv)
    observe("returns", ret)


def test_lambda_zero_is_td_error(sub, observe, device, gen):
    """lam = 0 gives the one-step TD errors delta_t (the last episodes cut off: V_T = last_value counts)"""
    rewards, values, dones = inputs(gen, (10, 2))
    dones[-1] = 0.0
    last = torch.randn(2, generator=gen, dtype=F64)
    adv, _ = H.call_pair(sub.gae, rewards.to(device), values.to(device), dones.to(device), last.to(device), 0.9, 0.0)
    nxt = torch.cat([values[1:], last[None]])
    expect_close(adv.cpu(), rewards + 0.9 * (1 - dones) * nxt - values,
                 "with lam = 0 the advantage is delta_t = r_t + gamma (1 - done_t) V_(t+1) - V_t",
                 **TOL, name="advantages")
    observe("advantages", adv)


def test_lambda_one_is_return_minus_value(sub, observe, device, gen):
    """lam = 1 on complete episodes gives the discounted return minus V"""
    rewards, values, dones = inputs(gen, (11, 3))
    dones[-1] = 1.0  # every episode ends inside the tensor
    adv, ret = H.call_pair(sub.gae, rewards.to(device), values.to(device), dones.to(device), 0.0, 0.95, 1.0)
    G = H.loop_returns(rewards, dones, 0.95)
    expect_close(adv.cpu(), G - values, "with lam = 1 and complete episodes, A_t = G_t - V_t", **TOL, name="advantages")
    expect_close(ret.cpu(), G, "with lam = 1 and complete episodes, the returns are the discounted returns",
                 **TOL, name="returns")
    observe("advantages", adv)


def test_bootstraps_from_last_value(sub, observe, device, gen):
    """an unfinished last episode bootstraps from last_value, a finished one ignores it"""
    rewards, values, _ = inputs(gen, (6,))
    dones = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0, 0.0], dtype=F64)  # the second episode is cut off
    adv1, _ = H.call_pair(sub.gae, rewards.to(device), values.to(device), dones.to(device), 0.0, 0.9, 0.9)
    adv2, _ = H.call_pair(sub.gae, rewards.to(device), values.to(device), dones.to(device), 1.0, 0.9, 0.9)
    change = torch.tensor([0.0, 0.0] + [0.81 ** (5 - t) * 0.9 for t in range(2, 6)], dtype=F64)
    expect_close((adv2 - adv1).cpu(), change,
                 "raising last_value by 1 raises A_t by gamma (gamma lam)^(T-1-t) in the last episode only",
                 **TOL, name="change of the advantages")
    dones[-1] = 1.0
    adv3, _ = H.call_pair(sub.gae, rewards.to(device), values.to(device), dones.to(device), 123.0, 0.9, 0.9)
    adv4, _ = H.call_pair(sub.gae, rewards.to(device), values.to(device), dones.to(device), -5.0, 0.9, 0.9)
    expect_close(adv3.cpu(), adv4.cpu(), "when the last episode has ended, last_value is not used", **TOL)
    observe("advantages", adv1)


def test_float32_and_bool_dones(sub, observe, device, gen):
    """float32 inputs and boolean dones"""
    rewards, values, dones = inputs(gen, (8, 2))
    adv, ret = H.call_pair(sub.gae, rewards.float().to(device), values.float().to(device), dones.bool().to(device),
                           torch.zeros(2).to(device), 0.99, 0.95)
    ok = bool(adv.dtype == torch.float32)
    assert ok, (
        f"the advantages keep the inputs' dtype float32, got {adv.dtype}")
    expect_close(adv.double().cpu(), H.loop_gae(rewards, values, dones, torch.zeros(2, dtype=F64), 0.99, 0.95),
                 "GAE in float32 with boolean dones", rtol=1e-4, atol=1e-5, name="advantages")
    observe("advantages", adv)
