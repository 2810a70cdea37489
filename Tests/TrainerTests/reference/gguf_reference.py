"""An independent GGUF reader and dequantiser in numpy, the reference for Trainer's GGUFFile.

Usage: gguf_reference.py FILE TENSOR... -> JSON on stdout with the metadata the tests check, every tensor's
(name, type, dims) and, for each named tensor, its first 64 values, a strided sample and sums.
"""
import json
import struct
import sys

import numpy as np

SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 8: (32, 34), 30: (1, 2)}


def read(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        value = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            inner, n = take("<I"), take("<Q")
            return [value(inner) for _ in range(n)]
        return take(SCALARS[kind])

    assert data[:4] == b"GGUF"
    pos = 4
    version, n_tensors, n_kv = take("<I"), take("<Q"), take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = string()
        meta[key] = value(take("<I"))
    tensors = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("<Q") for _ in range(take("<I"))]
        tensors.append((name, dims, take("<I"), take("<Q")))
    align = meta.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    return data, version, meta, tensors, start


def dequantize(data, kind, offset, count):
    per, size = BLOCK[kind]
    raw = np.frombuffer(data, dtype=np.uint8, count=count // per * size, offset=offset)
    if kind == 0:
        return raw.view("<f4").astype(np.float64)
    if kind == 1:
        return raw.view("<f2").astype(np.float64)
    if kind == 30:
        return (raw.view("<u2").astype(np.uint32) << 16).view("<f4").astype(np.float64)
    blocks = raw.reshape(-1, size)
    scale = blocks[:, 0:2].copy().view("<f2").astype(np.float64)
    if kind == 8:
        return (scale * blocks[:, 2:].view(np.int8).astype(np.float64)).reshape(-1)
    if kind == 2:
        q = blocks[:, 2:]
        values = np.concatenate([(q & 15).astype(np.float64) - 8, (q >> 4).astype(np.float64) - 8], axis=1)
        return (scale * values).reshape(-1)
    if kind == 3:
        minimum = blocks[:, 2:4].copy().view("<f2").astype(np.float64)
        q = blocks[:, 4:]
        values = np.concatenate([(q & 15).astype(np.float64), (q >> 4).astype(np.float64)], axis=1)
        return (scale * values + minimum).reshape(-1)
    raise ValueError(kind)


def main():
    path, names = sys.argv[1], sys.argv[2:]
    data, version, meta, tensors, start = read(path)
    keep = {k: v for k, v in meta.items() if not isinstance(v, list)}
    report = {"version": version, "metadata": keep, "token_count": len(meta.get("tokenizer.ggml.tokens", [])),
              "merge_count": len(meta.get("tokenizer.ggml.merges", [])),
              "tensors": [[n, k, d] for n, d, k, _ in tensors], "values": {}}
    for name, dims, kind, offset in tensors:
        if name in names:
            count = int(np.prod(dims))
            x = dequantize(data, kind, start + offset, count)
            report["values"][name] = {"first": x[:64].tolist(), "strided": x[:: max(1, count // 97)][:97].tolist(),
                                      "sum": float(x.sum()), "abs_sum": float(np.abs(x).sum())}
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
