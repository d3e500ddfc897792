import CLUTKernels
import Engine
import HLQ
import Parallel
import Testing
import TestSupport

/// The kernels against a float reference computed from the same HLQ parameters, and every ISA path
/// against the scalar path.
@Suite struct LUTKernelTests {
    struct Shape: CustomStringConvertible, Sendable {
        let rows, cols, planes, groupSize, batch: Int
        var description: String { "\(rows)x\(cols) B\(planes) g\(groupSize) M\(batch)" }
    }

    /// Tails everywhere: rows not a multiple of 32, columns not a multiple of 16 or of the group,
    /// a short last group, every plane count, and batches past the kernels' 64-vector chunk.
    static let shapes: [Shape] = [
        Shape(rows: 37, cols: 100, planes: 1, groupSize: 32, batch: 1),
        Shape(rows: 64, cols: 576, planes: 2, groupSize: 128, batch: 1),
        Shape(rows: 96, cols: 200, planes: 3, groupSize: 64, batch: 3),
        Shape(rows: 33, cols: 48, planes: 4, groupSize: 32, batch: 2),
        Shape(rows: 5, cols: 1000, planes: 2, groupSize: 96, batch: 70),
        Shape(rows: 192, cols: 1536, planes: 4, groupSize: 1024, batch: 1),
        Shape(rows: 1, cols: 16, planes: 2, groupSize: 32, batch: 1),
        Shape(rows: 40, cols: 800, planes: 3, groupSize: 256, batch: 2),   // slice multipliers up to 4
        Shape(rows: 32, cols: 1100, planes: 2, groupSize: 512, batch: 1),  // up to 2
    ]

    struct Case {
        let shape: Shape
        let quantized: QuantizedMatrix
        let matrix: OwnedLUTMatrix
        let x: [Float]
    }

    static func makeCase(_ s: Shape, seed: UInt64) -> Case {
        var random = SeededRandom(seed: seed)
        let w = random.weights(s.rows * s.cols)
        // Activations with an outlier channel, as LLM activations have.
        var x = (0..<(s.batch * s.cols)).map { _ in random.normal() }
        for v in 0..<s.batch { x[v * s.cols + (s.cols / 3)] *= 20 }
        // Where there are groups to spare: one of zeros and one so small (~1e-37) that the inverse
        // of its table step is not a float, as dead channels give. Their entries are 0 steps.
        if s.cols >= 3 * s.groupSize {
            for c in 0..<s.groupSize {
                x[c] = 0
                x[(s.batch - 1) * s.cols + s.groupSize + c] *= 1e-37
            }
        }
        let q = w.withUnsafeBufferPointer {
            Quantizer.quantize($0, rows: s.rows, cols: s.cols, planes: s.planes, groupSize: s.groupSize,
                               method: .hlq, pool: ThreadPool(threadCount: 1))
        }
        return Case(shape: s, quantized: q, matrix: OwnedLUTMatrix(PackedMatrix(q)), x: x)
    }

    /// y = W x on path `isa`, through `LinearWeight` as the transformer multiplies (tables built on the same path).
    static func run(_ c: Case, threads: Int, precision: TablePrecision, isa: KernelISA) -> [Float] {
        let s = c.shape
        var matrix = c.matrix.matrix
        matrix.tablePrecision = precision
        let input = LinearInput(cols: s.cols, capacity: s.batch)
        input.values.update(from: c.x, count: c.x.count)
        input.invalidate(count: s.batch)
        var y = [Float](repeating: .nan, count: s.batch * s.rows)
        let pool = ThreadPool(threadCount: threads)
        y.withUnsafeMutableBufferPointer {
            LinearWeight.lut(matrix).multiply(input, into: $0.baseAddress!, ldy: s.rows, pool: pool, isa: isa)
        }
        return y
    }

    /// Half a table step of every slice of every group: the most a lookup can be off by.
    ///
    /// Mirrors the table rules of lut_kernels.h: a group's unit is its largest slice over
    /// 127 * top, and each slice's step is the unit times the smallest power of two (up to top)
    /// that keeps its entries within ±127.
    static func halfSteps(_ x: [Float], groupSize: Int) -> [[Double]] {
        stride(from: 0, to: x.count, by: groupSize).map { begin in
            let slices = stride(from: begin, to: min(begin + groupSize, x.count), by: 4).map { s in
                (s..<min(s + 4, x.count)).reduce(0.0) { $0 + Double(abs(x[$1])) } / 2
            }
            let paddedSlices = (min(begin + groupSize, (x.count + 15) / 16 * 16) - begin) / 4
            var top = 8
            while top > 1 && 127 * top * paddedSlices > 32767 { top /= 2 }
            let unit = (slices.max() ?? 0) / Double(127 * top)
            return slices.map { largest in
                var m = 1
                while m < top && largest > 127 * unit * Double(m) { m *= 2 }
                return unit * Double(m) / 2
            }
        }
    }

    /// The kernel differs from the exact product of the dequantized matrix only by the rounding of the
    /// int8 tables: each lookup is off by at most half a step of its slice, and plane i's lookups are
    /// multiplied by s_i, so |error| <= Σ_groups Σ_i |s_i| Σ_slices step / 2. Precise tables round
    /// to a 254th of that step, so their bound is 254 times tighter. A relative 1e-5 of Σ|w||x|
    /// covers float rounding in the sums and in choosing the steps.
    @Test(arguments: shapes, TablePrecision.allCases)
    func matchesFloatReferenceWithinTableRounding(shape: Shape, precision: TablePrecision) {
        let c = Self.makeCase(shape, seed: UInt64(shape.rows * 31 + shape.cols))
        let y = Self.run(c, threads: 2, precision: precision, isa: .best)
        let stepFraction = precision.forBatch(of: shape.batch) == .precise ? 1.0 / 254 : 1.0
        let q = c.quantized
        let w = q.dequantized()
        for v in 0..<shape.batch {
            let x = Array(c.x[(v * shape.cols)..<((v + 1) * shape.cols)])
            let steps = Self.halfSteps(x, groupSize: shape.groupSize)
            for row in 0..<shape.rows {
                var exact = 0.0, magnitude = 0.0, bound = 0.0
                for col in 0..<shape.cols {
                    exact += Double(w[row * shape.cols + col]) * Double(x[col])
                    magnitude += abs(Double(w[row * shape.cols + col]) * Double(x[col]))
                }
                for group in 0..<q.groupsPerRow {
                    let groupSteps = steps[group].reduce(0, +)
                    for i in 0..<shape.planes {
                        bound += abs(Double(q.scales[(row * q.groupsPerRow + group) * shape.planes + i])) * groupSteps * stepFraction
                    }
                }
                bound += 1e-5 * magnitude
                let got = Double(y[v * shape.rows + row])
                #expect(abs(got - exact) <= bound, "\(shape) v\(v) row \(row): \(got) vs \(exact), bound \(bound)")
            }
        }
    }

    @Test(arguments: shapes, TablePrecision.allCases)
    func everyISAPathMatchesScalarExactly(shape: Shape, precision: TablePrecision) throws {
        let c = Self.makeCase(shape, seed: UInt64(shape.cols * 17 + shape.planes))
        let reference = Self.run(c, threads: 1, precision: precision, isa: .scalar)
        #expect(Self.run(c, threads: 2, precision: precision, isa: .scalar) == reference, "scalar with 2 threads differs")
        for isa in KernelISATests.simdPaths {
            for threads in [1, 2] {
                let y = Self.run(c, threads: threads, precision: precision, isa: isa)
                #expect(y == reference, "\(isa.name) with \(threads) threads differs on \(shape) with \(precision) tables")
            }
        }
    }

    /// Mixed tables are int8 for a batch and precise for a single vector, bit for bit.
    @Test func mixedTablesAreInt8ForABatchAndPreciseForOneVector() {
        for shape in Self.shapes.filter({ $0.batch > 1 }).prefix(2) {
            let c = Self.makeCase(shape, seed: 5)
            #expect(Self.run(c, threads: 2, precision: .mixed, isa: .best) == Self.run(c, threads: 2, precision: .int8, isa: .best))
            let one = Self.makeCase(Shape(rows: shape.rows, cols: shape.cols, planes: shape.planes, groupSize: shape.groupSize, batch: 1), seed: 5)
            let mixed = Self.run(one, threads: 2, precision: .mixed, isa: .best)
            #expect(mixed == Self.run(one, threads: 2, precision: .precise, isa: .best))
            #expect(mixed != Self.run(one, threads: 2, precision: .int8, isa: .best), "the precise and int8 tables differ here")
        }
    }
}
