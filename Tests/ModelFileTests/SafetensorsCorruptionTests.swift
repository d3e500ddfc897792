import TestSupport
import Foundation
import Testing
import ModelFile

/// Broken and hostile files: each must end in a `SafetensorsError` that says what is wrong, never a crash.
@Suite struct SafetensorsCorruptionTests {
    /// Parses `bytes` and returns the problem it must be rejected for (recording an issue if it is accepted).
    private func problem(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> SafetensorsError.Problem? {
        try withTemporaryFile(bytes) { path in
            let error = #expect(throws: SafetensorsError.self, sourceLocation: sourceLocation) { try SafetensorsFile(path: path) }
            #expect(error.map { $0.path == path } ?? true, "the error names the file", sourceLocation: sourceLocation)
            return error?.problem
        }
    }

    private func expectProblem(
        _ builder: SafetensorsBuilder, _ expected: SafetensorsError.Problem, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try problem(builder.build(), sourceLocation: sourceLocation) == expected, sourceLocation: sourceLocation)
    }

    private func f32(_ count: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: 4 * count)
    }

    // MARK: Header framing

    @Test func truncationAtEveryLengthThrows() throws {
        let bytes = SafetensorsBuilder.sample().build()
        for length in 1..<bytes.count {
            #expect(try problem(Array(bytes.prefix(length))) != nil, "cut at \(length)")
        }
    }

    @Test func fileShorterThanTheHeaderLength() throws {
        let found = try problem([0x10, 0, 0])
        #expect(found == .tooShort(fileSize: 3))
        #expect(found?.description == "the file has 3 bytes, fewer than the 8 of the header length: it is truncated or not a safetensors file")
    }

    @Test func headerLengthPastTheEnd() throws {
        var builder = SafetensorsBuilder.sample()
        let size = builder.build().count
        builder.headerLength = UInt64(size)
        try expectProblem(builder, .headerPastEnd(headerLength: UInt64(size), fileSize: size))
        builder.headerLength = .max
        try expectProblem(builder, .headerPastEnd(headerLength: .max, fileSize: size))
        #expect(SafetensorsError.Problem.headerPastEnd(headerLength: 99, fileSize: 50).description
                == "the header length 99 runs past the end of the 50-byte file: it is truncated or not a safetensors file")
    }

    /// Text that is not a JSON object of tensor entries: the message quotes the offending path.
    @Test(arguments: [
        ("{\"a\": {\"dtype\": \"F32\"", "The given data was not valid JSON."),
        ("[1, 2]", "Expected to decode Dictionary"),
        ("", "The given data was not valid JSON."),
        ("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", "'a.data_offsets' is missing"),
        ("{\"a\": {\"dtype\": \"F32\", \"shape\": [\"x\"], \"data_offsets\": [0, 4]}}", "'a.shape[0]': "),
        // Foundation reports a number too large for Int as invalid JSON, without a path.
        ("{\"a\": {\"dtype\": \"F32\", \"shape\": [99999999999999999999], \"data_offsets\": [0, 4]}}", "not valid JSON"),
        ("{\"__metadata__\": {\"n\": 3}}", "'__metadata__.n': "),
    ])
    func invalidJSON(header: String, message: String) throws {
        var builder = SafetensorsBuilder()
        builder.header = header
        guard case .invalidHeader(let why)? = try problem(builder.build()) else {
            Issue.record("expected an invalid header")
            return
        }
        #expect(why.contains(message), "\(why)")
    }

    // MARK: Tensor entries

    @Test func unknownDType() throws {
        var builder = SafetensorsBuilder.sample()
        builder.tensors[1].dtype = "F12"
        try expectProblem(builder, .unknownDType(tensor: "f16", dtype: "F12"))
        #expect(SafetensorsError(path: "m.safetensors", problem: .unknownDType(tensor: "f16", dtype: "F12")).description
                == "m.safetensors: tensor 'f16' has unknown dtype 'F12'")
    }

    @Test func invalidShapes() throws {
        for shape in [[-1, 4], [Int.max, 2], [1 << 31, 1 << 31, 4], [0, -3]] {
            var builder = SafetensorsBuilder()
            builder.tensors = [.init(name: "t", dtype: "F32", shape: shape, data: [], offsets: [0, 0])]
            try expectProblem(builder, .invalidShape(tensor: "t", shape: shape))
        }
    }

    @Test func offsetsThatAreNotARange() throws {
        for offsets in [[4, 0], [-4, 0], [0], [0, 4, 8], []] {
            var builder = SafetensorsBuilder()
            builder.tensors = [.init(name: "t", dtype: "F32", shape: [1], data: [], offsets: offsets)]
            try expectProblem(builder, .invalidOffsets(tensor: "t", offsets: offsets))
        }
    }

    @Test func tensorPastTheEndOfTheData() throws {
        let sample = SafetensorsBuilder.sample()
        #expect(try problem(Array(sample.build().dropLast(5))) == .tensorOutOfBounds(tensor: "bf16", end: 48, dataSize: 43))
        var builder = sample
        builder.tensors[2].data = []
        builder.tensors[2].offsets = [48, 60]
        try expectProblem(builder, .tensorOutOfBounds(tensor: "bf16", end: 60, dataSize: 36))
        builder.tensors[2].offsets = [Int.max - 12, Int.max]
        try expectProblem(builder, .tensorOutOfBounds(tensor: "bf16", end: .max, dataSize: 36))
        #expect(SafetensorsError.Problem.tensorOutOfBounds(tensor: "t", end: 60, dataSize: 36).description
                == "tensor 't' ends at data offset 60, past the end of the 36-byte data section: the file is truncated or corrupt")
    }

    @Test func spanThatDisagreesWithTheShape() throws {
        var builder = SafetensorsBuilder()
        builder.tensors = [.init(name: "t", dtype: "F16", shape: [2, 3], data: f32(3), offsets: [0, 10])]
        try expectProblem(builder, .sizeMismatch(tensor: "t", expected: 12, actual: 10))
        #expect(SafetensorsError.Problem.sizeMismatch(tensor: "t", expected: 12, actual: 10).description
                == "tensor 't' spans 10 bytes, but its shape and dtype need 12")
    }

    @Test func overlappingTensors() throws {
        var builder = SafetensorsBuilder()
        builder.tensors = [
            .init(name: "a", dtype: "F32", shape: [4], data: f32(4), offsets: [0, 16]),
            .init(name: "b", dtype: "F32", shape: [2], data: f32(2), offsets: [12, 20]),
        ]
        try expectProblem(builder, .overlappingTensors("a", "b"))
        // One tensor inside another, and the same bytes claimed twice.
        builder.tensors[1].offsets = [4, 12]
        try expectProblem(builder, .overlappingTensors("a", "b"))
        builder.tensors[1] = .init(name: "b", dtype: "F32", shape: [4], data: f32(4), offsets: [0, 16])
        try expectProblem(builder, .overlappingTensors("a", "b"))
        // A long tensor overlaps one that starts after a shorter neighbour.
        builder.tensors = [
            .init(name: "long", dtype: "F32", shape: [8], data: f32(8), offsets: [0, 32]),
            .init(name: "short", dtype: "F32", shape: [8], data: f32(8), offsets: [32, 64]),
            .init(name: "inside", dtype: "F32", shape: [1], data: f32(1), offsets: [8, 12]),
        ]
        try expectProblem(builder, .overlappingTensors("long", "inside"))
    }

    /// Touching is not overlapping, and empty tensors take no bytes, wherever they say they are.
    @Test func adjacentAndEmptyTensorsAreAccepted() throws {
        var builder = SafetensorsBuilder()
        builder.tensors = [
            .init(name: "a", dtype: "F32", shape: [2], data: f32(2), offsets: [0, 8]),
            .init(name: "b", dtype: "F32", shape: [2], data: f32(2), offsets: [8, 16]),
            .init(name: "empty", dtype: "F32", shape: [0], data: [], offsets: [4, 4]),
            // A gap before the next tensor is allowed, as it harms nothing.
            .init(name: "c", dtype: "BF16", shape: [1], data: [0, 0], offsets: [20, 22]),
        ]
        try withTemporaryFile(builder.build()) { path in
            let file = try SafetensorsFile(path: path)
            #expect(file.tensors.map(\.name) == ["a", "empty", "b", "c"])
        }
    }
}
