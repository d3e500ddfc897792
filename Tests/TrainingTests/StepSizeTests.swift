import HLQ
import Testing
@testable import Training

/// The optimiser's steps are fractions of each group's own size, so one learning rate means the
/// same for a model with large scales as for one with small ones.
@Suite struct StepSizeTests {
    /// A 1×64 matrix in two groups of 32: the first with scales about 1, the second about 0.01.
    static func matrix() -> TrainableMatrix {
        var q = QuantizedMatrix(rows: 1, cols: 64, planes: 2, groupSize: 32)
        q.scales = [1.0, 2.0, 0.01, 0.03]
        q.midpoints = [0.5, 0.002]
        return TrainableMatrix(q)
    }

    @Test func aGroupsSizeIsTheMeanMagnitudeOfItsScales() {
        let sizes = Self.matrix().stepSizes
        #expect(sizes.stride == 3 && sizes.values.count == 2)
        #expect(sizes.values[0] == 1.5)
        #expect(abs(sizes.values[1] - 0.02) < 1e-5, "\(sizes.values)")
    }

    @Test func aGroupWithoutScalesTakesTheMatrixMean() {
        var m = Self.matrix()
        m.parameters[3] = 0
        m.parameters[4] = 0
        #expect(m.stepSizes.values == [1.5, 1.5])
    }

    /// Adam's first step moves every parameter by the rate, whatever its gradient; scaled, each
    /// group's parameters move by the rate times the group's size.
    @Test func theFirstStepMovesEachGroupByItsOwnFraction() {
        let m = Self.matrix()
        var parameters = [m.parameters]
        var adam = AdamW(sizes: [parameters[0].count], weightDecay: 0)
        adam.update(&parameters, gradients: [[1, -1, 1, 100, -0.001, 1]], sizes: [m.stepSizes], rate: 0.01)
        let moved = zip(parameters[0], m.parameters).map { abs($0 - $1) }
        for (i, expected) in [0.015, 0.015, 0.015, 0.0002, 0.0002, 0.0002].enumerated() {
            // Within f16's rounding of the second group's scales (0.01 and 0.03).
            #expect(abs(Double(moved[i]) - expected) < expected * 2e-3, "parameter \(i): moved \(moved[i])")
        }
    }

    @Test func aNormMovesByItsMeanMagnitude() {
        let sizes = StepSizes(meanMagnitudeOf: [2, -4, 6])
        #expect(sizes.values == [4] && sizes.stride == 3)
        #expect(StepSizes(meanMagnitudeOf: [0, 0]).values == [1])
    }
}
