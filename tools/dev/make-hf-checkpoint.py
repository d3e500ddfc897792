#!/usr/bin/env python3
"""Turns a llama GGUF back into a Hugging Face checkpoint directory, for the safetensors importer's tests.

Usage: tools/dev/make-hf-checkpoint.py MODEL.gguf OUTDIR

No Hugging Face checkpoint can be downloaded where the tests run, so this script makes one from the
real GGUF, laid out the way `transformers` saves a sharded llama model:

  config.json                        hyperparameters from the GGUF metadata
  model-00001-of-00002.safetensors   token embeddings and the first half of the layers
  model-00002-of-00002.safetensors   the other layers and the final norm
  model.safetensors.index.json       which shard holds which tensor
  tokenizer.json                     the GGUF vocabulary and merges as a byte-level BPE with
                                     SmolLM's pre-tokenizer (Digits, then ByteLevel) and the
                                     control tokens as special added tokens
  tokenizer_config.json              BOS, EOS and the chat template

Every tensor is dequantized with gguf-py, renamed to its Hugging Face name, and for attn_q and
attn_k un-permuted: llama.cpp's converter reorders the rows of each head from rotate_half pairs
(i, i + d/2) to interleaved pairs (2i, 2i + 1), and this script undoes that. Each tensor is then
stored in one of the three float types, so that the importer reads all of them:
  1-D tensors (norms)              F32
  token_embd                       F16
  matrices of layer N              F32, F16 or BF16 for N % 3 = 0, 1, 2
F16 is numpy's round-to-nearest-even, and BF16 is rounded to nearest even as well, as torch does.

The safetensors files are written by hand (an 8-byte little-endian header length, a JSON header
padded with spaces to a multiple of 8 bytes, then the raw little-endian tensor data) rather than
with the `safetensors` package, which cannot store BF16 from numpy.
"""

import json
import struct
import sys
from pathlib import Path

try:
    import numpy as np
    import gguf
except ImportError as error:
    sys.exit(f"make-hf-checkpoint: {error}; install its packages with: "
             "python3 -m pip install -r tools/setup/test-requirements.txt")

CONTROL, USER_DEFINED = 3, 4
SHARD_NAMES = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]

# GGUF tensor names, per layer and global, to Hugging Face's.
LAYER_NAMES = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
}
GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}


class Metadata:
    """The GGUF's metadata values by key."""

    def __init__(self, reader):
        self.fields = reader.fields

    def get(self, key, default=None):
        return self.fields[key].contents() if key in self.fields else default

    def require(self, key):
        if key not in self.fields:
            sys.exit(f"make-hf-checkpoint: the GGUF has no '{key}'")
        return self.fields[key].contents()


def shortest(value):
    """A float32 metadata value as the short decimal a config.json would hold (1e-05, not 9.99999974e-06)."""
    return float(str(np.float32(value)))


def make_config(meta, tied):
    arch = "llama"
    heads = meta.require(f"{arch}.attention.head_count")
    hidden = meta.require(f"{arch}.embedding_length")
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": meta.require(f"{arch}.feed_forward_length"),
        "num_hidden_layers": meta.require(f"{arch}.block_count"),
        "num_attention_heads": heads,
        "num_key_value_heads": meta.get(f"{arch}.attention.head_count_kv", heads),
        "max_position_embeddings": meta.require(f"{arch}.context_length"),
        "rms_norm_eps": shortest(meta.require(f"{arch}.attention.layer_norm_rms_epsilon")),
        "rope_theta": shortest(meta.get(f"{arch}.rope.freq_base", 10000.0)),
        "rope_scaling": None,
        "tie_word_embeddings": tied,
        "vocab_size": meta.get(f"{arch}.vocab_size", len(meta.require("tokenizer.ggml.tokens"))),
        "bos_token_id": meta.get("tokenizer.ggml.bos_token_id"),
        "eos_token_id": meta.get("tokenizer.ggml.eos_token_id"),
        "pad_token_id": meta.get("tokenizer.ggml.padding_token_id"),
        "hidden_act": "silu",
        "attention_bias": False,
        "torch_dtype": "bfloat16",
    }
    head_dim = meta.get(f"{arch}.attention.key_length")
    if head_dim is not None and head_dim != hidden // heads:
        config["head_dim"] = head_dim
    return config


def hf_name(gguf_name):
    if gguf_name in GLOBAL_NAMES:
        return GLOBAL_NAMES[gguf_name]
    block, layer, kind, suffix = gguf_name.split(".")
    if block != "blk" or kind not in LAYER_NAMES:
        sys.exit(f"make-hf-checkpoint: no Hugging Face name for tensor '{gguf_name}'")
    return f"model.layers.{layer}.{LAYER_NAMES[kind]}.{suffix}"


def unpermute(rows, heads):
    """Undoes llama.cpp's q/k permutation: GGUF row h*d + 2i + j holds Hugging Face row h*d + j*d/2 + i."""
    shape = rows.shape
    return rows.reshape(heads, shape[0] // heads // 2, 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def storage(gguf_name, values):
    """The dtype a tensor is stored in (see the module docstring) and its bytes."""
    if values.ndim == 1:
        dtype = "F32"
    elif gguf_name == "token_embd.weight":
        dtype = "F16"
    else:
        dtype = ["F32", "F16", "BF16"][int(gguf_name.split(".")[1]) % 3]
    if dtype == "F32":
        data = values.astype("<f4")
    elif dtype == "F16":
        data = values.astype("<f2")
        if not np.isfinite(data).all():
            sys.exit(f"make-hf-checkpoint: '{gguf_name}' overflows F16")
    else:
        bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
        data = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    return dtype, data.tobytes()


def write_safetensors(path, tensors):
    """Writes `tensors` (name -> (dtype, shape, bytes)) in name order, back to back."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, (dtype, shape, data) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for name in sorted(tensors):
            out.write(tensors[name][2])
    return offset


def write_weights(reader, outdir, config):
    layers = config["num_hidden_layers"]
    heads = {"attn_q": config["num_attention_heads"], "attn_k": config["num_key_value_heads"]}
    shards = [{}, {}]
    for tensor in reader.tensors:
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        # gguf-py gives the dims slowest first, as numpy does; a GGUF matrix [cols, rows] becomes (rows, cols).
        values = values.reshape([int(d) for d in reversed(tensor.shape)])
        parts = tensor.name.split(".")
        if parts[0] == "blk" and parts[2] in heads:
            values = unpermute(values, heads[parts[2]])
        dtype, data = storage(tensor.name, values)
        second = tensor.name == "output_norm.weight" or (parts[0] == "blk" and int(parts[1]) >= layers // 2)
        shards[int(second)][hf_name(tensor.name)] = (dtype, values.shape, data)
    total = sum(write_safetensors(outdir / file, shard) for file, shard in zip(SHARD_NAMES, shards))
    weight_map = {name: file for file, shard in zip(SHARD_NAMES, shards) for name in shard}
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (outdir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))


def write_tokenizer(meta, outdir, config):
    if meta.get("tokenizer.ggml.model") != "gpt2" or meta.get("tokenizer.ggml.pre") != "smollm":
        sys.exit("make-hf-checkpoint: only byte-level BPE vocabularies with the smollm pre-tokenizer are supported")
    tokens = meta.require("tokenizer.ggml.tokens")
    types = [int(t) for t in meta.require("tokenizer.ggml.token_type")]
    added = [{"id": i, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": kind == CONTROL}
             for i, (text, kind) in enumerate(zip(tokens, types)) if kind in (CONTROL, USER_DEFINED)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    bos, eos = meta.get("tokenizer.ggml.bos_token_id"), meta.get("tokenizer.ggml.eos_token_id")
    if meta.get("tokenizer.ggml.add_bos_token", False):
        post_processor = {"type": "TemplateProcessing",
                          "single": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}},
                                     {"Sequence": {"id": "A", "type_id": 0}}]}
    else:
        post_processor = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]},
        "post_processor": post_processor,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": {text: i for i, text in enumerate(tokens)},
            # Current `tokenizers` writes merges as pairs; older versions as "a b" strings.
            "merges": [line.split(" ") for line in meta.require("tokenizer.ggml.merges")],
        },
    }
    (outdir / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False, indent=1), encoding="utf-8")

    tokenizer_config = {
        "add_prefix_space": False,
        "added_tokens_decoder": {str(token["id"]): {k: v for k, v in token.items() if k != "id"} for token in added},
        "bos_token": tokens[bos] if bos is not None else None,
        "eos_token": tokens[eos] if eos is not None else None,
        "chat_template": meta.get("tokenizer.chat_template"),
        "clean_up_tokenization_spaces": False,
        "model_max_length": config["max_position_embeddings"],
        "tokenizer_class": "GPT2Tokenizer",
    }
    (outdir / "tokenizer_config.json").write_text(
        json.dumps(tokenizer_config, ensure_ascii=False, indent=2), encoding="utf-8")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    reader = gguf.GGUFReader(sys.argv[1])
    meta = Metadata(reader)
    if meta.get("general.architecture") != "llama":
        sys.exit("make-hf-checkpoint: only llama GGUFs are supported")
    outdir = Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    tied = all(tensor.name != "output.weight" for tensor in reader.tensors)
    config = make_config(meta, tied)
    (outdir / "config.json").write_text(json.dumps(config, indent=2))
    write_weights(reader, outdir, config)
    write_tokenizer(meta, outdir, config)


if __name__ == "__main__":
    main()
