import Foundation
import Testing
import TestSupport

@testable import Agent

/// The model hash against FIPS 180-4 test vectors, fed in one piece and in awkward pieces.
@Suite struct SHA256Tests {
    func digest(_ bytes: [UInt8], pieces: Int = 1) -> String {
        var hasher = SHA256()
        let size = max(1, (bytes.count + pieces - 1) / pieces)
        var start = 0
        repeat {
            let end = min(bytes.count, start + size)
            bytes[start..<end].withUnsafeBytes { hasher.update($0) }
            start = end
        } while start < bytes.count
        return hasher.finish()
    }

    @Test func knownVectors() {
        #expect(digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(digest(twoBlocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(digest(million, pieces: 7) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func splittingDoesNotChangeTheDigest() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let whole = digest(bytes)
        for pieces in [2, 3, 17, 64, 999] { #expect(digest(bytes, pieces: pieces) == whole) }
    }

    @Test func hashesAFile() throws {
        let digest = try withTemporaryFile(Array("abc".utf8)) { try SHA256.hash(file: $0) }
        #expect(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
