"""A numpy Llama/qwen2 forward pass over the dequantised GGUF weights: the reference for Trainer's LlamaModel.

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

    arch = meta["general.architecture"]
    layers = meta[f"{arch}.block_count"]
    heads, kv_heads = meta[f"{arch}.attention.head_count"], meta[f"{arch}.attention.head_count_kv"]
    dim = meta[f"{arch}.embedding_length"]
    head_dim = dim // heads
    eps = meta[f"{arch}.attention.layer_norm_rms_epsilon"]
    theta = meta[f"{arch}.rope.freq_base"]
    embed = weight("token_embd.weight")
    output = weight("output.weight") if "output.weight" in table else embed
    W = {}
    for layer in range(layers):
        for part in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]:
            W[layer, part] = weight(f"blk.{layer}.{part}.weight")
        for part in ["attn_q", "attn_k", "attn_v"]:
            name = f"blk.{layer}.{part}.bias"
            W[layer, part + ".bias"] = weight(name) if name in table else 0
    out_norm = weight("output_norm.weight")

    def rms(x, w):
        return x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + eps).astype(np.float32) * w

    def rope(x, positions):
        # llama GGUF files store Q and K permuted so that RoPE rotates adjacent pairs (2i, 2i + 1); qwen2 files
        # keep the GPT-NeoX layout, pairs (i, i + head_dim / 2).
        half = np.arange(0, head_dim, 2, dtype=np.float64)
        freq = theta ** (-half / head_dim)
        angle = positions[:, None] * freq[None, :]
        cos, sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
        if arch == "qwen2":
            a, b = x[..., : head_dim // 2], x[..., head_dim // 2 :]
        else:
            a, b = x[..., 0::2], x[..., 1::2]
        first = a * cos[:, None, :] - b * sin[:, None, :]
        second = a * sin[:, None, :] + b * cos[:, None, :]
        if arch == "qwen2":
            return np.concatenate([first, second], axis=-1)
        out = np.empty_like(x)
        out[..., 0::2], out[..., 1::2] = first, second
        return out

    def forward(tokens):
        T = len(tokens)
        x = embed[tokens]
        positions = np.arange(T, dtype=np.float64)
        mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
        for layer in range(layers):
            h = rms(x, W[layer, "attn_norm"])
            q = rope((h @ W[layer, "attn_q"].T + W[layer, "attn_q.bias"]).reshape(T, heads, head_dim), positions)
            k = rope((h @ W[layer, "attn_k"].T + W[layer, "attn_k.bias"]).reshape(T, kv_heads, head_dim), positions)
            v = (h @ W[layer, "attn_v"].T + W[layer, "attn_v.bias"]).reshape(T, kv_heads, head_dim)
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
        return rms(x, out_norm) @ output.T

    logits = forward(ids)
    last = logits[-1]
    stride = 97 if len(last) > 1000 else 1
    report = {"ids": ids, "positions": [], "last_strided": last[::stride].tolist(), "last_norm": float(np.linalg.norm(last))}
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
