import ModelFile
import Tokenizer

/// A GGUF file: header, metadata and tensor directory; a file that opens has every tensor
/// dequantized, and its metadata read as a model's config and tokenizer, which then encodes a
/// chat turn, as loading a model for serving does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let mapped = try? MappedFile(copying: UnsafeRawBufferPointer(start: data, count: size), path: "input.gguf"),
          let file = try? GGUFFile(file: mapped)
    else { return 0 }
    for tensor in file.tensors {
        _ = try? file.dequantize(tensor)
    }
    guard let source = try? GGUFModelSource(file: file), let tokenizer = try? Tokenizer(spec: source.tokenizer) else { return 0 }
    _ = tokenizer.decode(tokenizer.encode("<|im_start|>user\nHi there, 12345!<|im_end|>"))
    return 0
}
