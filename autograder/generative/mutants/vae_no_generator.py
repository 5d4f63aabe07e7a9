# MUTANT: vae
# WHY: forward does not pass its generator on when it samples the latent code
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
        z = reparameterize(mu, logvar)  # noqa: F821 (the reparameterize cell)
        return self.decoder(z), mu, logvar

    @torch.no_grad()
    def sample(self, n, generator=None):
        w = self.to_mu.weight
        z = torch.randn(n, self.latent_dim, generator=generator).to(w.device, w.dtype)
        return torch.sigmoid(self.decoder(z))
