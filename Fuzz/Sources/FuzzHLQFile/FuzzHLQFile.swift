import ModelFile

/// A `.hlq` file: the header, both JSON sections and the tensor directory are checked on opening;
/// a file that opens must then survive `verify` and every accessor over its tensors.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let mapped = try? MappedFile(copying: UnsafeRawBufferPointer(start: data, count: size), path: "input.hlq"),
          let file = try? HLQFile(file: mapped)
    else { return 0 }
    try? file.verify()
    for tensor in file.tensors {
        _ = file.parts(of: tensor)
    }
    return 0
}
