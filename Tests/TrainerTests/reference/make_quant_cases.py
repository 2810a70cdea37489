"""Random blocks of every quantised type Trainer reads, with the values ggml's own Python package dequantises
them to: the reference for Dequantize and KQuants.

Usage: PYTHONPATH=<dir with the `gguf` pip package> make_quant_cases.py > quant_cases.json
Run once; the output is committed, so the tests need neither this script nor the package.
"""
import json
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize

# type -> (bytes per block, byte offsets of f16 scale fields)
LAYOUT = {
    T.Q4_0: (18, [0]), T.Q4_1: (20, [0, 2]), T.Q5_0: (22, [0]), T.Q5_1: (24, [0, 2]), T.Q8_0: (34, [0]),
    T.Q4_K: (144, [0, 2]), T.Q5_K: (176, [0, 2]), T.Q6_K: (210, [208]),
}


def main():
    rng = np.random.default_rng(20261123)
    cases = []
    for qtype, (size, halves) in LAYOUT.items():
        blocks = 3
        raw = rng.integers(0, 256, size=blocks * size, dtype=np.uint8)
        # Random bytes in an f16 field can be inf or nan; give every scale a finite value of either sign.
        for b in range(blocks):
            for offset in halves:
                scale = np.float16(rng.uniform(-0.05, 0.05))
                raw[b * size + offset:b * size + offset + 2] = np.frombuffer(scale.tobytes(), dtype=np.uint8)
        values = dequantize(raw, qtype).astype(np.float32).ravel()
        cases.append({"type": int(qtype), "name": qtype.name, "bytes": raw.tobytes().hex(),
                      "values": [float(v) for v in values]})
    json.dump(cases, sys.stdout, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
