import Foundation
import ModelFile
import Testing
import TestSupport

/// Broken and hostile `.hlq` files: each must end in an `HLQFileError` that says what is wrong, never a crash.
///
/// The edits work on raw bytes at the offsets docs/hlq-format.md gives, so these tests also
/// check that the document is enough to read and rewrite a file.
@Suite struct HLQFileCorruptionTests {
    /// A file's bytes with the header fields and sections the format document describes.
    struct Bytes {
        var bytes: [UInt8]

        func u64(at offset: Int) -> Int {
            Int(bytes[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }

        mutating func set(_ value: some FixedWidthInteger, at offset: Int) {
            bytes.replaceSubrange(offset..<offset + MemoryLayout.size(ofValue: value), with: bytesLE(value))
        }

        var metadata: Range<Int> { u64(at: 16)..<u64(at: 16) + u64(at: 24) }
        var directory: Range<Int> { u64(at: 32)..<u64(at: 32) + u64(at: 40) }

        /// Recomputes the header checksum, so that a changed field gets past it.
        mutating func resealHeader() {
            set(CRC32C.checksum(bytes[0..<60]), at: 60)
        }

        /// The directory's tensor entries as plain JSON objects.
        var tensors: [[String: Any]] {
            let directory = try! JSONSerialization.jsonObject(with: Data(bytes[self.directory])) as! [String: Any]
            return directory["tensors"] as! [[String: Any]]
        }

        /// Replaces the directory with `text` and fixes every length and checksum that covers it.
        mutating func replaceDirectory(with text: [UInt8]) {
            let start = directory.lowerBound
            bytes.replaceSubrange(start..., with: text)
            set(UInt64(text.count), at: 40)
            set(UInt64(bytes.count), at: 48)
            set(CRC32C.checksum(text), at: 56)
            resealHeader()
        }

        /// Rewrites the directory's tensor entries with `edit`, as a buggy or hostile writer might.
        mutating func editTensors(_ edit: (inout [[String: Any]]) -> Void) {
            var directory = try! JSONSerialization.jsonObject(with: Data(bytes[self.directory])) as! [String: Any]
            var tensors = directory["tensors"] as! [[String: Any]]
            edit(&tensors)
            directory["tensors"] = tensors
            replaceDirectory(with: Array(try! JSONSerialization.data(withJSONObject: directory)))
        }

        /// The index of the entry called `name`.
        func index(of name: String) -> Int {
            tensors.firstIndex { $0["name"] as? String == name }!
        }
    }

    private static let sample = try! HLQFileSample.bytes()

    /// Opens `bytes` and verifies them, returning the first error, or nil if the file is sound.
    private func firstError(_ bytes: [UInt8]) throws -> HLQFileError? {
        try withTemporaryDirectory { try firstError(bytes, at: $0.appendingPathComponent("test.hlq").path) }
    }

    /// `firstError(bytes)` through the file at `path`, for loops over thousands of variants,
    /// where a new directory for each would cost more than the check.
    private func firstError(_ bytes: [UInt8], at path: String) throws -> HLQFileError? {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do throws(HLQFileError) {
            try HLQFile(path: path).verify()
            return nil
        } catch {
            return error
        }
    }

    private func expectError(_ bytes: Bytes, _ expected: HLQFileError, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try firstError(bytes.bytes) == expected, sourceLocation: sourceLocation)
    }

    private func expectError(_ bytes: Bytes, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try firstError(bytes.bytes)
        #expect(error?.description.contains(text) == true, "\(error.map(String.init(describing:)) ?? "no error")",
                sourceLocation: sourceLocation)
    }

    @Test func theSampleIsSound() throws {
        #expect(try firstError(Self.sample) == nil)
    }

    // MARK: Truncation and the header

    @Test func truncationAtEveryLengthIsNamed() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("cut.hlq").path
            for length in 1..<Self.sample.count {
                let error = try firstError(Array(Self.sample.prefix(length)), at: path)
                if length < 64 {
                    #expect(error == .truncatedHeader(fileSize: length))
                } else {
                    #expect(error == .fileLengthMismatch(recorded: UInt64(Self.sample.count), actual: length), "cut at \(length)")
                }
            }
        }
        let error = try firstError(Array(Self.sample.prefix(1000)))
        #expect(error?.description == "file truncated: the header records \(Self.sample.count) bytes, but the file has 1000")
    }

    /// A cut file whose header was patched to the new length still fails, on the section it lost.
    @Test func aTruncatedFileWithAMatchingHeaderFailsOnItsSections() throws {
        var file = Bytes(bytes: Self.sample)
        let directory = file.directory
        file.bytes.removeLast(10)
        file.set(UInt64(file.bytes.count), at: 48)
        file.resealHeader()
        try expectError(file, .sectionOutOfBounds(.directory, offset: UInt64(directory.lowerBound), length: UInt64(directory.count),
                                                  allowed: 64..<UInt64(file.bytes.count)))
    }

    @Test func appendedBytesAreNoticed() throws {
        try expectError(Bytes(bytes: Self.sample + [0]),
                        mentioning: "the file has \(Self.sample.count + 1) bytes, more than the \(Self.sample.count) its header records")
    }

    @Test func badMagic() throws {
        var file = Bytes(bytes: Self.sample)
        file.bytes.replaceSubrange(0..<8, with: Array("GGUF\u{3}\0\0\0".utf8))
        try expectError(file, .badMagic(found: [0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]))
        try expectError(file, mentioning: "not an .hlq file: it starts with bytes [47 47 55 46 3 0 0 0] instead of \"ELUTQHLQ\"")
    }

    @Test(arguments: [UInt32(2), 0, 0xFFFF_FFFF])
    func unsupportedVersions(version: UInt32) throws {
        var file = Bytes(bytes: Self.sample)
        file.set(version, at: 8)
        try expectError(file, .unsupportedVersion(version))
        try expectError(file, mentioning: "unsupported version \(version), this build reads 1")
    }

    @Test func endiannessMarker() throws {
        var file = Bytes(bytes: Self.sample)
        file.set(UInt32(0xDEAD_BEEF), at: 12)
        try expectError(file, .badEndiannessMarker(found: 0xDEAD_BEEF))
        try expectError(file, mentioning: "the endianness marker is 0xDEADBEEF instead of 0x01020304")

        // A big-endian writer would have swapped the version too.
        file.set(UInt32(0x0102_0304).byteSwapped, at: 12)
        file.set(UInt32(1).byteSwapped, at: 8)
        try expectError(file, .bigEndian)
    }

    @Test func headerChecksum() throws {
        var file = Bytes(bytes: Self.sample)
        file.bytes[24] ^= 0x01
        try expectError(file, mentioning: "header checksum mismatch")
        file = Bytes(bytes: Self.sample)
        file.bytes[63] ^= 0x80
        try expectError(file, mentioning: "header checksum mismatch")
    }

    @Test func sectionsOutsideTheFile() throws {
        var file = Bytes(bytes: Self.sample)
        let size = UInt64(Self.sample.count)
        file.set(UInt64.max, at: 40)
        file.resealHeader()
        try expectError(file, .sectionOutOfBounds(.directory, offset: UInt64(file.u64(at: 32)), length: .max, allowed: 64..<size))

        file = Bytes(bytes: Self.sample)
        file.set(UInt64(8), at: 16)
        file.resealHeader()
        try expectError(file, mentioning: "the metadata (\(file.u64(at: 24)) bytes at offset 8) does not lie within bytes 64..<\(file.directory.lowerBound)")

        // The metadata may not reach into the directory.
        file = Bytes(bytes: Self.sample)
        file.set(UInt64(file.metadata.count + 1), at: 24)
        file.resealHeader()
        try expectError(file, mentioning: "the metadata (")
    }

    // MARK: The JSON sections

    @Test func corruptSectionsFailTheirChecksums() throws {
        var file = Bytes(bytes: Self.sample)
        // A byte inside a string: still valid JSON, so only the checksum can tell.
        let tiny = file.bytes[file.metadata].firstIndex(of: UInt8(ascii: "y"))!
        file.bytes[tiny] = UInt8(ascii: "Y")
        try expectError(file, mentioning: "metadata checksum mismatch")

        file = Bytes(bytes: Self.sample)
        file.bytes[file.directory.lowerBound + 10] ^= 0x20
        try expectError(file, mentioning: "directory checksum mismatch")
    }

    @Test func invalidJSON() throws {
        var file = Bytes(bytes: Self.sample)
        file.replaceDirectory(with: Array("not json".utf8))
        try expectError(file, mentioning: "the directory is not valid:")

        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[1]["type"] = ["kind": "q4"] }
        try expectError(file, mentioning: "the directory is not valid: at tensors[1].type.kind: unknown tensor kind 'q4'; this build reads f32, f16, q8 and hlq")

        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[2]["crc32c"] = nil }
        try expectError(file, .invalidJSON(.directory, reason: "tensors[2].crc32c is missing"))

        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[0]["offset"] = "64" }
        try expectError(file, mentioning: "the directory is not valid: at tensors[0].offset:")
    }

    // MARK: The tensor directory

    @Test func tensorOffsetPastTheEnd() throws {
        var file = Bytes(bytes: Self.sample)
        file.editTensors { $0[0]["offset"] = 1 << 40 }
        try expectError(file, .tensorOutOfBounds(tensor: "output_norm.weight", offset: 1 << 40, byteCount: 40, data: 64..<file.metadata.lowerBound))
        try expectError(file, mentioning: "tensor 'output_norm.weight' (40 bytes at offset 1099511627776) does not lie within the tensor data, bytes 64..<")

        // Into the metadata, and before the data.
        let q8 = file.index(of: "token_embd.weight"), lastLine = file.metadata.lowerBound / 64 * 64
        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[q8]["offset"] = lastLine }
        try expectError(file, mentioning: "tensor 'token_embd.weight' (148 bytes at offset")
        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[0]["offset"] = -64 }
        try expectError(file, mentioning: "tensor 'output_norm.weight' (40 bytes at offset -64) does not lie within the tensor data")
        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[0]["offset"] = 0 }
        try expectError(file, mentioning: "tensor 'output_norm.weight' (40 bytes at offset 0) does not lie within the tensor data")
    }

    @Test func misalignedTensor() throws {
        var file = Bytes(bytes: Self.sample)
        let offset = file.tensors[1]["offset"] as! Int
        file.editTensors { $0[1]["offset"] = offset + 8 }
        try expectError(file, .misalignedTensor(tensor: "cube", offset: offset + 8))
        try expectError(file, mentioning: "tensor 'cube' starts at offset \(offset + 8), which is not a multiple of 64")
    }

    @Test func overlappingTensors() throws {
        var file = Bytes(bytes: Self.sample)
        let cube = file.tensors[1]["offset"] as! Int, halves = file.index(of: "halves")
        file.editTensors { $0[halves]["offset"] = cube }
        try expectError(file, .overlappingTensors("cube", "halves"))
        try expectError(file, mentioning: "tensors 'cube' and 'halves' overlap")

        // The cube is 96 bytes, so a tensor 64 bytes into it overlaps its tail.
        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[halves]["offset"] = cube + 64 }
        try expectError(file, .overlappingTensors("cube", "halves"))
    }

    @Test func sizeInconsistentWithTypeAndShape() throws {
        var file = Bytes(bytes: Self.sample)
        file.editTensors { $0[0]["byteCount"] = 44 }
        try expectError(file, .sizeMismatch(tensor: "output_norm.weight", byteCount: 44, expected: 40))

        let hlq = file.index(of: "blk.0.attn_q.weight")
        file = Bytes(bytes: Self.sample)
        file.editTensors { $0[hlq]["shape"] = [200, 80] }
        try expectError(file, mentioning: "tensor 'blk.0.attn_q.weight' has 4864 bytes, but its type and shape need")
    }

    @Test func invalidTypesAndShapes() throws {
        let hlq = Bytes(bytes: Self.sample).index(of: "blk.0.attn_q.weight")
        let cases: [(edit: (inout [[String: Any]]) -> Void, message: String)] = [
            ({ $0[hlq]["type"] = ["kind": "hlq", "bits": 7, "groupSize": 64] }, "tensor 'blk.0.attn_q.weight': hlq takes 1 to 4 bits, not 7"),
            ({ $0[hlq]["type"] = ["kind": "hlq", "bits": 2, "groupSize": 0] }, "hlq group size must be a multiple of 32 from 32 to 1024, not 0"),
            ({ $0[hlq]["shape"] = [200, 40, 1] }, "hlq(bits: 2, groupSize: 64) tensors are matrices [cols, rows], but the shape is [200, 40, 1]"),
            ({ $0[0]["shape"] = [] as [Int] }, "tensor 'output_norm.weight': f32 tensors have 1 to 4 dimensions, not 0"),
            ({ $0[0]["shape"] = [1, 1, 1, 1, 10] }, "f32 tensors have 1 to 4 dimensions, not 5"),
            ({ $0[0]["shape"] = [Int.max] }, "shape [9223372036854775807] has a dimension outside 0...1073741824"),
            ({ $0[0]["shape"] = [1 << 30, 1 << 30] }, "shape [1073741824, 1073741824] has more than 2^48 elements"),
        ]
        for (edit, message) in cases {
            var file = Bytes(bytes: Self.sample)
            file.editTensors(edit)
            try expectError(file, mentioning: message)
        }
    }

    @Test func duplicateNames() throws {
        var file = Bytes(bytes: Self.sample)
        file.editTensors { $0[3]["name"] = "cube" }
        try expectError(file, .duplicateTensor("cube"))
    }

    // MARK: Tensor data

    /// A flipped byte in any tensor, the padding between a q8 matrix's parts included, is named by `verify`.
    @Test func aFlippedDataByteIsNamedByVerify() throws {
        let file = Bytes(bytes: Self.sample)
        for tensor in file.tensors where tensor["byteCount"] as! Int > 0 {
            let name = tensor["name"] as! String, offset = tensor["offset"] as! Int, count = tensor["byteCount"] as! Int
            for position in [offset, offset + count / 2, offset + count - 1] {
                var corrupt = file
                corrupt.bytes[position] ^= 0x10
                let error = try #require(try firstError(corrupt.bytes), "\(name) at \(position)")
                guard case let .tensorChecksumMismatch(named, stored, _) = error else {
                    Issue.record("expected a checksum mismatch for \(name), got \(error)")
                    continue
                }
                #expect(named == name)
                #expect(stored == UInt32(tensor["crc32c"] as! Int))
                #expect(error.description.hasPrefix("tensor '\(name)' checksum mismatch (stored 0x"))
            }
        }
    }

    /// Every byte of the file is covered by a check, except the zeros between tensors: flipping
    /// any other byte must make opening or verifying fail, and nothing may crash.
    @Test func everySingleByteCorruptionIsCaught() throws {
        let file = Bytes(bytes: Self.sample)
        var covered = [Bool](repeating: false, count: file.bytes.count)
        for index in 0..<64 { covered[index] = true }
        for index in file.metadata.lowerBound..<file.bytes.count { covered[index] = true }
        for tensor in file.tensors {
            let offset = tensor["offset"] as! Int
            for index in offset..<offset + (tensor["byteCount"] as! Int) { covered[index] = true }
        }
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("flipped.hlq").path
            for position in file.bytes.indices {
                var corrupt = file.bytes
                corrupt[position] ^= 0x01
                let error = try firstError(corrupt, at: path)
                #expect((error != nil) == covered[position], "flip at \(position): \(error.map(String.init(describing:)) ?? "accepted")")
            }
        }
    }

    @Test func unreadableFilesPassTheMappingErrorOn() throws {
        try withTemporaryDirectory { directory in
            let missing = directory.appendingPathComponent("missing.hlq").path
            let error = #expect(throws: HLQFileError.self) { try HLQFile(path: missing) }
            #expect(error?.description == "cannot open \(missing): No such file or directory")
            #expect(throws: HLQFileError.unreadable(.notARegularFile(path: directory.path))) { try HLQFile(path: directory.path) }
        }
        let empty = try withTemporaryFile([]) { path in #expect(throws: HLQFileError.self) { try HLQFile(path: path) } }
        #expect(empty?.description.hasSuffix("test.bin is empty") == true)
    }
}
