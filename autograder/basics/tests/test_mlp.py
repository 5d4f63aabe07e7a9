"""Hidden tests of `TwoLayerNet.loss(X, y=None)`: scores (N, C) when y is None, else (loss, grads).

scores = relu(X W1 + b1) W2 + b2; loss = mean cross-entropy + 0.5 reg (||W1||^2 + ||W2||^2);
grads[name] has params[name]'s shape, with reg * W added to the weights' gradients (not the biases').

The layer functions the network calls by name (affine_forward/backward, relu_forward/backward,
softmax_loss) are pointed at trusted stand-ins (helpers.TRUSTED), so these tests depend on the
network alone. Oracle: an nn.Sequential with the same weights, F.cross_entropy plus the penalty, and
autograd. Every test asks for the scores AND the loss and gradients (with a penalty in all but one),
and checks that neither X nor the parameters were modified.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers, substitute

pytestmark = pytest.mark.question("mlp")

H = load_helpers(__file__)
F64, randn, labels, unchanged, as_float, check_shape = H.F64, H.randn, H.labels, H.unchanged, H.as_float, H.check_shape


def run(sub, model, X, y, device):
    """scores, loss, grads of the student's network with trusted layer functions; inputs checked unchanged."""
    before = {"X": X.clone(), **{f"params['{k}']": v.clone() for k, v in model.params.items()}}
    with substitute(sub, **H.TRUSTED):
        scores = model.loss(X)
        out = model.loss(X, y)
    ok = bool(isinstance(scores, torch.Tensor))
    assert ok, f"loss(X) with y=None must return the scores tensor, got {type(scores).__name__}"
    check_shape(scores, (X.shape[0], model.params["W2"].shape[1]), "the scores (N, C)")
    ok = bool(isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict))
    assert ok, "loss(X, y) must return the pair (loss, grads) with grads a dict"
    loss, grads = out
    loss = as_float(loss, "TwoLayerNet.loss")
    ok = bool(set(grads) == set(H.PARAM_NAMES))
    assert ok, f"grads must have exactly the keys of params {list(H.PARAM_NAMES)}, got {sorted(grads)}"
    for name in H.PARAM_NAMES:
        check_shape(grads[name], model.params[name].shape, f"grads['{name}'] (the shape of params['{name}'])")
    unchanged(before, {"X": X, **{f"params['{k}']": v for k, v in model.params.items()}}, "TwoLayerNet.loss")
    return scores, loss, grads


def check_against_oracle(observe, got, params, X, y, reg):
    scores, loss, grads = got
    want_scores, want_loss, want_grads = H.torch_loss_and_grads(params, X, y, reg)
    expect_close(scores.cpu(), want_scores,
                 "scores = relu(X W1 + b1) W2 + b2, the raw class scores (no softmax when y is None)",
                 rtol=1e-10, atol=1e-12, name="scores")
    expect_close(loss, want_loss,
                 f"loss = mean cross-entropy + 0.5 * reg * (||W1||^2 + ||W2||^2) with reg = {reg} (biases are not "
                 "penalised)", rtol=1e-10, atol=1e-12, name="loss")
    hints = {"W1": "the gradient flows back through W2^T and the ReLU's mask, then x^T (.); plus reg * W1",
             "b1": "the upstream gradient at the hidden layer (after the ReLU's mask), summed over the batch",
             "W2": "hidden^T @ dscores, plus reg * W2 (the penalty 0.5 reg ||W2||^2 has gradient reg * W2)",
             "b2": "dscores summed over the batch"}
    for name in H.PARAM_NAMES:
        expect_close(grads[name].cpu(), want_grads[name], f"grads['{name}'] differs from autograd's: {hints[name]}",
                     rtol=1e-9, atol=1e-12, name=f"grads['{name}']")
    observe("scores", scores)
    observe("loss", loss, rtol=1e-10, atol=1e-12)
    for name in H.PARAM_NAMES:
        observe(f"grads['{name}']", grads[name], rtol=1e-9, atol=1e-12)


CASES = [(1, 2, 3, 2, 0.1), (5, 4, 6, 3, 0.05), (8, 3, 10, 4, 0.3), (6, 5, 7, 3, 0.0), (4, 1, 5, 2, 0.2)]


@pytest.mark.parametrize("N,D,Hd,C,reg", CASES, ids=[f"N{n}-D{d}-H{h}-C{c}-reg{r}" for n, d, h, c, r in CASES])
def test_matches_autograd(sub, observe, device, gen, N, D, Hd, C, reg):
    """scores, loss and every gradient match an nn.Sequential differentiated by autograd"""
    params = H.net_params(gen, D, Hd, C)
    X, y = randn(gen, N, D).to(device), labels(gen, N, C).to(device)
    model = H.load_net(sub, params, reg, device)
    check_against_oracle(observe, run(sub, model, X, y, device), params, X, y, reg)


def test_reads_reg_when_called(sub, observe, device, gen):
    """uses the regularisation strength self.reg holds when loss is called"""
    params = H.net_params(gen, 3, 6, 3)
    X, y = randn(gen, 5, 3).to(device), labels(gen, 5, 3).to(device)
    model = H.load_net(sub, params, 0.0, device)
    model.reg = 0.25
    check_against_oracle(observe, run(sub, model, X, y, device), params, X, y, 0.25)


def test_without_autograd(sub, observe, device, gen):
    """computes the gradients by hand: works under torch.no_grad() on parameters that do not require grad"""
    params = H.net_params(gen, 4, 8, 3)
    X, y = randn(gen, 6, 4).to(device), labels(gen, 6, 3).to(device)
    model = H.load_net(sub, params, 0.1, device)
    with torch.no_grad():
        got = run(sub, model, X, y, device)
    ok = bool(not any(g.requires_grad for g in got[2].values()))
    assert ok, "the gradients must be plain tensors: compute them with the layer functions' backward passes"
    check_against_oracle(observe, got, params, X, y, 0.1)
