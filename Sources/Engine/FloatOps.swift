import CLUTKernels
import Foundation

/// The small float operations of a transformer step: in Swift where they are a sliver of the
/// time; softmax and SwiGLU, whose exponentials were not, in C (vector_math.c).
public enum FloatOps {
    /// out = x / rms(x) * weight, with rms = sqrt(mean(x²) + epsilon).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, count: Int, epsilon: Float,
                               into out: UnsafeMutablePointer<Float>) {
        let scale = 1 / (dot(x, x, count) / Float(count) + epsilon).squareRoot()
        for i in 0..<count { out[i] = x[i] * scale * weight[i] }
    }

    /// In-place softmax; returns the log of the normaliser (log Σ e^(x - max)) + max, i.e. log-sum-exp.
    /// In C (vector_math.c) for its vector exponential, which Swift's SIMD types did not compile to.
    @discardableResult
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        elutq_softmax(x, Int32(count))
    }

    /// gate[i] = silu(gate[i]) * up[i], the SwiGLU activation (in C, as softmax).
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        elutq_swiglu(gate, up, Int32(count))
    }

    /// x[i] += y[i]
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }
}

extension FloatOps {
    /// out[c] = Σ_j weights[j] · rows[j · stride + c] for c < width: attention's weighted sum of
    /// cached values. Columns go 64 at a time in four registers held across all rows, so each value
    /// row is loaded once and the output is stored once.
    public static func weightedSum(rows: UnsafePointer<Float>, stride: Int, weights: UnsafePointer<Float>, count: Int,
                                   width: Int, into out: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        var c = 0
        while c + 64 <= width {
            var a0 = V.zero, a1 = V.zero, a2 = V.zero, a3 = V.zero
            for j in 0..<count {
                let w = V(repeating: weights[j]), row = rows + j * stride + c
                a0 += w * load(row)
                a1 += w * load(row + 16)
                a2 += w * load(row + 32)
                a3 += w * load(row + 48)
            }
            store(a0, out + c)
            store(a1, out + c + 16)
            store(a2, out + c + 32)
            store(a3, out + c + 48)
            c += 64
        }
        while c + 16 <= width {
            var a = V.zero
            for j in 0..<count { a += V(repeating: weights[j]) * load(rows + j * stride + c) }
            store(a, out + c)
            c += 16
        }
        while c < width {
            var a: Float = 0
            for j in 0..<count { a += weights[j] * rows[j * stride + c] }
            out[c] = a
            c += 1
        }
    }
}
