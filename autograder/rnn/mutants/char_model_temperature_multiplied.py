# MUTANT: char_model
# WHY: multiplies the scores by the temperature instead of dividing, so temperature has the opposite effect.
# %%
# GRADED: char_model
import torch
import torch.nn as nn


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=32, hidden_size=128, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


def sample(model, prefix, n, temperature=1.0, generator=None):
    with torch.no_grad():
        logits, state = model(prefix)
        tokens = [prefix]
        for step in range(n):
            last = logits[:, -1, :]
            if temperature == 0:
                nxt = last.argmax(dim=-1, keepdim=True)
            else:
                probs = torch.softmax(last * temperature, dim=-1)
                nxt = torch.multinomial(probs, num_samples=1, generator=generator)
            tokens.append(nxt)
            if step + 1 < n:
                logits, state = model(nxt, state)
    return torch.cat(tokens, dim=1)
