import Foundation
import ModelFile

/// Precomputed RoPE rotations for every position up to the context length, in GGUF's conventions.
///
/// llama (after the converter's q/k permutation) rotates pairs (2i, 2i+1); qwen2 rotates (i, i + d/2).
/// Frequencies follow the model's scaling: linear divides positions, llama3 bends the low frequencies.
public struct RotaryEmbedding: Sendable {
    let headSize: Int
    let style: RopeStyle
    /// [positions][headSize / 2]
    private var cosines: [Float]
    private var sines: [Float]

    public init(config: ModelConfig, positions: Int) {
        headSize = config.headSize
        style = config.ropeStyle
        let half = headSize / 2
        let frequencies = (0..<half).map { i in
            Self.frequency(i, config: config)
        }
        cosines = [Float](repeating: 0, count: positions * half)
        sines = [Float](repeating: 0, count: positions * half)
        for p in 0..<positions {
            for i in 0..<half {
                let angle = Double(p) * frequencies[i]
                cosines[p * half + i] = Float(cos(angle))
                sines[p * half + i] = Float(sin(angle))
            }
        }
    }

    /// The rotation frequency of pair i, in radians per position.
    static func frequency(_ i: Int, config: ModelConfig) -> Double {
        let base = pow(Double(config.ropeTheta), -2 * Double(i) / Double(config.headSize))
        guard let scaling = config.ropeScaling else { return base }
        switch scaling.kind {
        case "linear":
            return base / Double(scaling.factor)
        case "llama3":
            let factor = Double(scaling.factor)
            let low = Double(scaling.lowFrequencyFactor ?? 1), high = Double(scaling.highFrequencyFactor ?? 4)
            let original = Double(scaling.originalContextLength ?? 8192)
            let wavelength = 2 * Double.pi / base
            if wavelength < original / high { return base }
            if wavelength > original / low { return base / factor }
            let smooth = (original / wavelength - low) / (high - low)
            return (1 - smooth) * base / factor + smooth * base
        default:
            return base
        }
    }

    /// Rotates `heads` consecutive heads of `headSize` values at `position`, in place; `inverse`
    /// rotates back by the same angles, which is also the rotation's backward pass (its transpose).
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int, inverse: Bool = false) {
        let half = headSize / 2
        let direction: Float = inverse ? -1 : 1
        cosines.withUnsafeBufferPointer { cosines in
            sines.withUnsafeBufferPointer { sines in
                let c = cosines.baseAddress! + position * half, s = sines.baseAddress! + position * half
                for h in 0..<heads {
                    let v = x + h * headSize
                    for i in 0..<half {
                        let (a, b) = style == .interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
                        let x0 = v[a], x1 = v[b]
                        let sine = direction * s[i]
                        v[a] = x0 * c[i] - x1 * sine
                        v[b] = x0 * sine + x1 * c[i]
                    }
                }
            }
        }
    }
}
