import Testing
import ModelFile

/// The q/k row order of llama.cpp's converter, worked out by hand on small heads.
@Suite struct SafetensorsRopePermutationTests {
    /// Two heads of 4 rows: in each head, Hugging Face pairs rows (0, 2) and (1, 3) for RoPE and
    /// GGUF pairs (0, 1) and (2, 3), so GGUF takes rows 0, 2, 1, 3 of every head.
    @Test func twoHeadsOfFour() throws {
        let permutation = try HuggingFaceRopePermutation(heads: 2, rows: 8)
        #expect((0..<8).map(permutation.sourceRow(of:)) == [0, 2, 1, 3, 4, 6, 5, 7])
    }

    /// One head of 6 rows: pairs (0, 3), (1, 4), (2, 5) become adjacent.
    @Test func oneHeadOfSix() throws {
        let permutation = try HuggingFaceRopePermutation(heads: 1, rows: 6)
        #expect((0..<6).map(permutation.sourceRow(of:)) == [0, 3, 1, 4, 2, 5])
    }

    /// Applied to a 3-column matrix whose entries name their Hugging Face row and column.
    @Test func reordersWholeRowsOfATinyMatrix() throws {
        let permutation = try HuggingFaceRopePermutation(heads: 3, rows: 6)
        let matrix = (0..<6).map { row in (0..<3).map { column in 10 * row + column } }
        let permuted = (0..<6).map { matrix[permutation.sourceRow(of: $0)] }
        #expect(permuted == [[0, 1, 2], [10, 11, 12], [20, 21, 22], [30, 31, 32], [40, 41, 42], [50, 51, 52]],
                "heads of two rows are a single pair each, which no reordering changes")
        let wide = try HuggingFaceRopePermutation(heads: 1, rows: 6)
        #expect((0..<6).map { matrix[wide.sourceRow(of: $0)] }
                == [[0, 1, 2], [30, 31, 32], [10, 11, 12], [40, 41, 42], [20, 21, 22], [50, 51, 52]])
    }

    @Test func isABijection() throws {
        let permutation = try HuggingFaceRopePermutation(heads: 9, rows: 576)
        #expect(Set((0..<576).map(permutation.sourceRow(of:))) == Set(0..<576))
    }

    @Test func headsMustHaveAnEvenNumberOfRows() {
        for (heads, rows) in [(2, 6), (0, 4), (3, 8), (-1, 4)] {
            #expect(throws: ModelSourceError.invalid(
                "\(rows) rows cannot be split into \(heads) heads of an even size for the RoPE permutation")) {
                try HuggingFaceRopePermutation(heads: heads, rows: rows)
            }
        }
    }
}
