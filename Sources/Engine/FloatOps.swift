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
