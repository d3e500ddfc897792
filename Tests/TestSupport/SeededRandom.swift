import Foundation
import Runtime

/// The tests' generator: Runtime's `SplitMix64`, so every test's data is reproducible from its seed,
/// with the shapes of data the tests need on top.
public struct SeededRandom: RandomNumberGenerator {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

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
