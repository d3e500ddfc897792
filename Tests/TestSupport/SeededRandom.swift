import Foundation

/// A small, fast, seedable generator (SplitMix64), so every test's data is reproducible.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample (Box-Muller).
    public mutating func normal() -> Float {
        let u = Float.random(in: Float.ulpOfOne..<1, using: &self)
        let v = Float.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// Weights shaped like a trained layer's: Gaussian with a few large outliers.
    public mutating func weights(_ count: Int, scale: Float = 0.02) -> [Float] {
        (0..<count).map { _ in
            let w = normal() * scale
            return Float.random(in: 0..<1, using: &self) < 0.01 ? w * 8 : w
        }
    }
}

