import Engine
import ModelFile
import Parallel
import Testing
import TestSupport
@testable import Training

/// The block's hand-written backward pass against central finite differences of its forward:
/// the loss is L = Σ r·y for a fixed random r, summed in Double.
@Suite struct BlockGradientTests {
    /// L(block, x).
    static func loss(_ pass: BlockPass, _ block: TrainableBlock, input: [Float], weights r: [Float]) -> Double {
        let tape = BlockTape(config: pass.config, length: pass.length)
        tape.input.pointer.update(from: input, count: input.count)
        pass.forward(block, tape: tape)
        var sum = 0.0
        for i in r.indices { sum += Double(r[i]) * Double(tape.output.pointer[i]) }
        return sum
    }

    /// Whether an analytic and a numeric derivative agree to float precision.
    static func agree(_ analytic: Double, _ numeric: Double) -> Bool {
        abs(analytic - numeric) <= 2e-2 * max(abs(analytic), abs(numeric)) + 3e-3
    }

    /// Both rotary styles, with and without q/k/v biases; 70 tokens span two of attention's causal slices.
    @Test(arguments: [(RopeStyle.interleaved, false, 7), (RopeStyle.neox, true, 7), (RopeStyle.interleaved, true, 70)])
    func gradientsMatchFiniteDifferences(rope: RopeStyle, bias: Bool, length: Int) throws {
        var random = SeededRandom(seed: bias ? 11 : 7)
        let c = TinyBlocks.config(rope: rope, bias: bias)
        let pool = ThreadPool(threadCount: 2)
        let pass = BlockPass(config: c, length: length, pool: pool)
        // The up projection frozen, as a recipe's q8 layer would be: its input gradient still flows.
        var block = TinyBlocks.block(c, frozen: [5], random: &random)
        // The norms train in the cases with biases.
        block.trainsNorms = bias
        let input = (0..<(length * c.embeddingSize)).map { _ in random.normal() }
        let r = (0..<(length * c.embeddingSize)).map { _ in random.normal() }

        let tape = BlockTape(config: c, length: length)
        tape.input.pointer.update(from: input, count: input.count)
        pass.forward(block, tape: tape)
        var gradients = block.zeroGradients()
        var inputGradient = [Float](repeating: 0, count: input.count)
        r.withUnsafeBufferPointer { r in
            inputGradient.withUnsafeMutableBufferPointer { g in
                pass.backward(block, tape: tape, outputGradient: r.baseAddress!, gradients: &gradients, inputGradient: g.baseAddress!)
            }
        }
        #expect(gradients[5].isEmpty, "a frozen layer has no parameters")
        #expect(gradients[TrainableBlock.attentionNormArray].count == (bias ? c.embeddingSize : 0))
        // The first block of a model returns no input gradient; its parameters' gradients are the same.
        var withoutInput = block.zeroGradients()
        r.withUnsafeBufferPointer { r in
            pass.backward(block, tape: tape, outputGradient: r.baseAddress!, gradients: &withoutInput, inputGradient: nil)
        }
        #expect(withoutInput == gradients)

        // Every trainable array: its first and last parameters (for a layer, a scale of the first
        // group and the midpoint of the ragged last group) and a few in between.
        var failures: [String] = []
        for (index, values) in block.parameters.enumerated() where !values.isEmpty {
            let count = values.count
            for p in Set([0, 1, 2, count / 3, count / 2 + 1, count - 2, count - 1]) {
                let h: Float = 1e-2
                var plus = block, minus = block
                plus.parameters[index][p] += h
                minus.parameters[index][p] -= h
                let numeric = (Self.loss(pass, plus, input: input, weights: r) - Self.loss(pass, minus, input: input, weights: r)) / Double(2 * h)
                if !Self.agree(Double(gradients[index][p]), numeric) {
                    failures.append("array \(index) parameter \(p): analytic \(gradients[index][p]), numeric \(numeric)")
                }
            }
        }
        for i in stride(from: 0, to: input.count, by: 23) {
            let h: Float = 1e-2
            var plus = input, minus = input
            plus[i] += h
            minus[i] -= h
            let numeric = (Self.loss(pass, block, input: plus, weights: r) - Self.loss(pass, block, input: minus, weights: r)) / Double(2 * h)
            if !Self.agree(Double(inputGradient[i]), numeric) {
                failures.append("input \(i): analytic \(inputGradient[i]), numeric \(numeric)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
