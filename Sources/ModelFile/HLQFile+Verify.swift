extension HLQFile {
    /// Recomputes every tensor's CRC-32C and throws `tensorChecksumMismatch` for the first that differs.
    ///
    /// Opening already checked the header, metadata and directory, which are small and decoded
    /// into memory; this reads every byte of tensor data, which opening deliberately does not,
    /// so that loading a model costs no more than the pages the engine touches. Run it after a
    /// download or copy, or whenever a model misbehaves.
    ///
    /// `progress` is called after each tensor with the bytes checked so far and the total.
    public func verify(progress: (_ checkedBytes: Int, _ totalBytes: Int) -> Void = { _, _ in }) throws(HLQFileError) {
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        var checked = 0
        for tensor in tensors {
            let computed = CRC32C.checksum(data(of: tensor))
            guard computed == tensor.crc32c else {
                throw .tensorChecksumMismatch(tensor: tensor.name, stored: tensor.crc32c, computed: computed)
            }
            checked += tensor.byteCount
            progress(checked, total)
        }
    }
}
