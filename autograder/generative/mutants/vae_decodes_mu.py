# MUTANT: vae
# WHY: the decoder gets the mean mu instead of a sampled z
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
        mu, logvar = self.to_mu(h), self.to_logvar(h)
        reparameterize(mu, logvar, generator)  # noqa: F821 (the reparameterize cell)
        return self.decoder(mu), mu, logvar

    @torch.no_grad()
    def sample(self, n, generator=None):
        w = self.to_mu.weight
        z = torch.randn(n, self.latent_dim, generator=generator).to(w.device, w.dtype)
        return torch.sigmoid(self.decoder(z))
