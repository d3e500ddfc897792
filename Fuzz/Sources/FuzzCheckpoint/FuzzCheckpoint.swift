import Foundation
import ModelFile
import Tokenizer

/// A Hugging Face checkpoint's `config.json`, `tokenizer.json` and `tokenizer_config.json`: the
/// input holds them in that order, separated by NUL bytes (which JSON text cannot contain; a
/// missing third part leaves the optional file out). They are opened as a directory with an
/// empty `model.safetensors`, as `elutq quantize` opens one; a checkpoint that opens has its
/// tokenizer built, and encode a chat turn and render its chat template.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let parts = UnsafeBufferPointer(start: data, count: size).split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count >= 2 else { return 0 }
    let names = ["config.json", "tokenizer.json", "tokenizer_config.json"]
    for (index, name) in names.enumerated() {
        let url = checkpoint.appendingPathComponent(name)
        if index < parts.count {
            try! Data(parts[index]).write(to: url)
        } else {
            try? FileManager.default.removeItem(at: url)
        }
    }
    guard let source = try? SafetensorsModelSource(path: checkpoint.path),
          let tokenizer = try? Tokenizer(spec: source.tokenizer)
    else { return 0 }
    _ = tokenizer.decode(tokenizer.encode("<|im_start|>user\nHi there, 12345!<|im_end|>"))
    if let template = source.tokenizer.chatTemplate.flatMap(ChatTemplate.init(template:)) {
        _ = template.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
    }
    return 0
}

/// The checkpoint directory every run rewrites, made once per process with its empty weights:
/// an 8-byte header length and the header `{}`.
let checkpoint: URL = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("elutq-fuzz-checkpoint-\(getpid())")
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try! Data([2, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)).write(to: directory.appendingPathComponent("model.safetensors"))
    return directory
}()
