import Foundation
import HLQ

/// The small float operations of a transformer step, in Swift SIMD: they are a sliver of the time,
/// so clarity wins over intrinsics here.
public enum FloatOps {
    /// out = x / rms(x) * weight, with rms = sqrt(mean(x²) + epsilon).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, count: Int, epsilon: Float,
                               into out: UnsafeMutablePointer<Float>) {
        let scale = 1 / (dot(x, x, count) / Float(count) + epsilon).squareRoot()
        for i in 0..<count { out[i] = x[i] * scale * weight[i] }
    }

    /// In-place softmax; returns the log of the normaliser (log Σ e^(x - max)) + max, i.e. log-sum-exp.
    @discardableResult
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var largest = -Float.infinity
        for i in 0..<count { largest = max(largest, x[i]) }
        var sum: Float = 0
        for i in 0..<count {
            let e = exp(x[i] - largest)
            x[i] = e
            sum += e
        }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
        return log(sum) + largest
    }

    /// gate[i] = silu(gate[i]) * up[i], the SwiGLU activation.
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + exp(-g)) * up[i]
        }
    }

    /// x[i] += y[i]
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }
}

extension FloatOps {
    /// y[i] += a * x[i], sixteen lanes at a time (attention's weighted sum of values).
    @inline(__always)
    public static func addScaled(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ a: Float, count: Int) {
        let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
        let scale = SIMD16<Float>(repeating: a)
        var i = 0
        while i + 16 <= count {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                + scale * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] += a * x[i]
            i += 1
        }
    }
}
