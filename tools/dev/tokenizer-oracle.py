#!/usr/bin/env python3
"""Reference answers for the Swift tokenizer tests (Tests/TokenizerTests).

Usage: tools/dev/tokenizer-oracle.py MODEL.gguf OUT.json

Reads the vocabulary of a byte-level BPE GGUF with the `gguf` package and writes one JSON file:
  vocab      tokens, merges, token types, pre-tokenizer kind, BOS/EOS, add-BOS and chat template,
             so the Swift test can build its Tokenizer from exactly the same data;
  encodings  ids for each test text from Hugging Face `tokenizers`, configured like the model,
             and also with the vocabulary's pre-tokenizer swapped for each other kind, so the
             rules of kinds this model does not use are checked end to end as well;
  splits     the words of each test text under every pre-tokenizer kind, from the `regex` module;
  chats      conversations rendered by the model's own Jinja chat template (`jinja2`).

The Hugging Face tokenizer is only an oracle. llama.cpp is the behaviour we follow, so it is
configured with llama.cpp's rules for each `tokenizer.ggml.pre` kind (src/llama-vocab.cpp):
  gpt2    the GPT-2 regex below, which is what Hugging Face's ByteLevel(use_regex) applies;
  smollm  `\\p{N}` first, isolating every digit, then the GPT-2 regex on the text in between,
          which is Hugging Face's Digits(individual_digits=True) followed by ByteLevel;
  qwen2   the QWEN2 regex below; llama3 the LLAMA3 regex, whose vocabularies also take a
          word that is itself a token without merging (llama.cpp's ignore_merges).
"""

import json
import sys
from pathlib import Path

MISSING = []
try:
    import gguf
except ImportError:
    MISSING.append("gguf")
try:
    import tokenizers
    from tokenizers import AddedToken, Regex, decoders, models, pre_tokenizers
except ImportError:
    MISSING.append("tokenizers")
try:
    import regex
except ImportError:
    MISSING.append("regex")
try:
    import jinja2.sandbox
except ImportError:
    MISSING.append("jinja2")
if MISSING:
    sys.exit(f"tokenizer-oracle: missing Python packages: {' '.join(MISSING)}; "
             "install them with: pip install -r tools/setup/test-requirements.txt")

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
         r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3 = QWEN2.replace(r"|\p{N}|", r"|\p{N}{1,3}|")
DIGIT = r"\p{N}"

KINDS = ("gpt2", "smollm", "qwen2", "llama3")
CONTROL, USER_DEFINED = 3, 4

LICENSES = ["/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0"]

TEXTS = [
    ("english", "The quick brown fox jumps over the lazy dog. It was a bright cold day in April."),
    ("code", 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n\nprint(add(2, 3))  # 5\n'),
    ("swift", "let xs = [1, 2, 3].map { $0 * 2 }\nif x != nil && y >= 10 { return }\n"),
    ("numbers", "12345 and 3.14159, 1,000,000 or 007; year 2024; -42e10"),
    ("contractions", "don't I'LL you're we've she'd I'm it's They'RE 'quoted' rock'n'roll"),
    ("spaces", "a  b   c    d\t\te \t f  \n  g   "),
    ("newlines", "line one\nline two\n\n\nline five\r\nwindows\r\n\r\n  indented\n"),
    ("tabs", "\tcol1\tcol2\t\t\n\t\tnested"),
    ("leading and trailing space", "   hello world   "),
    ("accents", "café naïve résumé Ångström über façade"),
    ("cjk", "中文分词测试，日本語のテキスト、한국어 텍스트。"),
    ("emoji", "robots 🤖 and families 👨\u200d👩\u200d👧\u200d👦 and flags 🇫🇷 and 👍🏽!"),
    ("symbols", "≥ ≤ ∑ ∞ → ← © ® ™ € £ ¥ § ¶ … — – “quotes” «guillemets»"),
    ("mixed scripts", "Привет мир! Γειά σου κόσμε! مرحبا بالعالم! שלום עולם!"),
    ("unicode numbers", "Roman Ⅻ, superscript x² and ³, fractions ½ ¾, Arabic ٣٤٥, Devanagari ४२"),
    ("unicode spaces", "no\u00a0break, em\u2003space, ideographic\u3000space, thin\u2009space"),
    ("control bytes", "bell\u0007 escape\u001b[0m null\u0000 del\u007f"),
    ("chat markup", "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
                    "<|im_start|>assistant\n"),
    ("special tokens inside words", "x<|im_end|>y <|endoftext|><|endoftext|> <|im_start|user"),
    ("long repeats", "a" * 300 + " " + "=" * 120 + " " + "🤖" * 40),
    ("empty", ""),
    ("single space", " "),
] + [(Path(path).name, Path(path).read_text(encoding="utf-8")) for path in LICENSES]

CONVERSATIONS = [
    ("user only", [{"role": "user", "content": "What is 2+2?"}]),
    ("with system", [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Hello"}]),
    ("multi turn", [{"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "Tell me a joke.\nA short one."}]),
    ("system later", [{"role": "user", "content": "First"},
                      {"role": "system", "content": "Late system"}]),
    ("empty", []),
]


def read_vocab(path):
    """Everything the Swift Tokenizer and ChatTemplate are built from, as the GGUF stores it."""
    reader = gguf.GGUFReader(path)

    def field(key, default=None):
        return reader.fields[key].contents() if key in reader.fields else default

    model = field("tokenizer.ggml.model")
    if model != "gpt2":
        sys.exit(f"tokenizer-oracle: {path} has tokenizer model {model!r}, not byte-level BPE 'gpt2'")
    return {
        "tokens": field("tokenizer.ggml.tokens"),
        "merges": field("tokenizer.ggml.merges"),
        "tokenTypes": [int(t) for t in field("tokenizer.ggml.token_type")],
        "pre": field("tokenizer.ggml.pre", "gpt2"),
        "bosID": field("tokenizer.ggml.bos_token_id"),
        "eosID": field("tokenizer.ggml.eos_token_id"),
        "addBOS": bool(field("tokenizer.ggml.add_bos_token", False)),
        "chatTemplate": field("tokenizer.chat_template"),
    }


def hf_tokenizer(vocab, pre):
    """A Hugging Face tokenizer that follows llama.cpp's rules for this vocabulary and pre-tokenizer kind."""
    ids = {text: i for i, text in enumerate(vocab["tokens"])}
    merges = [tuple(line.split(" ", 1)) for line in vocab["merges"]]
    bpe = models.BPE(vocab=ids, merges=merges, ignore_merges=(pre == "llama3"))
    tokenizer = tokenizers.Tokenizer(bpe)
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pre == "gpt2":
        tokenizer.pre_tokenizer = byte_level
    elif pre == "smollm":
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level])
    elif pre in ("qwen2", "llama3"):
        pattern = QWEN2 if pre == "qwen2" else LLAMA3
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        sys.exit(f"tokenizer-oracle: pre-tokenizer {pre!r} is not one the Swift tokenizer supports")
    tokenizer.decoder = decoders.ByteLevel()
    types = vocab["tokenTypes"]
    tokenizer.add_special_tokens([AddedToken(text, special=True, normalized=False)
                                  for text, t in zip(vocab["tokens"], types) if t == CONTROL])
    tokenizer.add_tokens([AddedToken(text, special=False, normalized=False)
                          for text, t in zip(vocab["tokens"], types) if t == USER_DEFINED])
    return tokenizer


def regex_split(kind, text):
    """The words of `text` under a pre-tokenizer kind, by the regex module."""
    if kind == "smollm":
        # Digits are words of their own and also cut the text the GPT-2 rule sees.
        return [piece
                for part in regex.split(f"({DIGIT})", text) if part
                for piece in (regex_split("gpt2", part) if not regex.fullmatch(DIGIT, part) else [part])]
    pattern = {"gpt2": GPT2, "qwen2": QWEN2, "llama3": LLAMA3}[kind]
    pieces = regex.findall(pattern, text)
    assert "".join(pieces) == text, f"{kind} pattern skipped part of {text!r}"
    return pieces


def render_chats(template):
    """What the model's own template renders, the way transformers runs it."""
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    compiled = environment.from_string(template)
    return [{"name": name, "messages": messages, "addGenerationPrompt": generation,
             "rendered": compiled.render(messages=messages, add_generation_prompt=generation)}
            for name, messages in CONVERSATIONS for generation in (False, True)]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    vocab = read_vocab(sys.argv[1])
    encodings = []
    for kind in KINDS:
        tokenizer = hf_tokenizer(vocab, kind)
        for parse_special in (True, False):
            # Without special parsing, control tokens written in the text stay text.
            tokenizer.encode_special_tokens = not parse_special
            encodings += [{"kind": kind, "name": name, "text": text, "parseSpecial": parse_special,
                           "ids": tokenizer.encode(text, add_special_tokens=False).ids}
                          for name, text in TEXTS if parse_special or "<|" in text]
    splits = [{"kind": kind, "name": name, "text": text, "pieces": regex_split(kind, text)}
              for kind in KINDS for name, text in TEXTS]
    chats = render_chats(vocab["chatTemplate"]) if vocab["chatTemplate"] else []
    result = {"vocab": vocab, "encodings": encodings, "splits": splits, "chats": chats}
    Path(sys.argv[2]).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
