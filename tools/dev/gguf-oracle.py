#!/usr/bin/env python3
"""Test oracle for the Swift GGUF reader, built on gguf-py (llama.cpp's own Python package).

Only the ModelFile tests use it; nothing in elutq runs Python. Requires: pip install gguf numpy

  gguf-oracle.py fixture OUTDIR
      Writes OUTDIR/fixture.gguf: metadata of every GGUF value type (the values are fixed,
      and the Swift tests spell out the same ones), and one tensor of every type the Swift
      reader dequantizes, filled with random but valid blocks. Then, for every tensor, writes
      OUTDIR/<tensor name>.f32: gguf-py's dequantization of it, as raw little-endian float32.

  gguf-oracle.py rows MODEL OUTDIR TENSOR:FIRST:COUNT...
      For each TENSOR of the GGUF file MODEL, writes rows FIRST ..< FIRST+COUNT (a row being
      dims[0] elements), as dequantized by gguf-py, to OUTDIR/<TENSOR>.f32 as raw float32.
      Reading a real model's metadata takes seconds, so one run serves many tensors.
"""
import sys

try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as T, GGUFValueType as V
except ImportError as error:
    sys.exit(f"gguf-oracle: {error}; install the oracle's packages with: python3 -m pip install gguf numpy")

# Byte offsets of the f16 scale fields in each quantized block. Random bytes would make some
# of them infinities or NaNs, which would make the comparison meaningless, so they are
# overwritten with small finite values.
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
ROWS = 3


def random_tensor(rng, qtype):
    """A ROWS-row tensor of qtype with two blocks per row (or 40 elements for float types)."""
    block_size, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    if qtype == T.F32:
        return rng.standard_normal((ROWS, 40)).astype(np.float32)
    if qtype == T.F16:
        return rng.standard_normal((ROWS, 40)).astype(np.float16)
    if qtype == T.BF16:
        # bfloat16 is the top half of a float32; truncating keeps it finite.
        bits = rng.standard_normal((ROWS, 40)).astype(np.float32).view(np.uint32) >> 16
        return bits.astype(np.uint16).view(np.uint8)
    blocks = rng.integers(0, 256, size=(ROWS, 2, block_bytes), dtype=np.uint8)
    for offset in HALF_FIELDS[qtype]:
        scales = rng.uniform(-2, 2, size=(ROWS, 2)).astype(np.float16)
        blocks[:, :, offset:offset + 2] = scales.view(np.uint8).reshape(ROWS, 2, 2)
    return blocks.reshape(ROWS, 2 * block_bytes)


def write_fixture(outdir):
    rng = np.random.default_rng(20240611)
    writer = gguf.GGUFWriter(f"{outdir}/fixture.gguf", arch="oracle")
    # A non-default alignment, so that the reader has to honour general.alignment.
    writer.add_custom_alignment(64)

    writer.add_uint8("test.uint8", 255)
    writer.add_int8("test.int8", -128)
    writer.add_uint16("test.uint16", 65535)
    writer.add_int16("test.int16", -32768)
    writer.add_uint32("test.uint32", 4294967295)
    writer.add_int32("test.int32", -2147483648)
    writer.add_uint64("test.uint64", 2**64 - 1)
    writer.add_int64("test.int64", -2**63)
    writer.add_float32("test.float32", -0.15625)
    writer.add_float64("test.float64", 1e300)
    writer.add_bool("test.true", True)
    writer.add_bool("test.false", False)
    writer.add_string("test.string", "héllo, wörld ✓")
    writer.add_key_value("test.empty_string", "", V.STRING)
    writer.add_key_value("test.uint8s", [0, 1, 255], V.ARRAY, sub_type=V.UINT8)
    writer.add_array("test.int32s", [1, -2, 3])
    writer.add_key_value("test.int64s", [-1, 2**40], V.ARRAY, sub_type=V.INT64)
    writer.add_array("test.float32s", [0.5, -1.25])
    writer.add_key_value("test.float64s", [0.1, -2.5], V.ARRAY, sub_type=V.FLOAT64)
    writer.add_array("test.bools", [True, False])
    writer.add_array("test.strings", ["a", "", "ü"])
    writer.add_array("test.nested", [[1, 2], [3]])

    tensors = {}
    for qtype in [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0,
                  T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]:
        name = f"t.{qtype.name.lower()}"
        data = random_tensor(rng, qtype)
        raw_dtype = None if qtype in (T.F32, T.F16) else qtype
        writer.add_tensor(name, data, raw_dtype=raw_dtype)
        tensors[name] = (data, qtype)
    # More than two dimensions: ggml order [4, 3, 2], i.e. 6 rows of 4.
    cube = rng.standard_normal((2, 3, 4)).astype(np.float32)
    writer.add_tensor("t.f32_3d", cube)
    tensors["t.f32_3d"] = (cube, T.F32)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    for name, (data, qtype) in tensors.items():
        expected = gguf.quants.dequantize(data, qtype).astype("<f4")
        expected.tofile(f"{outdir}/{name}.f32")


def write_rows(model, outdir, specs):
    reader = gguf.GGUFReader(model)
    tensors = {tensor.name: tensor for tensor in reader.tensors}
    for spec in specs:
        name, first, count = spec.rsplit(":", 2)
        first, count = int(first), int(count)
        if name not in tensors:
            sys.exit(f"gguf-oracle: no tensor named {name!r} in {model}")
        tensor = tensors[name]
        # tensor.data holds the raw blocks (or floats), outermost dimension first.
        rows = tensor.data.reshape(-1, tensor.data.shape[-1])[first:first + count]
        gguf.quants.dequantize(rows, tensor.tensor_type).astype("<f4").tofile(f"{outdir}/{name}.f32")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fixture":
        write_fixture(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "rows":
        write_rows(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
