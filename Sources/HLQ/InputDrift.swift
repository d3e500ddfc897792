import CLUTKernels
import Parallel

/// How a layer's calibration inputs have drifted from the float model's, as GPTQ needs it to aim at
/// the float model's outputs rather than at its own float weights.
///
/// Block-sequential calibration feeds each block the outputs of earlier blocks that are already
/// quantized: inputs `x` where the float model sees `x_f = x + δ`. Plain GPTQ minimises
/// Σ (w·x − ŵ·x)², so every block repeats the float computation on drifted inputs and the earlier
/// blocks' error passes through unchanged. Minimising Σ (w·x_f − ŵ·x)² instead (the asymmetric
/// calibration of GPTAQ) lets each layer undo part of it. That objective equals
/// ½(ŵ − w*)H(ŵ − w*)ᵀ plus a constant, with H = 2 Σ x xᵀ and w* = w + w·D·H⁻¹, where D = 2 Σ δ xᵀ.
/// So GPTQ, the refit and the bit allocation run unchanged on the corrected weights w*; in practice
/// only part of the correction is applied (`correcting(_:rows:hessian:fraction:dampening:pool:)`).
public struct InputDrift: Sendable {
    public let cols: Int
    /// D transposed, [cols][cols] row-major: values[j][i] = 2 Σ_s x_s[j] δ_s[i].
    public var values: [Float]
}

/// Streams pairs of inputs (as calibration sees them, as the float model sees them) into an `InputDrift`.
public struct InputDriftAccumulator: Sendable {
    public let cols: Int
    /// Σ_s x_s[j] δ_s[i] so far at [j][i], in Double so that long runs do not drift.
    private var sum: [Double]

    private static let chunkRows = 512
    private static let strip = 128

    public init(cols: Int) {
        precondition(cols > 0)
        self.cols = cols
        sum = [Double](repeating: 0, count: cols * cols)
    }

    /// Adds matching batches of inputs, [samples][cols] each: `inputs` as the quantized model
    /// sees them, `floatInputs` as the float model does.
    public mutating func add(_ inputs: UnsafeBufferPointer<Float>, floatInputs: UnsafeBufferPointer<Float>, pool: ThreadPool) {
        precondition(inputs.count == floatInputs.count && inputs.count % cols == 0, "matching whole rows of cols values")
        let samples = inputs.count / cols, cols = self.cols
        var drift = [Float](repeating: 0, count: inputs.count)
        for i in drift.indices { drift[i] = floatInputs[i] - inputs[i] }
        var xt = [Float](repeating: 0, count: cols * Self.chunkRows)
        var dt = [Float](repeating: 0, count: cols * Self.chunkRows)
        sum.withUnsafeMutableBufferPointer { sum in
            let total = sum.baseAddress!
            for chunkStart in stride(from: 0, to: samples, by: Self.chunkRows) {
                let m = min(Self.chunkRows, samples - chunkStart)
                transposeRows(inputs.baseAddress! + chunkStart * cols, rows: m, cols: cols, into: &xt, pool: pool)
                drift.withUnsafeBufferPointer { transposeRows($0.baseAddress! + chunkStart * cols, rows: m, cols: cols, into: &dt, pool: pool) }
                // total[j][i] += Σ_s xt[j][s] dt[i][s], rows j shared out among the threads and
                // formed in strips of up to 128, so the scratch stays small for wide layers.
                xt.withUnsafeBufferPointer { xt in
                    dt.withUnsafeBufferPointer { dt in
                        pool.parallelFor(cols) { rows in
                            let product = UnsafeMutablePointer<Float>.allocate(capacity: Self.strip * cols)
                            defer { product.deallocate() }
                            for first in stride(from: rows.lowerBound, to: rows.upperBound, by: Self.strip) {
                                let count = min(Self.strip, rows.upperBound - first)
                                elutq_f32_gemm(dt.baseAddress!, Int32(m), xt.baseAddress! + first * m, Int64(m),
                                               Int32(count), product, Int64(cols), 0, Int32(cols))
                                for k in 0..<count {
                                    let row = total + (first + k) * cols, p = product + k * cols
                                    for i in 0..<cols { row[i] += Double(p[i]) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public var drift: InputDrift {
        InputDrift(cols: cols, values: sum.map { Float(2 * $0) })
    }
}

extension InputDrift {
    /// The weights w* = w + α·w·D·(H + λ·mean(diag H)·I)⁻¹ that GPTQ should aim at ([rows][cols]
    /// like `weights`), or nil when the dampened Hessian cannot be factored. α = `fraction` aims at
    /// the outputs for inputs x + α·δ, part of the way to the float model's: the full correction
    /// leans on the calibration text's drift too hard (see `CalibrationOptions.driftCorrection`).
    /// λ = `dampening`, GPTQ's own, keeps it off directions the inputs barely visit.
    public func correcting(_ weights: UnsafeBufferPointer<Float>, rows: Int, hessian: Hessian, fraction: Double,
                           dampening: Double, pool: ThreadPool) -> [Float]? {
        let n = cols
        precondition(hessian.cols == n && weights.count == rows * n)
        var factor = hessian.dampened(by: dampening).values
        // inverseT[c][k] = L⁻¹[k][c], where H = L Lᵀ, so H⁻¹ = (L⁻¹)ᵀ L⁻¹.
        guard let inverseT = factor.withUnsafeMutableBufferPointer({ HessianCholesky.factorAndInvert($0.baseAddress!, n: n, pool: pool) }) else {
            return nil
        }
        var inverse = [Float](repeating: 0, count: n * n)  // L⁻¹ row-major
        for c in 0..<n { for k in 0..<n { inverse[k * n + c] = inverseT[c * n + k] } }
        // a = w·D, then b = a·(L⁻¹)ᵀ, then the correction b·L⁻¹; each is y = x·mᵀ for the GEMM.
        let a = Self.multiply(weights, rows: rows, byTransposeOf: values, n: n, pool: pool)
        let b = a.withUnsafeBufferPointer { Self.multiply($0, rows: rows, byTransposeOf: inverse, n: n, pool: pool) }
        let correction = b.withUnsafeBufferPointer { Self.multiply($0, rows: rows, byTransposeOf: inverseT, n: n, pool: pool) }
        let alpha = Float(fraction)
        return (0..<(rows * n)).map { weights[$0] + alpha * correction[$0] }
    }

    /// x·mᵀ for x [rows][n] and m [n][n].
    private static func multiply(_ x: UnsafeBufferPointer<Float>, rows: Int, byTransposeOf m: [Float], n: Int,
                                 pool: ThreadPool) -> [Float] {
        var y = [Float](repeating: 0, count: rows * n)
        y.withUnsafeMutableBufferPointer { y in
            m.withUnsafeBufferPointer { m in
                let y = y.baseAddress!, m = m.baseAddress!, x = x.baseAddress!
                pool.parallelFor(n) { outputs in
                    elutq_f32_gemm(m, Int32(n), x, Int64(n), Int32(rows), y, Int64(n),
                                   Int32(outputs.lowerBound), Int32(outputs.upperBound))
                }
            }
        }
        return y
    }
}
