# VARIANT: char_model
# WHY: forward through F.embedding on the embedding's weight; sample keeps a running token tensor,
# picks the greedy token with topk, and calls the model after every new token (one call more than needed).
# %%
# GRADED: char_model
import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=32, hidden_size=128, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        hidden, (h, c) = self.lstm(F.embedding(idx, self.embed.weight), state)
        return self.head(hidden), (h, c)


@torch.no_grad()
def sample(model, prefix, n, temperature=1.0, generator=None):
    out = prefix.clone()
    logits, state = model(prefix)
    for _ in range(n):
        scores = logits[:, -1]
        if temperature == 0:
            nxt = torch.topk(scores, 1, dim=-1).indices
        else:
            nxt = torch.multinomial(F.softmax(scores / temperature, dim=-1), 1, generator=generator)
        out = torch.cat((out, nxt), dim=1)
        logits, state = model(nxt, state)
    return out
