/// The BPE merge rules of a vocabulary, applied to one word at a time.
///
/// Symbols are token ids from the start: a word begins as one single-byte token per byte and
/// each merge replaces two neighbouring ids by the id of their concatenation. Keying the rules
/// by id pairs avoids building and hashing strings in the inner loop.
struct MergeTable: Sendable {
    /// A rule: merging the pair yields `merged`; a lower `rank` was learned earlier and wins.
    struct Merge: Sendable {
        let rank: Int32
        let merged: Int32
    }

    /// The token of each single byte, or -1 when the vocabulary lacks it (the byte is then dropped).
    let byteTokens: [Int32]
    private let merges: [UInt64: Merge]

    /// Reads merge lines of the form "left right", in rank order.
    ///
    /// A line whose parts or whose result are not tokens can never produce a token, so it is
    /// skipped rather than rejected: some converted vocabularies carry such lines harmlessly.
    /// Only a line without the separating space is an error, since it means the list is garbled.
    init(mergeLines: [String], idByText: [String: Int32]) throws(TokenizerError) {
        byteTokens = ByteLevel.scalarForByte.map { idByText[String($0)] ?? -1 }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            // Search from the second character on, so that a part which is itself " " still parses.
            guard let space = line.dropFirst().firstIndex(of: " ") else {
                throw .malformedMerge(line)
            }
            let left = line[..<space]
            let right = line[line.index(after: space)...]
            guard let leftID = idByText[String(left)], let rightID = idByText[String(right)],
                  let merged = idByText[String(left + right)]
            else { continue }
            let key = Self.key(leftID, rightID)
            if merges[key] == nil {
                merges[key] = Merge(rank: Int32(rank), merged: merged)
            }
        }
        self.merges = merges
    }

    /// Appends the tokens of one word, given as raw bytes.
    ///
    /// Always merges the lowest-ranked adjacent pair, leftmost first on ties, as llama.cpp and
    /// Hugging Face do. Symbols live in a linked list over an array, and candidate pairs in a
    /// heap, so a long word costs O(n log n) rather than a rescan per merge.
    func encode(_ bytes: some Collection<UInt8>, into output: inout [Int32]) {
        var ids = bytes.map { byteTokens[Int($0)] }
        let count = ids.count
        guard count > 1 else {
            output.append(contentsOf: ids.filter { $0 >= 0 })
            return
        }
        // next[i] == count and prev[i] == -1 mark the ends of the list.
        var next = Array(1...count)
        var prev = Array(-1..<(count - 1))
        var candidates = CandidateHeap()

        func consider(_ left: Int, _ right: Int) {
            guard let merge = merges[Self.key(ids[left], ids[right])] else { return }
            candidates.push(Candidate(rank: merge.rank, left: Int32(left), right: Int32(right),
                                      leftID: ids[left], rightID: ids[right], merged: merge.merged))
        }

        for index in 0..<(count - 1) {
            consider(index, index + 1)
        }
        while let candidate = candidates.pop() {
            let left = Int(candidate.left)
            let right = Int(candidate.right)
            // A candidate is stale once either side has merged elsewhere since it was pushed.
            guard ids[left] == candidate.leftID, ids[right] == candidate.rightID, next[left] == right else {
                continue
            }
            ids[left] = candidate.merged
            ids[right] = -1
            next[left] = next[right]
            if next[left] < count {
                prev[next[left]] = left
                consider(left, next[left])
            }
            if prev[left] >= 0 {
                consider(prev[left], left)
            }
        }
        var index = 0
        while index < count {
            if ids[index] >= 0 {
                output.append(ids[index])
            }
            index = next[index]
        }
    }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
}

/// A possible merge of the symbols at `left` and `right`, valid while they still hold these ids.
private struct Candidate {
    let rank: Int32
    let left: Int32
    let right: Int32
    let leftID: Int32
    let rightID: Int32
    let merged: Int32

    /// Lower rank first; among equal ranks the leftmost pair.
    func precedes(_ other: Candidate) -> Bool {
        rank != other.rank ? rank < other.rank : left < other.left
    }
}

/// A binary min-heap of merge candidates.
private struct CandidateHeap {
    private var items: [Candidate] = []

    mutating func push(_ candidate: Candidate) {
        items.append(candidate)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            var first = parent
            for child in (2 * parent + 1)...(2 * parent + 2) where child < items.count && items[child].precedes(items[first]) {
                first = child
            }
            guard first != parent else { return top }
            items.swapAt(parent, first)
            parent = first
        }
    }
}
