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
///
/// `HessianAccumulator` measures it, given the float model's inputs beside the calibration ones.
public struct InputDrift: Sendable {
    public let cols: Int
    /// D transposed, [cols][cols] row-major: values[j][i] = 2 Σ_s x_s[j] δ_s[i].
    public var values: [Float]
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
        transposeRows(inverseT, rows: n, cols: n, into: &inverse, pool: pool)
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
