/// Sharing the rows of a lower triangle among threads by work rather than by count.
///
/// Row r of a lower triangle holds r + 1 entries, so equal row counts would give the last thread
/// most of the work; equal areas end at count · sqrt(p / participants).
enum LowerTriangle {
    /// The rows of `0..<count` that participant `participant` of `participants` takes.
    static func share(rows count: Int, participant: Int, participants: Int) -> Range<Int> {
        func boundary(_ p: Int) -> Int { Int((Double(count) * (Double(p) / Double(participants)).squareRoot()).rounded()) }
        return boundary(participant)..<boundary(participant + 1)
    }
}
