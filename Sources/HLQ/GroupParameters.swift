/// One group's per-plane scales and midpoint, always exactly representable as half floats.
struct GroupParameters {
    var scales: SIMD4<Float>
    var midpoint: Float

    /// Rounds to the half floats the packed layout stores, so that a fit is judged by what is stored.
    init(scales: SIMD4<Float>, midpoint: Float) {
        self.scales = SIMD4(Float(Float16(scales[0])), Float(Float16(scales[1])),
                            Float(Float16(scales[2])), Float(Float16(scales[3])))
        self.midpoint = Float(Float16(midpoint))
    }

    func grid(planes: Int) -> GroupGrid { GroupGrid(planes: planes, scales: scales, midpoint: midpoint) }

    /// The paper's zero z = midpoint - Σ s_i / 2.
    func zero(planes: Int) -> Float {
        var z = midpoint
        for i in 0..<planes { z -= 0.5 * scales[i] }
        return z
    }

    /// The same scales with the grid moved so that its value nearest 0 becomes 0.
    func shiftedToKeepZero(planes: Int) -> GroupParameters {
        GroupParameters(scales: scales, midpoint: midpoint - grid(planes: planes).nearest(0).value)
    }
}
