"""Writes tokenizer_cases.json: texts and the ids the reference tokenizer gives them.

Run once by hand (not by the tests), with the `tokenizers` package on PYTHONPATH:
    PYTHONPATH=/path/to/tokenizers python3 make_tokenizer_cases.py MODEL.gguf > tokenizer_cases.json
The reference tokenizer is built from the GGUF's own vocabulary and merges, with SmolLM2's pre-tokenizer
(every digit on its own, then byte-level BPE with the GPT-2 split pattern) and its control tokens.
"""
import json
import sys
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

sys.argv, model_path = sys.argv[:1], sys.argv[1]
sys.path.insert(0, str(Path(__file__).parent))
from gguf_reference import read  # noqa: E402

data, version, meta, tensors, start = read(model_path)
tokens = meta["tokenizer.ggml.tokens"]
merges = [tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]]
types = meta.get("tokenizer.ggml.token_type", [1] * len(tokens))
bpe = models.BPE({t: i for i, t in enumerate(tokens)}, merges)
tokenizer = Tokenizer(bpe)
tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
    pre_tokenizers.Digits(individual_digits=True),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
])
tokenizer.decoder = decoders.ByteLevel()
tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t, k in zip(tokens, types) if k == 3])

texts = [
    "def is_prime(n):\n    ",
    "def f(a):\n    return a",
    "import re\n\ndef f(s: str) -> list[int]:\n    return [int(x) for x in re.findall(r'\\d+', s)]\n",
    "class Stack:\n\tdef __init__(self):\n\t\tself.items = []  # a list\n\n\tdef push(self, x):\n\t\tself.items.append(x)\n",
    "x = {'a': (1, 2.5, -3e-7), \"b\": None, 'c': b'\\x00'}\nprint(f\"{x!r:>10}\")\n",
    "   leading spaces and trailing   \n\n\n",
    "1234567890 + 3.14159 = 12345679.0, 2**64 == 18446744073709551616",
    "Übergrößenträger café naïve — “quotes” … ½ ∑ π ≈ 3.14",
    "日本語のテキストと中文文本，还有한국어 텍스트.",
    "emoji: 😀🚀👩‍👩‍👧‍👦 🇯🇵 and combining e\u0301",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "User: Write a function.\nAssistant: <think> I will write f. </think> <answer>\n```python\ndef f(x):\n    return x[::-1]\n```\n</answer>",
    "don't won't it's we'll I'd they've you're 'quoted' ''",
    "tabs\tand\u000bvertical\u000cfeeds\r\nwindows line\r\n",
    "\u0000\u0001 control \u007f and \u00a0 no-break",
    "",
    " ",
    "a",
]
cases = []
for text in texts:
    ids = tokenizer.encode(text).ids
    assert tokenizer.decode(ids, skip_special_tokens=False) == text, text
    cases.append({"text": text, "ids": ids})
json.dump({"model_bytes": Path(model_path).stat().st_size, "cases": cases}, sys.stdout, ensure_ascii=False, indent=1)
print()
