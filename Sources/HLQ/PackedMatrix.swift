import CLUTKernels
import Engine

/// A quantized matrix in the kernels' packed layout: bit planes and half-float scales and midpoints.
///
/// The layout is defined once, in `lut_kernels.h`; this is its only writer. The same bytes go into
/// `.hlq` files, so the engine can use a memory-mapped matrix in place.
public struct PackedMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    public let planes: Int
    public let groupSize: Int
    /// Packed bit planes, `elutq_bits_bytes` long.
    public var bits: [UInt8]
    /// Half floats (as raw bits), `elutq_params_count` long.
    public var params: [UInt16]

    /// Packs a quantized matrix: 32-row blocks, then groups, planes and quads of 16 columns.
    public init(_ q: QuantizedMatrix) {
        rows = q.rows
        cols = q.cols
        planes = q.planes
        groupSize = q.groupSize
        let paddedCols = Int(elutq_padded_cols(Int32(cols)))
        let groups = Int(elutq_group_count(Int32(cols), Int32(groupSize)))
        let blocks = (rows + 31) / 32
        bits = [UInt8](repeating: 0, count: Int(elutq_bits_bytes(Int32(rows), Int32(cols), Int32(planes))))
        params = [UInt16](repeating: 0, count: Int(elutq_params_count(Int32(rows), Int32(cols), Int32(planes), Int32(groupSize))))
        let (rows, cols, planes, groupSize) = (self.rows, self.cols, self.planes, self.groupSize)

        /// Plane `plane`'s bits of the 4 columns starting at `col` of `row`, column col+t in bit t.
        func nibble(_ row: Int, _ col: Int, _ plane: Int) -> UInt8 {
            var n: UInt8 = 0
            for t in 0..<4 where col + t < cols {
                n |= ((q.patterns[row * cols + col + t] >> plane) & 1) << t
            }
            return n
        }

        var offset = 0
        for block in 0..<blocks {
            for group in 0..<groups {
                let groupBegin = group * groupSize
                let quads = (min(groupBegin + groupSize, paddedCols) - groupBegin) / 16
                for plane in 0..<planes {
                    for quad in 0..<quads {
                        let col = groupBegin + 16 * quad
                        for r in 0..<32 where block * 32 + r < rows {
                            let row = block * 32 + r
                            bits[offset + 2 * r] = nibble(row, col, plane) | nibble(row, col + 8, plane) << 4
                            bits[offset + 2 * r + 1] = nibble(row, col + 4, plane) | nibble(row, col + 12, plane) << 4
                        }
                        offset += 64
                    }
                }
                let paramBase = (block * groups + group) * (planes + 1) * 32
                for r in 0..<32 where block * 32 + r < rows {
                    let g = (block * 32 + r) * groups + group
                    for plane in 0..<planes {
                        params[paramBase + plane * 32 + r] = q.scales[g * planes + plane].bitPattern
                    }
                    params[paramBase + planes * 32 + r] = q.midpoints[g].bitPattern
                }
            }
        }
        precondition(offset == bits.count, "packed size disagrees with elutq_bits_bytes")
    }

    /// Bits per weight as stored, counting the scales and midpoints.
    public var bitsPerWeight: Double {
        Double(bits.count * 8 + params.count * 16) / Double(rows * cols)
    }
}

extension OwnedLUTMatrix {
    /// A freshly packed matrix copied to heap storage, ready for the kernels.
    public convenience init(_ packed: PackedMatrix) {
        self.init(bits: packed.bits, params: packed.params, rows: packed.rows, cols: packed.cols,
                  planes: packed.planes, groupSize: packed.groupSize)
    }
}
