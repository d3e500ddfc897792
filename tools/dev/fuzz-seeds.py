#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Fuzz/Corpus/<target>/: small valid inputs of
every format they read, from the format documents (docs/hlq-format.md, GGUF's and safetensors'
specifications) rather than from elutq's own writers, so a seed can catch a writer and reader
that agree on a mistake. Run it again after a format changes; libFuzzer grows its own corpus in
.build-fuzz/corpus from these."""
import json
import os
import struct
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Fuzz", "Corpus")


def write(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def pad(data, multiple):
    return data + bytes(-len(data) % multiple)


def compact(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# A tiny byte-level vocabulary shared by the model formats: GPT-2 spells a space as "Ġ".
TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "\u0120", "ab", "\u0120a", "h", "i", "\u0120ab", "<tool>"]
TOKEN_TYPES = [3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4]
MERGES = ["a b", "\u0120 a", "\u0120a b"]
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def hlq_file(tensors, metadata):
    """tensors: (name, type, shape, [parts]); each part starts on a multiple of 64 (docs/hlq-format.md)."""
    body, entries = b"", []
    for name, kind, shape, parts in tensors:
        data = b""
        for i, part in enumerate(parts):
            data += part if i == len(parts) - 1 else pad(part, 64)
        entries.append({"name": name, "type": kind, "shape": shape, "offset": 64 + len(body), "byteCount": len(data),
                        "crc32c": crc32c(data)})
        body = pad(body + data, 64)
    meta = compact(metadata)
    directory = compact({"metadataCRC32C": crc32c(meta), "tensors": entries})
    meta_offset = 64 + len(body)
    dir_offset = meta_offset + len(meta)
    length = dir_offset + len(directory)
    header = struct.pack("<8sIIQQQQQI", b"ELUTQHLQ", 1, 0x01020304, meta_offset, len(meta), dir_offset, len(directory),
                         length, crc32c(directory))
    return header + struct.pack("<I", crc32c(header)) + body + meta + directory


def hlq_seeds():
    f32 = lambda values: struct.pack("<%df" % len(values), *values)
    config = {"architecture": "llama", "attentionBias": False, "contextLength": 128, "embeddingSize": 32,
              "feedForwardSize": 64, "headSize": 16, "heads": 2, "kvHeads": 1, "layers": 1, "name": "seed",
              "normEpsilon": 1e-05, "ropeStyle": "interleaved", "ropeTheta": 10000, "tiedEmbeddings": True,
              "vocabularySize": len(TOKENS),
              "ropeScaling": {"factor": 8, "highFrequencyFactor": 4, "kind": "llama3", "lowFrequencyFactor": 1,
                              "originalContextLength": 64}}
    metadata = {"config": config, "created": "2026-12-06T12:00:00Z", "creator": "tools/dev/fuzz-seeds.py",
                "recipe": {"averageBitsPerWeight": 2.5, "bits": 2, "groupSize": 32, "method": "hlq",
                           "embedding": {"kind": "q8"}, "overrides": {"attn_v": {"kind": "q8"}}},
                "sourceSHA256": "0123456789abcdef" * 4,
                "tokenizer": {"addBOS": False, "bosID": 1, "eosID": 2, "chatTemplate": CHATML, "merges": MERGES,
                              "preTokenizer": "smollm", "tokenTypes": TOKEN_TYPES, "tokens": TOKENS}}
    # hlq, 2 planes, groups of 32, 32 rows of 32 columns: 1 row block × 2 planes × 32 columns × 4 bytes
    # of bits, then 1 block × 1 group × 3 runs × 32 half floats of params.
    bits = bytes((i * 37) & 0xFF for i in range(2 * 32 * 4))
    params = struct.pack("<96e", *([0.01] * 32 + [0.02] * 32 + [0.0] * 32))
    # q8, 3 rows of 32: the int8 rows, padded to 64, then one f32 scale per row.
    q8 = (bytes((i * 11) & 0xFF for i in range(96)), f32([0.01, 0.02, 0.03]))
    tensors = [("output_norm.weight", {"kind": "f32"}, [32], [f32([1.0] * 32)]),
               ("token_embd.weight", {"kind": "q8"}, [32, 3], list(q8)),
               ("blk.0.attn_q.weight", {"kind": "hlq", "bits": 2, "groupSize": 32}, [32, 32], [bits, params]),
               ("halves", {"kind": "f16"}, [3, 2], [struct.pack("<6e", 1, -2, 0.5, 0, 3, 1e-3)]),
               ("empty", {"kind": "f32"}, [0, 4], [b""])]
    write("FuzzHLQFile", "model", hlq_file(tensors, metadata))
    write("FuzzHLQFile", "one-tensor", hlq_file(tensors[:1], metadata))


def gguf_string(text):
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_file(metadata, tensors, alignment=32):
    """metadata: (key, type, payload); tensors: (name, dims, type, data), laid out in order, aligned."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, payload in metadata:
        out += gguf_string(key) + struct.pack("<I", kind) + payload
    data, offsets = b"", []
    for _, _, _, tensor in tensors:
        data = pad(data, alignment)
        offsets.append(len(data))
        data += tensor
    for (name, dims, kind, _), offset in zip(tensors, offsets):
        out += gguf_string(name) + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims)
        out += struct.pack("<IQ", kind, offset)
    return pad(out, alignment) + data


def gguf_seeds():
    u32 = lambda v: (4, struct.pack("<I", v))
    f32 = lambda v: (6, struct.pack("<f", v))
    string = lambda s: (8, gguf_string(s))
    strings = lambda items: (9, struct.pack("<IQ", 8, len(items)) + b"".join(gguf_string(s) for s in items))
    ints = lambda items: (9, struct.pack("<IQ", 5, len(items)) + struct.pack("<%di" % len(items), *items))
    boolean = lambda v: (7, bytes([v]))
    entries = [("general.architecture", string("llama")), ("general.name", string("seed")),
               ("llama.block_count", u32(1)), ("llama.embedding_length", u32(32)), ("llama.feed_forward_length", u32(64)),
               ("llama.attention.head_count", u32(2)), ("llama.attention.head_count_kv", u32(1)),
               ("llama.context_length", u32(128)), ("llama.rope.freq_base", f32(10000)),
               ("llama.attention.layer_norm_rms_epsilon", f32(1e-5)),
               ("tokenizer.ggml.model", string("gpt2")), ("tokenizer.ggml.pre", string("smollm")),
               ("tokenizer.ggml.tokens", strings(TOKENS)), ("tokenizer.ggml.token_type", ints(TOKEN_TYPES)),
               ("tokenizer.ggml.merges", strings(MERGES)), ("tokenizer.ggml.bos_token_id", u32(1)),
               ("tokenizer.ggml.eos_token_id", u32(2)), ("tokenizer.ggml.add_bos_token", boolean(0)),
               ("tokenizer.chat_template", string(CHATML))]
    metadata = [(key, kind, payload) for key, (kind, payload) in entries]
    floats = struct.pack("<8f", 1, -2, 0.5, 3, 0, -0.25, 8, 1e-3)
    q8_block = struct.pack("<e", 0.5) + bytes((j * 7 - 100) & 0xFF for j in range(32))
    q4_0_block = struct.pack("<e", 0.25) + bytes((j * 13) & 0xFF for j in range(16))
    tensors = [("output_norm.weight", [4, 2], 0, floats), ("token_embd.weight", [32, 2], 8, q8_block * 2),
               ("blk.0.attn_q.weight", [32, 1], 2, q4_0_block), ("halves", [2], 1, struct.pack("<2e", 1, -1))]
    write("FuzzGGUFFile", "model", gguf_file(metadata, tensors))
    write("FuzzGGUFFile", "metadata-only", gguf_file(metadata[:3], []))


def safetensors_file(tensors, metadata):
    header, data = {"__metadata__": metadata}, b""
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = pad(json.dumps(header).encode(), 8).replace(b"\0", b" ")
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    tensors = [("model.norm.weight", "F32", [4], struct.pack("<4f", 1, 2, 3, 4)),
               ("model.embed_tokens.weight", "BF16", [2, 2], struct.pack("<4H", 0x3F80, 0x4000, 0xBF80, 0)),
               ("lm_head.weight", "F16", [1, 2], struct.pack("<2e", 0.5, -0.5)), ("empty", "F32", [0, 3], b"")]
    write("FuzzSafetensors", "model", safetensors_file(tensors, {"format": "pt"}))


def checkpoint_seeds():
    """config.json, tokenizer.json and optionally tokenizer_config.json, separated by NUL bytes."""
    config = {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 12, "max_position_embeddings": 256,
              "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": True, "bos_token_id": 1,
              "eos_token_id": [2, 0], "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 128}}
    added = [{"id": i, "content": text, "special": kind == 3} for i, (text, kind) in enumerate(zip(TOKENS, TOKEN_TYPES)) if kind != 1]
    vocab = {text: i for i, (text, kind) in enumerate(zip(TOKENS, TOKEN_TYPES)) if kind == 1}
    smollm = {"model": {"type": "BPE", "vocab": vocab, "merges": [MERGES[0], MERGES[1].split(" "), MERGES[2]]},
              "added_tokens": added,
              "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True},
                                                                      {"type": "ByteLevel", "use_regex": True}]},
              "post_processor": {"type": "TemplateProcessing",
                                 "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}}
    gpt2 = {"model": {"vocab": vocab, "merges": MERGES[:1]}, "pre_tokenizer": {"type": "ByteLevel"}}
    qwen_split = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                  "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    qwen = {"model": {"type": "BPE", "vocab": vocab, "merges": MERGES}, "added_tokens": added,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": qwen_split}},
                                                                    {"type": "ByteLevel", "use_regex": False}]},
            "post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel"}]}}
    tokenizer_config = {"bos_token": {"content": "<|im_start|>"}, "eos_token": "<|im_end|>", "add_bos_token": False,
                        "chat_template": CHATML}
    named_template = {"eos_token": "<|endoftext|>", "chat_template": [
        {"name": "default", "template": "<|im_start|>system\nYou are a helpful AI assistant named SmolLM<|im_end|>"}]}
    qwen_config = dict(config, architectures=["Qwen2ForCausalLM"], rope_scaling={"type": "linear", "factor": 2.0}, eos_token_id=2)
    join = lambda *parts: b"\0".join(json.dumps(p, ensure_ascii=False).encode() for p in parts)
    write("FuzzCheckpoint", "smollm", join(config, smollm, tokenizer_config))
    write("FuzzCheckpoint", "gpt2-no-tokenizer-config", join(config, gpt2))
    write("FuzzCheckpoint", "qwen2-named-template", join(qwen_config, qwen, named_template))


def tokenizer_seeds():
    """The first byte picks the pre-tokenizer (bits 0-1) and whether control tokens are parsed (bit 2)."""
    for name, selector, text in [("english", 0, "The theme of the song, and 123 things.".encode()),
                                 ("special-tokens", 5, "<|im_start|>user\nHi<|im_end|>\n<tool> x".encode()),
                                 ("unicode", 2, "caf\u00e9 \U0001F600 \u4e2d\u6587 \t\r\n  end".encode()),
                                 ("llama3-digits", 3, "12345 6789 it's we'll".encode()),
                                 ("invalid-utf8", 1, b"ab\xe2\x82 \xf0\x9f\x98 \xff\xc3(")]:
        write("FuzzTokenizer", name, bytes([selector]) + text)


def request_seeds():
    """A payload, optionally after a first line that is the MQTT v5 response topic."""
    signature = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
    seeds = {"prompt": {"id": "r1", "prompt": "What is 2 + 2?"},
             "messages": {"id": "r2", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                          "max_tokens": 32, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "seed": 7, "stop": ["\n\n", "END"],
                          "stream": True, "group": "kitchen"},
             "cancel": {"id": "r1"},
             "models-list": {"id": "m1", "command": "list"},
             "models-use-signed": {"id": "m2", "command": "use", "name": "smollm2-2bit", "issued": 1765000000,
                                   "nonce": "3f9a1c2b", "signature": signature},
             "models-rm": {"id": "m3", "command": "rm", "name": "old.hlq"}}
    for name, document in seeds.items():
        write("FuzzRequests", name, json.dumps(document))
    write("FuzzRequests", "response-topic", "elutq/client/c1/reply\n" + json.dumps({"id": "r3", "prompt": "Hi", "stream": False}))


def agent_conf_seeds():
    """The documented agent.conf (every key, at its default), and one with TLS, credentials and a fleet group."""
    with open(os.path.join(root, "..", "..", "agent.conf"), "rb") as f:
        write("FuzzAgentConf", "agent.conf", f.read())
    write("FuzzAgentConf", "tls-fleet.conf", "\n".join([
        "broker_host = broker.example.org", "broker_port = 8883", "tls_ca_file = /etc/elutq/ca.pem",
        "tls_cert_file = /etc/elutq/device.pem", "tls_key_file = /etc/elutq/device.key", "username = kitchen-pi",
        "password = s3cret#with=signs", "device_id = kitchen-pi", "group = kitchen",
        "model = /var/lib/elutq/models/smollm2.hlq", "threads = 2", "temperature = 0.7",
        "model_store = /var/lib/elutq/models", "model_commands = off", ""]))


def push_seeds():
    sha = "0123456789abcdef" * 4
    signature = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
    write("FuzzPush", "manifest", json.dumps({"name": "smollm2-2bit", "size": 100000, "sha256": sha, "block_size": 65536,
                                              "block_count": 2, "format_version": 1, "signature": signature}))
    write("FuzzPush", "event-missing", json.dumps({"event": "missing", "sha256": sha, "query": 3, "missing": [[0, 4], [9, 10]],
                                                   "received": 5}))
    write("FuzzPush", "event-ack", json.dumps({"event": "ack", "sha256": sha, "index": 4, "received": 5}))
    write("FuzzPush", "event-rejected", json.dumps({"event": "rejected", "sha256": sha, "reason": "not signed"}))
    # A block message: "EQB1", the transfer tag (the SHA-256's first 8 bytes), index, length, CRC-32C, data.
    data = bytes(range(16))
    write("FuzzPush", "block", b"EQB1" + bytes.fromhex(sha[:16]) + struct.pack("<III", 1, len(data), crc32c(data)) + data)


if __name__ == "__main__":
    assert crc32c(b"123456789") == 0xE3069283
    for make in (hlq_seeds, gguf_seeds, safetensors_seeds, checkpoint_seeds, tokenizer_seeds, request_seeds, agent_conf_seeds, push_seeds):
        make()
    print("fuzz-seeds: wrote", os.path.normpath(root), file=sys.stderr)
