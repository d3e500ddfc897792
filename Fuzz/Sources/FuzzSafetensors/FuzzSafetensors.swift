import ModelFile

/// A safetensors file: the header's JSON and every tensor's dtype, shape and offsets; a file
/// that opens must hand out each tensor's bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let mapped = try? MappedFile(copying: UnsafeRawBufferPointer(start: data, count: size), path: "input.safetensors"),
          let file = try? SafetensorsFile(file: mapped)
    else { return 0 }
    for tensor in file.tensors {
        _ = file.rawData(of: tensor)
    }
    return 0
}
