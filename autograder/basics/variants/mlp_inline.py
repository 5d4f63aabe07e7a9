# VARIANT: mlp
# WHY: does not call the layer functions at all: the whole forward and backward pass written inline
# with matmuls, a boolean mask and a log-sum-exp, and the penalty with torch.linalg.vector_norm.
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
        N = X.shape[0]
        X2 = X.reshape(N, -1)
        a = X2 @ W1 + b1
        on = a > 0
        h = torch.where(on, a, torch.zeros_like(a))
        scores = h @ W2 + b2
        if y is None:
            return scores
        m = scores.max(dim=1, keepdim=True).values
        logp = scores - m - (scores - m).exp().sum(dim=1, keepdim=True).log()
        rows = torch.arange(N, device=X.device)
        penalty = torch.linalg.vector_norm(W1) ** 2 + torch.linalg.vector_norm(W2) ** 2
        loss = -logp[rows, y].sum() / N + self.reg / 2 * penalty
        ds = logp.exp()
        ds[rows, y] -= 1.0
        ds = ds / N
        dh = ds @ W2.T
        da = dh * on
        return loss, {"W1": X2.T @ da + self.reg * W1, "b1": da.sum(0), "W2": h.T @ ds + self.reg * W2,
                      "b2": ds.sum(0)}
