"""A numpy Llama forward pass over the dequantised GGUF weights: the reference for Trainer's LlamaModel.

Usage: llama_reference.py MODEL.gguf ID,ID,... [GREEDY_STEPS] -> JSON: logits of every prompt position (top 10
and a strided sample of the last position's) and the greedy continuation ids.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from gguf_reference import dequantize, read  # noqa: E402


def main():
    path, ids = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    data, version, meta, tensors, start = read(path)
    table = {name: (dims, kind, offset) for name, dims, kind, offset in tensors}

    def weight(name):
        dims, kind, offset = table[name]
        return dequantize(data, kind, start + offset, int(np.prod(dims))).astype(np.float32).reshape(list(reversed(dims)))

    layers = meta["llama.block_count"]
    heads, kv_heads = meta["llama.attention.head_count"], meta["llama.attention.head_count_kv"]
    dim = meta["llama.embedding_length"]
    head_dim = dim // heads
    eps = meta["llama.attention.layer_norm_rms_epsilon"]
    theta = meta["llama.rope.freq_base"]
    embed = weight("token_embd.weight")
    W = {}
    for layer in range(layers):
        for part in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]:
            W[layer, part] = weight(f"blk.{layer}.{part}.weight")
    out_norm = weight("output_norm.weight")

    def rms(x, w):
        return x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + eps).astype(np.float32) * w

    def rope(x, positions):
        # llama GGUF files store Q and K permuted so that RoPE rotates adjacent pairs (2i, 2i + 1).
        half = np.arange(0, head_dim, 2, dtype=np.float64)
        freq = theta ** (-half / head_dim)
        angle = positions[:, None] * freq[None, :]
        cos, sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
        a, b = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = a * cos[:, None, :] - b * sin[:, None, :]
        out[..., 1::2] = a * sin[:, None, :] + b * cos[:, None, :]
        return out

    def forward(tokens):
        T = len(tokens)
        x = embed[tokens]
        positions = np.arange(T, dtype=np.float64)
        mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
        for layer in range(layers):
            h = rms(x, W[layer, "attn_norm"])
            q = rope((h @ W[layer, "attn_q"].T).reshape(T, heads, head_dim), positions)
            k = rope((h @ W[layer, "attn_k"].T).reshape(T, kv_heads, head_dim), positions)
            v = (h @ W[layer, "attn_v"].T).reshape(T, kv_heads, head_dim)
            group = heads // kv_heads
            k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
            scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(head_dim) + mask
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attn = np.einsum("hts,shd->thd", scores, v).reshape(T, dim)
            x = x + attn @ W[layer, "attn_output"].T
            h = rms(x, W[layer, "ffn_norm"])
            gate = h @ W[layer, "ffn_gate"].T
            x = x + ((gate / (1 + np.exp(-gate))) * (h @ W[layer, "ffn_up"].T)) @ W[layer, "ffn_down"].T
        return rms(x, out_norm) @ embed.T

    logits = forward(ids)
    last = logits[-1]
    report = {"ids": ids, "positions": [], "last_strided": last[::97].tolist(), "last_norm": float(np.linalg.norm(last))}
    for row in logits:
        top = np.argsort(-row)[:10]
        report["positions"].append({"top_ids": top.tolist(), "top_logits": row[top].tolist()})
    generated = list(ids)
    for _ in range(steps):
        generated.append(int(np.argmax(forward(generated)[-1])))
    report["greedy"] = generated[len(ids):]
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
