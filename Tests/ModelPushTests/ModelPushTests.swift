import Crypto
import Foundation
import MQTT
import Protocol
import Testing
import TestSupport

@testable import ModelPush

/// The push protocol on its own: manifest encoding and signatures, block messages, the bitmap,
/// events and the sender's window.
@Suite struct ModelPushTests {
    let manifest = PushManifest(name: "tiny", size: 1_000_000, sha256: String(repeating: "ab", count: 32), blockSize: 65536)

    @Test func blockCountFollowsSizeAndBlockSize() {
        #expect(manifest.blockCount == 16)
        #expect(manifest.range(ofBlock: 15) == 983_040..<1_000_000)
        #expect(manifest.problem == nil)
    }

    /// A signed command's time is checked without arithmetic that a hostile value could overflow,
    /// and a nonce is admitted once within the window.
    @Test func theReplayGuardRefusesImpossibleTimesAndRepeatedNonces() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let replays = CommandReplayGuard(maxAge: 300, startedAt: start)
        let now = start.addingTimeInterval(10)
        let nowMillis = Int64(now.timeIntervalSince1970 * 1000)
        for issued in [Int64.min, Int64.max, nowMillis - 301_000, nowMillis + 301_000] {
            #expect(throws: RequestError.self, "issued \(issued)") { try replays.admit(nonce: "n\(issued)", issued: issued, now: now) }
        }
        #expect(throws: Never.self) { try replays.admit(nonce: "a", issued: nowMillis - 1000, now: now) }
        #expect(throws: RequestError.self) { try replays.admit(nonce: "a", issued: nowMillis - 1000, now: now) }
    }

    /// With a file, the nonces survive a restart: the same command is refused by the next guard,
    /// even one started before the command's time (a board whose clock is behind after a boot),
    /// and so is a command older than the window before the newest admitted.
    @Test func nonceFileKeepsReplaysOutAcrossARestart() throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent(".command-nonces").path
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let millis = { (date: Date) in Int64(date.timeIntervalSince1970 * 1000) }
            let first = CommandReplayGuard(maxAge: 300, startedAt: start, file: file)
            try first.admit(nonce: "a", issued: millis(start) + 5000, now: start.addingTimeInterval(6))
            // Restarted with the clock set back 20 s: the captured command is still within the window.
            let earlier = start.addingTimeInterval(-20)
            let restarted = CommandReplayGuard(maxAge: 300, startedAt: earlier, file: file)
            #expect(restarted.problem == nil)
            #expect(throws: RequestError.self) { try restarted.admit(nonce: "a", issued: millis(start) + 5000, now: earlier) }
            // A fresh command issued before this start is fine: the file, not the start, guards.
            #expect(throws: Never.self) { try restarted.admit(nonce: "b", issued: millis(earlier) - 1000, now: earlier) }
            // One issued more than the window before the newest admitted is refused whatever the clock says.
            let old = millis(start) + 5000 - 301_000
            #expect(throws: RequestError.self) {
                try restarted.admit(nonce: "c", issued: old, now: Date(timeIntervalSince1970: Double(old) / 1000))
            }
            #expect(throws: RequestError.self) { try restarted.admit(nonce: "has space", issued: millis(earlier), now: earlier) }
        }
    }

    /// An empty or damaged nonce file is not trusted: it is moved aside, commands issued before
    /// the start are refused until one is admitted, and the file is written again then.
    @Test(arguments: ["not a nonce file", ""])
    func anEmptyOrDamagedNonceFileFallsBackToTheStartRule(contents: String) throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent(".command-nonces").path
            try contents.write(toFile: file, atomically: true, encoding: .utf8)
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let replays = CommandReplayGuard(maxAge: 300, startedAt: start, file: file)
            #expect(replays.problem != nil)
            #expect(FileManager.default.fileExists(atPath: file + ".damaged"))
            #expect(throws: RequestError.self) { try replays.admit(nonce: "a", issued: 1_800_000_000_000 - 1000, now: start) }
            #expect(throws: Never.self) { try replays.admit(nonce: "b", issued: 1_800_000_000_000 + 1000, now: start) }
            #expect(CommandReplayGuard(maxAge: 300, startedAt: start, file: file).problem == nil)
        }
    }

    /// Changing any one field changes the signed bytes, so the signature covers every field.
    @Test func canonicalBytesCoverEveryField() {
        var variants: [PushManifest] = []
        var m = manifest
        m.name = "tinx"; variants.append(m); m = manifest
        m.size += 1; variants.append(m); m = manifest
        m.sha256 = String(repeating: "ac", count: 32); variants.append(m); m = manifest
        m.blockSize = 131072; variants.append(m); m = manifest
        m.blockCount += 1; variants.append(m); m = manifest
        m.formatVersion = 2; variants.append(m)
        let bytes = Set(([manifest] + variants).map(\.canonicalBytes))
        #expect(bytes.count == variants.count + 1)
    }

    @Test func aSignedManifestVerifiesAndSurvivesItsJSON() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = try SignedManifest.sign(manifest, with: key)
        try signed.verify(trustedKeys: [Curve25519.Signing.PrivateKey().publicKey, key.publicKey])
        let decoded = try SignedManifest(document: try JSON(parsing: signed.document.bytes))
        #expect(decoded == signed)
        try decoded.verify(trustedKeys: [key.publicKey])
    }

    @Test func everyTamperedFieldBreaksTheSignature() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = try SignedManifest.sign(manifest, with: key)
        for (field, value) in [("name", JSON("evil")), ("size", JSON(999_999)), ("sha256", JSON(String(repeating: "cd", count: 32))),
                               ("block_size", JSON(131072)), ("block_count", JSON(8))] {
            var document = signed.document.object!
            document[field] = value
            if field == "size" { document["block_count"] = 16 }
            if field == "block_size" { document["block_count"] = 8 }
            if field == "block_count" { document["block_size"] = 131072 }
            let tampered = try SignedManifest(document: .object(document))
            #expect(throws: PushError.self, "tampered \(field)") { try tampered.verify(trustedKeys: [key.publicKey]) }
        }
    }

    @Test func refusesUnsignedUntrustedAndKeylessPushes() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = try SignedManifest.sign(manifest, with: key)
        let cases: [(SignedManifest, [Curve25519.Signing.PublicKey], String)] = [
            (SignedManifest(manifest: manifest, signature: nil), [key.publicKey], "not signed"),
            (signed, [Curve25519.Signing.PrivateKey().publicKey], "does not verify"),
            (signed, [], "trusts no signing keys"),
        ]
        let reasons = cases.map { candidate, keys, expected -> Bool in
            do {
                try candidate.verify(trustedKeys: keys)
                return false
            } catch {
                return "\(error)".contains(expected)
            }
        }
        #expect(reasons == [true, true, true])
    }

    @Test func malformedManifestsNameTheirProblem() {
        var m = manifest
        m.name = "../etc/passwd"
        #expect(m.problem?.contains("name") == true)
        m = manifest
        m.blockSize = 1024
        #expect(m.problem?.contains("block_size") == true)
        m = manifest
        m.blockCount = 3
        #expect(m.problem?.contains("block_count") == true)
        m = manifest
        m.sha256 = "xyz"
        #expect(m.problem?.contains("sha256") == true)
    }

    @Test func keyFilesRoundTripAndThePrivateOneIsPrivate() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("k").path
            let (key, publicPath) = try SigningKeys.generate(privatePath: path)
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try SigningKeys.privateKey(at: path).rawRepresentation == key.rawRepresentation)
            #expect(try SigningKeys.publicKey(at: publicPath).rawRepresentation == key.publicKey.rawRepresentation)
            #expect(throws: PushError.self) { try SigningKeys.generate(privatePath: path) }
            #expect(throws: PushError.self) { try SigningKeys.publicKey(at: path) }
        }
    }

    @Test func blockMessagesRoundTripAndCatchCorruption() throws {
        var random = SeededRandom(seed: 3)
        let data = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let tag = BlockMessage.transferTag(sha256: manifest.sha256)
        #expect(tag == [UInt8](repeating: 0xAB, count: 8))
        var payload = data.withUnsafeBytes { BlockMessage.encode(transfer: tag, index: 5, data: $0) }
        let block = try BlockMessage(payload: payload)
        #expect(block.index == 5 && block.transfer == tag && Array(block.data) == data && block.isIntact)
        payload[BlockMessage.headerSize + 100] ^= 1
        #expect(try !BlockMessage(payload: payload).isIntact)
        #expect(throws: PushError.self) { try BlockMessage(payload: Array(payload.dropLast())) }
        #expect(throws: PushError.self) { try BlockMessage(payload: Array("{\"id\": 1}".utf8)) }
    }

    @Test func theBitmapListsMissingRunsAndReadsBackItsBytes() throws {
        var bitmap = BlockBitmap(count: 20)
        #expect(bitmap.missingRanges == [0..<20])
        for index in [0, 1, 2, 7, 19] { bitmap.insert(index) }
        let again = bitmap.insert(7)
        #expect(!again)
        #expect(bitmap.received == 5)
        #expect(bitmap.missingRanges == [3..<7, 8..<19])
        let reread = try #require(BlockBitmap(count: 20, bytes: bitmap.bytes))
        #expect(reread == bitmap)
        #expect(BlockBitmap(count: 20, bytes: [0, 0]) == nil)
        #expect(BlockBitmap(count: 20, bytes: [0, 0, 0xF0]) == nil)
    }

    @Test func eventsRoundTrip() {
        let events: [PushEvent] = [
            .missing(sha256: "s", query: 3, ranges: [0..<4, 9..<12], received: 5), .ack(sha256: "s", index: 4, received: 6),
            .verifying(sha256: "s"), .installed(sha256: "s", name: "m"), .rejected(sha256: "s", reason: "why"),
        ]
        for event in events { #expect(PushEvent(document: event.document) == event) }
        #expect(PushEvent(document: ["sha256": "s", "event": "bogus"]) == nil)
    }

    /// The sender never has more than the window unacknowledged, and after a cut re-sends only
    /// blocks that were unacknowledged when it asked again.
    @Test func theSenderKeepsItsWindowAndResendsOnlyWhatWasInFlight() {
        var state = SenderState(blockCount: 40)
        state.ask()
        let early = state.nextBlock(window: 4)
        #expect(early == nil, "nothing goes out before the device answers")
        var accepted = state.answered(query: 1, missing: [0..<40])
        #expect(accepted)
        var sent: [Int] = []
        while let index = state.nextBlock(window: 4) { sent.append(index) }
        #expect(sent == [0, 1, 2, 3])
        state.acknowledge(0)
        state.acknowledge(2)
        while let index = state.nextBlock(window: 4) { sent.append(index) }
        #expect(state.inFlight.count == 4)
        // The connection drops with 1, 3, 4, 5 in flight; the device got 1 and 4.
        state.ask()
        accepted = state.answered(query: 1, missing: [3..<4, 5..<40])
        #expect(!accepted, "a stale answer is ignored")
        accepted = state.answered(query: 2, missing: [3..<4, 5..<40])
        #expect(accepted)
        while let index = state.nextBlock(window: 4) {
            state.acknowledge(index)
        }
        #expect(state.acknowledged.isComplete)
        #expect(state.resent == 2)
    }

    /// A device that crashed loses the blocks written since its last flush, acknowledged or not:
    /// its missing list is the truth, and those blocks are sent again.
    @Test func theSenderResendsAcknowledgedBlocksTheDeviceLost() {
        var state = SenderState(blockCount: 8)
        state.ask()
        _ = state.answered(query: 1, missing: [0..<8])
        while let index = state.nextBlock(window: 8) { state.acknowledge(index) }
        #expect(state.acknowledged.isComplete)
        state.ask()
        let accepted = state.answered(query: 2, missing: [5..<8])
        #expect(accepted)
        var sent: [Int] = []
        while let index = state.nextBlock(window: 8) { sent.append(index) }
        #expect(sent == [5, 6, 7])
        #expect(!state.acknowledged.contains(5))
    }
}
