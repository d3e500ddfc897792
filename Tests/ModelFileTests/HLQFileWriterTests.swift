import Foundation
import ModelFile
import Testing
import TestSupport

/// The writer's promise: the destination holds the old file or the complete new one, and nothing is left behind.
@Suite struct HLQFileWriterTests {
    @Test func finishReplacesTheDestinationAndLeavesNothingElse() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            try Data("old model".utf8).write(to: URL(fileURLWithPath: path))
            try HLQFileSample.write(HLQFileSample.contents(), to: path)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.hlq"])
            #expect(try HLQFile(path: path).tensors.count == 6)
        }
    }

    @Test func abortLeavesNoTemporaryFileAndKeepsTheOldModel() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            let old = Data("old model".utf8)
            try old.write(to: URL(fileURLWithPath: path))
            let writer = try HLQFileWriter(destination: path)
            #expect(writer.temporaryPath == directory.appendingPathComponent(".model.hlq.partial-\(getpid())").path)
            #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
            try [Float](repeating: 2, count: 1000).withUnsafeBytes {
                try writer.append(name: "a", type: .f32, shape: [1000], parts: [$0])
            }
            writer.abort()
            #expect(!FileManager.default.fileExists(atPath: writer.temporaryPath))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == old)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.hlq"])
        }
    }

    @Test func aWriterDroppedUnfinishedCleansUp() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            var temporaryPath = ""
            do {
                let writer = try HLQFileWriter(destination: path)
                temporaryPath = writer.temporaryPath
                try [Float](repeating: 2, count: 10).withUnsafeBytes {
                    try writer.append(name: "a", type: .f32, shape: [10], parts: [$0])
                }
            }
            #expect(!temporaryPath.isEmpty && !FileManager.default.fileExists(atPath: temporaryPath))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }

    /// Every rejected tensor aborts the writer: an error midway leaves no half-written file.
    @Test(arguments: [
        ("a", HLQTensorType.f32, [3], 12, 1, "tensor 'a' appears more than once"),
        ("b", .f32, [3], 8, 1, "tensor 'b': the f32 values are 8 bytes, but shape [3] needs 12"),
        ("c", .q8, [4, 2], 8, 1, "tensor 'c': q8 takes 2 parts (int8 rows, f32 row scales), not 1"),
        ("d", .q8, [4], 4, 2, "tensor 'd': q8 tensors are matrices [cols, rows], but the shape is [4]"),
        ("e", .hlq(bits: 5, groupSize: 64), [64, 32], 0, 2, "tensor 'e': hlq takes 1 to 4 bits, not 5"),
        ("f", .hlq(bits: 2, groupSize: 48), [64, 32], 0, 2, "tensor 'f': hlq group size must be a multiple of 32 from 32 to 1024, not 48"),
        ("g", .f16, [-1], 0, 1, "tensor 'g': shape [-1] has a dimension outside 0...1073741824"),
        ("h", .f16, [1 << 30, 1 << 30, 1 << 30], 0, 1, "tensor 'h': shape [1073741824, 1073741824, 1073741824] has more than 2^48 elements"),
    ])
    func rejectedTensorsAbort(name: String, type: HLQTensorType, shape: [Int], partBytes: Int, partCount: Int, message: String) throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            let old = Data("old model".utf8)
            try old.write(to: URL(fileURLWithPath: path))
            let writer = try HLQFileWriter(destination: path)
            try [Float](repeating: 0, count: 3).withUnsafeBytes { try writer.append(name: "a", type: .f32, shape: [3], parts: [$0]) }
            let part = [UInt8](repeating: 0, count: partBytes)
            let error = part.withUnsafeBytes { bytes in
                #expect(throws: HLQFileError.self) {
                    try writer.append(name: name, type: type, shape: shape, parts: Array(repeating: bytes, count: partCount))
                }
            }
            #expect(error?.description == message)
            #expect(!FileManager.default.fileExists(atPath: writer.temporaryPath))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == old)
        }
    }

    @Test func anUnwritableDestinationFailsAtOnce() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("missing/model.hlq").path
            let error = #expect(throws: HLQFileError.self) { try HLQFileWriter(destination: path) }
            let partial = directory.appendingPathComponent("missing/.model.hlq.partial-\(getpid())").path
            #expect(error?.description == "cannot create \(partial): No such file or directory")
        }
    }

    @Test func aSecondWriterForTheSameDestinationIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            let first = try HLQFileWriter(destination: path)
            let error = #expect(throws: HLQFileError.self) { try HLQFileWriter(destination: path) }
            #expect(error?.description == "cannot create \(first.temporaryPath): File exists")
            first.abort()
        }
    }
}
