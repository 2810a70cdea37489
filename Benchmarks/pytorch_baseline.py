"""The PyTorch peer for `azr bench trainer`: the same model, the same work, fp32, on this machine's CPU.

Usage: pytorch_baseline.py MODEL.gguf THREADS [--sequences 4] [--length 512] [--check IDS]
Prints one JSON object: train_tokens_per_s (one forward + backward + AdamW step on SEQUENCES x LENGTH tokens,
after a warm-up step, the first 16 positions of each sequence unscored as in ours), decode_tokens_per_s_batch32
(32 prompts of 8 tokens, 64 greedy tokens each, with a KV cache), group_decode_tokens_per_s (4 prompts of 512
tokens, 8 samples each at temperature 1, 128 new tokens: the plain batched decode of 32 sequences, each
prefilled), torch_version, threads. Reads llama and qwen2 files (qwen2: projection biases, half-split RoPE,
untied output). With --check, prints instead the greedy ids after the comma-separated prompt IDS, to compare
with Tests/TrainerTests/reference/llama_reference.py.

torch is not a dependency of AZR Gym: `azr bench trainer` runs this only when `python3 -c "import torch"`
works, and quotes the issue's figures otherwise.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Tests" / "TrainerTests" / "reference"))
from gguf_reference import dequantize, read  # noqa: E402

PARTS = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]


class Llama(torch.nn.Module):
    """A llama or qwen2 decoder over a GGUF file's weights (tied output when there is no output.weight)."""

    def __init__(self, path, max_positions=4096):
        super().__init__()
        data, _, meta, tensors, start = read(path)
        table = {name: (dims, kind, offset) for name, dims, kind, offset in tensors}
        arch = meta["general.architecture"]
        if arch not in ("llama", "qwen2"):
            raise SystemExit(f"{path}: the baseline covers llama and qwen2 files, not {arch}")
        self.halves = arch == "qwen2"

        def weight(name):
            dims, kind, offset = table[name]
            values = dequantize(data, kind, start + offset, int(np.prod(dims))).astype(np.float32)
            return torch.nn.Parameter(torch.from_numpy(values.reshape(list(reversed(dims)))).contiguous())

        self.layers = meta[f"{arch}.block_count"]
        self.heads, self.kv_heads = meta[f"{arch}.attention.head_count"], meta[f"{arch}.attention.head_count_kv"]
        self.dim = meta[f"{arch}.embedding_length"]
        self.head_dim = self.dim // self.heads
        self.eps = meta[f"{arch}.attention.layer_norm_rms_epsilon"]
        theta = meta[f"{arch}.rope.freq_base"]
        self.embed = weight("token_embd.weight")
        self.output = weight("output.weight") if "output.weight" in table else None
        self.out_norm = weight("output_norm.weight")
        blocks = {f"{layer}_{part}": weight(f"blk.{layer}.{part}.weight") for layer in range(self.layers) for part in PARTS}
        for layer in range(self.layers):
            for part in ("attn_q", "attn_k", "attn_v"):
                if f"blk.{layer}.{part}.bias" in table:
                    blocks[f"{layer}_{part}_bias"] = weight(f"blk.{layer}.{part}.bias")
        self.blocks = torch.nn.ParameterDict(blocks)
        freq = theta ** (-torch.arange(0, self.head_dim, 2, dtype=torch.float64) / self.head_dim)
        angle = torch.arange(max_positions, dtype=torch.float64)[:, None] * freq[None, :]
        self.cos, self.sin = angle.cos().float(), angle.sin().float()

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, first):
        T = x.shape[1]
        cos, sin = self.cos[first:first + T][None, :, None, :], self.sin[first:first + T][None, :, None, :]
        if self.halves:
            # qwen2 keeps the GPT-NeoX layout: coordinate i pairs with i + head_dim / 2.
            a, b = x[..., :self.head_dim // 2], x[..., self.head_dim // 2:]
            return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
        # llama GGUF files store Q and K permuted, so RoPE rotates adjacent pairs (2i, 2i + 1).
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)

    def project(self, h, layer, part):
        y = h @ self.blocks[f"{layer}_{part}"].T
        bias = f"{layer}_{part}_bias"
        return y + self.blocks[bias] if bias in self.blocks else y

    def forward(self, tokens, cache=None, first=0, scored_from=0):
        """tokens: (B, T). cache: per layer (keys, values) of shape (B, kv_heads, S, head_dim), extended here.
        Logits for positions scored_from.. only (the output projection runs for them alone)."""
        B, T = tokens.shape
        x = self.embed[tokens]
        group = self.heads // self.kv_heads
        for layer in range(self.layers):
            w = lambda part: self.blocks[f"{layer}_{part}"]  # noqa: E731
            h = self.rms(x, w("attn_norm"))
            q = self.rope(self.project(h, layer, "attn_q").view(B, T, self.heads, self.head_dim), first).transpose(1, 2)
            k = self.rope(self.project(h, layer, "attn_k").view(B, T, self.kv_heads, self.head_dim), first).transpose(1, 2)
            v = self.project(h, layer, "attn_v").view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
            if cache is not None:
                if layer in cache:
                    k, v = torch.cat([cache[layer][0], k], 2), torch.cat([cache[layer][1], v], 2)
                cache[layer] = (k, v)
            k, v = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
            attention = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)
            x = x + attention.transpose(1, 2).reshape(B, T, self.dim) @ w("attn_output").T
            h = self.rms(x, w("ffn_norm"))
            x = x + (F.silu(h @ w("ffn_gate").T) * (h @ w("ffn_up").T)) @ w("ffn_down").T
        out = self.output if self.output is not None else self.embed
        return self.rms(x[:, scored_from:], self.out_norm) @ out.T


UNSCORED = 16


def train_rate(model, batch, length, vocabulary):
    generator = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, vocabulary, (batch, length), generator=generator)
    advantages = torch.randn(batch, length - 1 - UNSCORED, generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0, weight_decay=0.01)

    def step():
        optimizer.zero_grad(set_to_none=False)
        logits = model(tokens[:, :-1], scored_from=UNSCORED)
        chosen = F.log_softmax(logits, -1).gather(-1, tokens[:, 1 + UNSCORED:, None]).squeeze(-1)
        loss = -(chosen * advantages).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    step()  # allocates gradients and moments
    started = time.perf_counter()
    step()
    return batch * length / (time.perf_counter() - started)


@torch.inference_mode()
def decode_rate(model, vocabulary, batch=32, prompt=8, new=64):
    generator = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, vocabulary, (batch, prompt), generator=generator)
    started = time.perf_counter()
    cache = {}
    logits = model(tokens, cache, 0)
    for position in range(prompt, prompt + new):
        next_tokens = logits[:, -1].argmax(-1, keepdim=True)
        if position == prompt + new - 1:
            break
        logits = model(next_tokens, cache, position)
    return batch * new / (time.perf_counter() - started)


@torch.inference_mode()
def group_decode_rate(model, vocabulary, prompts=4, samples=8, prompt=512, new=128):
    """The plain batched decode of learnability groups: every sample prefills its prompt, then all decode."""
    generator = torch.Generator().manual_seed(3)
    tokens = torch.randint(0, vocabulary, (prompts, prompt), generator=generator).repeat_interleave(samples, 0)
    started = time.perf_counter()
    cache = {}
    logits = model(tokens, cache, 0)
    for position in range(prompt, prompt + new):
        next_tokens = torch.multinomial(F.softmax(logits[:, -1], -1), 1, generator=generator)
        if position == prompt + new - 1:
            break
        logits = model(next_tokens, cache, position)
    return prompts * samples * new / (time.perf_counter() - started)


@torch.inference_mode()
def greedy(model, ids, steps):
    cache, out = {}, []
    logits = model(torch.tensor([ids]), cache, 0)
    for position in range(len(ids), len(ids) + steps):
        token = int(logits[0, -1].argmax())
        out.append(token)
        logits = model(torch.tensor([[token]]), cache, position)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("threads", type=int)
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--check")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Llama(args.model, max_positions=max(4096, args.length + 8))
    vocabulary = model.embed.shape[0]
    if args.check:
        print(json.dumps({"greedy": greedy(model, [int(x) for x in args.check.split(",")], 8)}))
        return
    train = train_rate(model, args.sequences, args.length, vocabulary)
    decode = decode_rate(model, vocabulary)
    group = group_decode_rate(model, vocabulary)
    print(json.dumps({"torch_version": torch.__version__, "threads": args.threads, "train_tokens_per_s": train,
                      "decode_tokens_per_s_batch32": decode, "group_decode_tokens_per_s": group}))


if __name__ == "__main__":
    main()
