# MUTANT: mlp
# WHY: the gradient reaches the first layer without going through the ReLU's backward pass
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
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        a, cache1 = affine_forward(X, W1, b1)  # noqa: F821
        hidden, cache_relu = relu_forward(a)  # noqa: F821
        scores, cache2 = affine_forward(hidden, W2, b2)  # noqa: F821
        if y is None:
            return scores
        data_loss, dscores = softmax_loss(scores, y)  # noqa: F821
        loss = data_loss + 0.5 * self.reg * ((W1 * W1).sum() + (W2 * W2).sum())
        dhidden, dW2, db2 = affine_backward(dscores, cache2)  # noqa: F821
        da = dhidden
        _, dW1, db1 = affine_backward(da, cache1)  # noqa: F821
        grads = {"W1": dW1 + self.reg * W1, "b1": db1, "W2": dW2 + self.reg * W2, "b2": db2}
        return loss, grads
