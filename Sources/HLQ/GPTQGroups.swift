/// Where each group's columns fall in the order GPTQ quantizes them.
///
/// Groups are always contiguous runs of original columns, because the kernels need them so. Without
/// act-order they are also contiguous in processing order; with it they are scattered, and a
/// group's parameters are fitted when its first column comes up (GPTQ's "static groups" keep the
/// stored layout too, but fit every group before any error feedback; fitting later sees the targets
/// the earlier columns' errors have moved).
struct GPTQGroups {
    let count: Int
    /// The group that starts at each position, or -1.
    let startingAt: [Int]
    /// The group of each position.
    let groupAt: [Int]
    /// Positions of group g's columns, in processing order: positions[offsets[g] ..< offsets[g + 1]].
    let positions: [Int]
    let offsets: [Int]

    init(order: [Int], groupSize: Int) {
        let n = order.count
        count = (n + groupSize - 1) / groupSize
        groupAt = order.map { $0 / groupSize }
        var members = [[Int]](repeating: [], count: count)
        for (p, g) in groupAt.enumerated() { members[g].append(p) }
        var startingAt = [Int](repeating: -1, count: n)
        for (g, list) in members.enumerated() { startingAt[list[0]] = g }
        self.startingAt = startingAt
        positions = members.flatMap { $0 }
        offsets = members.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    }
}
