import TestSupport
import Foundation
import Testing
import ModelFile

@Suite struct MappedFileTests {
    @Test func mapsAWholeFile() throws {
        try withTemporaryFile([1, 2, 3, 4, 5, 6, 7, 8, 9]) { path in
            let file = try MappedFile(path: path)
            #expect(file.path == path)
            #expect(file.count == 9)
            #expect(Array(file.bytes) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
            #expect(try file.load(UInt32.self, at: 1) == 0x0504_0302, "little-endian, unaligned")
            #expect(try file.load(UInt8.self, at: 8) == 9)
            #expect(Array(try file.bytes(at: 7, count: 2)) == [8, 9])
            #expect(try file.bytes(at: 9, count: 0).isEmpty)
        }
    }

    @Test func accessPastTheEndThrows() throws {
        try withTemporaryFile([1, 2, 3]) { path in
            let file = try MappedFile(path: path)
            #expect(throws: MappedFileError.self) { try file.load(UInt32.self, at: 0) }
            #expect(throws: MappedFileError.self) { try file.bytes(at: 2, count: 2) }
            #expect(throws: MappedFileError.self) { try file.bytes(at: -1, count: 1) }
            #expect(throws: MappedFileError.self) { try file.bytes(at: 1, count: .max) }
            let error = #expect(throws: MappedFileError.self) { try file.bytes(at: 4, count: 0) }
            #expect(error?.description.hasSuffix("0 bytes at offset 4 run past the end of the 3-byte file") == true)
        }
    }

    @Test func unusableFilesThrowClearErrors() throws {
        try withTemporaryDirectory { directory in
            let missing = directory.appendingPathComponent("missing").path
            let notFound = #expect(throws: MappedFileError.self) { try MappedFile(path: missing) }
            #expect(notFound?.description == "cannot open \(missing): No such file or directory")

            #expect(throws: MappedFileError.notARegularFile(path: directory.path)) { try MappedFile(path: directory.path) }

            let empty = directory.appendingPathComponent("empty").path
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            #expect(throws: MappedFileError.empty(path: empty)) { try MappedFile(path: empty) }
            // GGUFFile passes the mapping error on unchanged.
            #expect(throws: MappedFileError.empty(path: empty)) { try GGUFFile(path: empty) }
        }
    }

    @Test func aCopyOfBytesReadsLikeAFile() throws {
        let contents: [UInt8] = [1, 2, 3, 4, 5]
        let file = try contents.withUnsafeBytes { try MappedFile(copying: $0, path: "input") }
        #expect(file.path == "input")
        #expect(Array(file.bytes) == contents)
        #expect(Int(bitPattern: file.bytes.baseAddress) % 4096 == 0, "aligned like a mapping")
        #expect(try file.load(UInt32.self, at: 1) == 0x0504_0302)
        #expect(throws: MappedFileError.self) { try file.bytes(at: 4, count: 2) }
        #expect(throws: MappedFileError.empty(path: "input")) { try MappedFile(copying: UnsafeRawBufferPointer(start: nil, count: 0), path: "input") }
    }
}
