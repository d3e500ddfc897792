import Foundation
import ModelFile
import Testing
import TestSupport

/// Model identities: SHA-256 of files against FIPS 180-4 vectors and the real model's published digest.
@Suite struct FileDigestTests {
    @Test func knownVectors() throws {
        let cases: [([UInt8], String)] = [
            (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (bytes, digest) in cases {
            let found = try withTemporaryFile(bytes) { try FileDigest.sha256(path: $0) }
            #expect(found == digest)
        }
        #expect(FileDigest.sha256(data: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// tools/setup/fetch-model checks the same digest with sha256sum.
    @Test(.needs(.realModel)) func realModel() throws {
        #expect(try FileDigest.sha256(path: try realModelPath()) == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    }
}
