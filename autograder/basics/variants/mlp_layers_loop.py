# VARIANT: mlp
# WHY: calls the layer functions, but collects the caches in a list, walks them backwards in a loop,
# and adds the penalty and its gradient in a second loop over the weight names.
# %%
# GRADED: mlp
import torch


class TwoLayerNet:
    def __init__(self, input_dim, hidden_dim, num_classes, weight_scale=1e-3, reg=0.0, generator=None):
        self.reg = reg
        self.params = {
            "W1": weight_scale * torch.randn(input_dim, hidden_dim, generator=generator, dtype=torch.float64),
            "b1": torch.zeros(hidden_dim, dtype=torch.float64),
            "W2": weight_scale * torch.randn(hidden_dim, num_classes, generator=generator, dtype=torch.float64),
            "b2": torch.zeros(num_classes, dtype=torch.float64),
        }

    def loss(self, X, y=None):
        p = self.params
        h1, c1 = affine_forward(X, p["W1"], p["b1"])  # noqa: F821
        h2, c2 = relu_forward(h1)  # noqa: F821
        scores, c3 = affine_forward(h2, p["W2"], p["b2"])  # noqa: F821
        if y is None:
            return scores
        loss, d = softmax_loss(scores, y)  # noqa: F821
        grads = {}
        d, grads["W2"], grads["b2"] = affine_backward(d, c3)  # noqa: F821
        d = relu_backward(d, c2)  # noqa: F821
        _, grads["W1"], grads["b1"] = affine_backward(d, c1)  # noqa: F821
        for name in ("W1", "W2"):
            loss = loss + 0.5 * self.reg * torch.sum(p[name] ** 2)
            grads[name] = grads[name] + self.reg * p[name]
        return loss, grads
