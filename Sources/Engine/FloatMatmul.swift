import Parallel

/// Float32 matrix products with Swift SIMD: the float reference path and the baseline the LUT kernels beat.
public enum FloatMatmul {
    /// y[row] = Σ_col w[row * cols + col] * x[col] for one vector; threads split rows.
    /// Four rows at a time share each load of x, and each row keeps its own 16-lane accumulator.
    public static func gemv(_ w: UnsafePointer<Float>, rows: Int, cols: Int, x: UnsafePointer<Float>,
                            into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        pool.parallelFor((rows + 3) / 4) { quads in
            for quad in quads {
                let first = quad * 4, count = min(4, rows - first)
                if count == 4 {
                    fourRows(w + first * cols, cols: cols, x: x, into: y + first)
                } else {
                    for row in first..<(first + count) { y[row] = dot(w + row * cols, x, count: cols) }
                }
            }
        }
    }

    @inline(__always)
    static func fourRows(_ w: UnsafePointer<Float>, cols: Int, x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let raw = UnsafeRawPointer(w), xs = UnsafeRawPointer(x)
        var a0 = SIMD16<Float>.zero, a1 = a0, a2 = a0, a3 = a0
        var col = 0
        while col + 16 <= cols {
            let v = xs.loadUnaligned(fromByteOffset: col * 4, as: SIMD16<Float>.self)
            a0 += raw.loadUnaligned(fromByteOffset: col * 4, as: SIMD16<Float>.self) * v
            a1 += raw.loadUnaligned(fromByteOffset: (cols + col) * 4, as: SIMD16<Float>.self) * v
            a2 += raw.loadUnaligned(fromByteOffset: (2 * cols + col) * 4, as: SIMD16<Float>.self) * v
            a3 += raw.loadUnaligned(fromByteOffset: (3 * cols + col) * 4, as: SIMD16<Float>.self) * v
            col += 16
        }
        var s = SIMD4(a0.sum(), a1.sum(), a2.sum(), a3.sum())
        while col < cols {
            s += SIMD4(w[col], w[cols + col], w[2 * cols + col], w[3 * cols + col]) * x[col]
            col += 1
        }
        y[0] = s[0]; y[1] = s[1]; y[2] = s[2]; y[3] = s[3]
    }

    /// Dot product of two float vectors with a 16-lane accumulator.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc = SIMD16<Float>.zero
        var i = 0
        while i + 16 <= count {
            acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < count {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }
}
