import Engine
import HLQ

/// RMSNorm over rows, forward as the runtime computes it (keeping each row's 1 / rms) and backward.
enum RMSNormPass {
    /// out = x · r · w per row of `width`, r = 1 / sqrt(mean(x²) + ε), stored in `inverseRMS`.
    static func forward(_ x: UnsafePointer<Float>, weight: [Float], rows: Int, width: Int, epsilon: Float,
                        into out: UnsafeMutablePointer<Float>, inverseRMS: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            for t in 0..<rows {
                let row = x + t * width
                inverseRMS[t] = 1 / (dot(row, row, width) / Float(width) + epsilon).squareRoot()
                FloatOps.rmsNorm(row, weight: w.baseAddress!, count: width, epsilon: epsilon, into: out + t * width)
            }
        }
    }

    /// dx = r·w·dy − x·r³/n·Σ x·w·dy per row, added to `dx`; with `weightGradient`, also
    /// dw = Σ over rows of dy·x·r, added there.
    static func backward(_ x: UnsafePointer<Float>, weight: [Float], inverseRMS: UnsafePointer<Float>, rows: Int,
                         width: Int, outputGradient dy: UnsafePointer<Float>, addingInto dx: UnsafeMutablePointer<Float>,
                         weightGradient dw: UnsafeMutablePointer<Float>? = nil) {
        weight.withUnsafeBufferPointer { w in
            let w = w.baseAddress!
            for t in 0..<rows {
                let xr = x + t * width, dyr = dy + t * width, dxr = dx + t * width, r = inverseRMS[t]
                var projection: Float = 0
                for i in 0..<width { projection += xr[i] * w[i] * dyr[i] }
                let k = r * r * r * projection / Float(width)
                for i in 0..<width { dxr[i] += r * w[i] * dyr[i] - xr[i] * k }
                if let dw { for i in 0..<width { dw[i] += dyr[i] * xr[i] * r } }
            }
        }
    }
}
