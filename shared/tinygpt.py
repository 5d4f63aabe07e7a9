"""A tiny pre-trained character-level GPT: the frozen base model of the LoRA assignment.

The weights in ``shared/weights/tinygpt_stdlib.pt`` were trained on Python's standard-library
sources by ``scripts/train_lora_base.py`` (deterministic: rerun it to reproduce them). Notebooks
and tests load the model the same way::

    from shared.tinygpt import load_tinygpt
    model, tokenizer = load_tinygpt()          # frozen? no: plain nn.Module, eval mode
    logits = model(tokenizer.encode("def f(x):").unsqueeze(0))   # (1, 9, V)

Shapes: B batch, L sequence length, D model width, V vocabulary size, H heads.

Every linear map is an ``nn.Linear`` with a documented name, so LoRA can target it by name:
``blocks.<i>.attn.query``, ``.key``, ``.value``, ``.out``, ``blocks.<i>.mlp.up``, ``.down`` and ``head``.
``forward`` also accepts input embeddings and a padding mask (prompt tuning needs both).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "TASK_MODULES", "VOCAB", "WEIGHTS", "CharGPT", "TinyGPTConfig", "clean_text", "finetune_task", "load_tinygpt",
    "restyle", "save_tinygpt", "state_digest", "tokenizer",
]

WEIGHTS = Path(__file__).parent / "weights" / "tinygpt_stdlib.pt"
VOCAB = "\t\n" + "".join(chr(c) for c in range(32, 127))
"""The fixed vocabulary: tab, newline and printable ASCII (97 characters)."""


@dataclass
class TinyGPTConfig:
    vocab_size: int = len(VOCAB)
    block_size: int = 64  # longest sequence (prompt tokens included)
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    mlp_ratio: int = 4


class Attention(nn.Module):
    """Causal multi-head self-attention with separate query/key/value/out projections, computed by
    ``F.scaled_dot_product_attention``."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        H = self.n_heads

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(B, L, H, D // H).transpose(1, 2)  # (B, H, L, D/H)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        # torch's own attention (the transformers assignment asks students to write it, so it is not here)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)  # (B, H, L, D/H)
        return self.out(y.transpose(1, 2).reshape(B, L, D))


class MLP(nn.Module):
    def __init__(self, d_model: int, hidden: int) -> None:
        super().__init__()
        self.up = nn.Linear(d_model, hidden)
        self.down = nn.Linear(hidden, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln1(x)), then + mlp(ln2(x))."""

    def __init__(self, cfg: TinyGPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg.d_model, cfg.n_heads)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg.d_model, cfg.mlp_ratio * cfg.d_model)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), allowed)
        return x + self.mlp(self.ln2(x))


class CharGPT(nn.Module):
    """Token and learned position embeddings, ``n_layers`` pre-norm blocks, final norm, linear head."""

    def __init__(self, cfg: TinyGPTConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or TinyGPTConfig()
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.d_model)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``(B, L, D)`` of ids ``(B, L)`` (positions are added in ``forward``)."""
        return self.tok_emb(idx)

    def forward(
        self,
        idx: torch.Tensor | None = None,
        *,
        embeds: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Next-token logits ``(B, L, V)`` from ids ``idx`` ``(B, L)`` or input embeddings ``(B, L, D)``.

        ``attention_mask`` ``(B, L)``: 1 for real inputs, 0 for padding; a query never attends a
        padded key (except itself, so that no row is empty). Attention is causal.
        """
        if (idx is None) == (embeds is None):
            raise ValueError("pass exactly one of idx and embeds")
        x = self.embed(idx) if embeds is None else embeds  # (B, L, D)
        B, L, _ = x.shape
        if L > self.cfg.block_size:
            raise ValueError(f"sequence of length {L} exceeds block_size {self.cfg.block_size}")
        x = x + self.pos_emb(torch.arange(L, device=x.device))
        allowed = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()  # (L, L) causal
        if attention_mask is not None:
            keys = attention_mask.to(torch.bool)[:, None, None, :]  # (B, 1, 1, L)
            allowed = allowed & (keys | torch.eye(L, dtype=torch.bool, device=x.device))  # (B, 1, L, L)
        for block in self.blocks:
            x = block(x, allowed)
        return self.head(self.ln_f(x))

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, n: int, temperature: float = 1.0, generator=None) -> torch.Tensor:
        """Append ``n`` sampled tokens to ``idx`` ``(B, L)`` (greedy when ``temperature == 0``)."""
        for _ in range(n):
            logits = self(idx[:, -self.cfg.block_size :])[:, -1]  # (B, V)
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def tokenizer():
    """The base model's character tokenizer (``shared.data.CharTokenizer`` over :data:`VOCAB`)."""
    from shared.data import CharTokenizer

    tok = CharTokenizer()
    tok.chars = list(VOCAB)
    tok.stoi = {ch: i for i, ch in enumerate(tok.chars)}
    return tok


def clean_text(text: str) -> str:
    """Replace every character outside :data:`VOCAB` by ``?`` (the stdlib has a little non-ASCII text)."""
    allowed = set(VOCAB)
    return "".join(ch if ch in allowed else "?" for ch in text.replace("\r", ""))


def state_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of a state dict (bit-for-bit identity)."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def load_tinygpt(path: str | Path | None = None, device: torch.device | str | None = None):
    """The pre-trained base model (eval mode, float32) and its tokenizer: ``(model, tokenizer)``.

    The file holds ``{"config": dict, "state_dict": ...}`` written by ``scripts/train_lora_base.py``.
    """
    ckpt = torch.load(Path(path) if path is not None else WEIGHTS, map_location="cpu", weights_only=True)
    model = CharGPT(TinyGPTConfig(**ckpt["config"]))
    model.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
    return model.to(device).eval(), tokenizer()


def save_tinygpt(model: CharGPT, path: str | Path, **meta) -> None:
    """Write the checkpoint format :func:`load_tinygpt` reads (``meta``: plain values recorded alongside)."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": asdict(model.cfg), "state_dict": state, "meta": meta}, path)


# --------------------------------------------------------------------------- the fine-tuning task

TASK_MODULES = ("inspect", "ast", "typing", "logging", "unittest")
"""Standard-library modules the base model never saw (``scripts/train_lora_base.py`` leaves them out)."""


def restyle(text: str) -> str:
    """The new style, a synthetic mapping: spaces and underscores trade places (``def_f(self,_max value):``)."""
    return text.translate(str.maketrans({" ": "_", "_": " "}))


@functools.lru_cache(maxsize=1)
def _task_ids() -> torch.Tensor:
    from shared.data import stdlib_text

    return tokenizer().encode(restyle(clean_text(stdlib_text(max_chars=150_000, modules=TASK_MODULES))))


def finetune_task(n: int, seq_len: int = 64, seed: int = 0, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Next-character data in a style the base model never met: ``(inputs, targets)``, long ``(n, seq_len)``.

    Source code of standard-library modules left out of pre-training (:data:`TASK_MODULES`),
    rewritten by :func:`restyle` (every space becomes an underscore and every underscore a space).
    ``targets[:, t]`` is the character after ``inputs[:, t]``. The first
    90% of the text is the ``"train"`` split, the rest ``"val"``; windows are drawn with ``seed``.
    """
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    ids = _task_ids()
    cut = int(0.9 * len(ids))
    data = ids[:cut] if split == "train" else ids[cut:]
    starts = torch.randint(0, len(data) - seq_len - 1, (n,), generator=torch.Generator().manual_seed(seed))
    windows = torch.stack([data[s : s + seq_len + 1] for s in starts.tolist()])  # (n, seq_len + 1)
    return windows[:, :-1].clone(), windows[:, 1:].clone()
