import CLUTKernels
import Parallel

/// A weight matrix in any stored precision, multiplied the same way by the transformer.
///
/// Rows are outputs. The memory belongs to a mapped model file or to whoever built the view.
public enum LinearWeight: @unchecked Sendable {
    /// Packed HLQ bit planes, run on the LUT kernels.
    case lut(LUTMatrix)
    /// Float32 rows, the reference path.
    case f32(UnsafePointer<Float>, rows: Int, cols: Int)
    /// Half-float rows (raw IEEE bits).
    case f16(UnsafePointer<UInt16>, rows: Int, cols: Int)
    /// int8 rows with one float scale each.
    case q8(UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int, cols: Int)

    public var rows: Int {
        switch self {
        case .lut(let m): m.rows
        case .f32(_, let rows, _), .f16(_, let rows, _), .q8(_, _, let rows, _): rows
        }
    }

    public var cols: Int {
        switch self {
        case .lut(let m): m.cols
        case .f32(_, _, let cols), .f16(_, _, let cols), .q8(_, _, _, let cols): cols
        }
    }

    /// y[v * ldy + row] = (W x_v)[row] for every vector of `input`; threads split rows.
    public func multiply(_ input: LinearInput, into y: UnsafeMutablePointer<Float>, ldy: Int, pool: ThreadPool) {
        precondition(input.cols == cols, "input has \(input.cols) columns, the matrix \(cols)")
        let count = input.count
        switch self {
        case .lut(let matrix):
            LUTMatmul.multiply(matrix, input.tables(groupSize: matrix.groupSize, pool: pool), into: y, ldy: ldy, pool: pool)
        case .f32(let w, let rows, let cols):
            pool.parallelFor((rows + 3) / 4) { quads in
                elutq_f32_gemm(w, Int32(cols), input.values, Int64(cols), Int32(count), y, Int64(ldy),
                               Int32(quads.lowerBound * 4), Int32(min(rows, quads.upperBound * 4)))
            }
        case .f16(let w, let rows, let cols):
            pool.parallelFor((rows + 3) / 4) { quads in
                elutq_f16_gemm(w, Int32(cols), input.values, Int64(cols), Int32(count), y, Int64(ldy),
                               Int32(quads.lowerBound * 4), Int32(min(rows, quads.upperBound * 4)))
            }
        case .q8(let w, let scales, let rows, let cols):
            pool.parallelFor((rows + 3) / 4) { quads in
                elutq_q8_gemm(w, scales, Int32(cols), input.values, Int64(cols), Int32(count), y, Int64(ldy),
                              Int32(quads.lowerBound * 4), Int32(min(rows, quads.upperBound * 4)))
            }
        }
    }
}
