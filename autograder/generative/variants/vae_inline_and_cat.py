# VARIANT: vae
# WHY: the heads written as explicit matmuls, keyword arguments, and the sigmoid written by hand in sample
# %%
# GRADED: vae
import torch
import torch.nn as nn


class VAE(nn.Module):
    def __init__(self, data_dim=64, hidden_dim=128, latent_dim=8):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden_dim), nn.ReLU())
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, data_dim))

    def forward(self, x, generator=None):
        h = self.encoder(x)
        mu = h @ self.to_mu.weight.T + self.to_mu.bias
        logvar = h @ self.to_logvar.weight.T + self.to_logvar.bias
        z = reparameterize(mu=mu, logvar=logvar, generator=generator)  # noqa: F821 (the reparameterize cell)
        x_logits = self.decoder(z)
        return x_logits, mu, logvar

    def sample(self, n, generator=None):
        p = next(self.decoder.parameters())
        with torch.no_grad():
            z = torch.randn(n, self.latent_dim, generator=generator)
            logits = self.decoder(z.to(device=p.device, dtype=p.dtype))
        return 1 / (1 + torch.exp(-logits))
