import Foundation
import Testing

@testable import Runtime

/// Stop strings are cut from the output, and text that may start one is held back until it cannot.
@Suite struct StopScannerTests {
    @Test func cutsAtTheStopString() {
        var scanner = StopScanner(stop: ["END"])
        #expect(scanner.push("Hello E") == ("Hello ", false))
        #expect(scanner.push("N") == ("", false))
        #expect(scanner.push("D and more") == ("", true))
    }

    @Test func releasesHeldTextWhenItCannotBeAStop() {
        var scanner = StopScanner(stop: ["\n\n"])
        #expect(scanner.push("a\n") == ("a", false))
        #expect(scanner.push("b") == ("\nb", false))
        #expect(scanner.flush("") == "")
    }

    @Test func withoutStopStringsEverythingPasses() {
        var scanner = StopScanner(stop: [])
        #expect(scanner.push("abc") == ("abc", false))
    }
}

/// Sampling: greedy is the argmax, top-k and seeds behave, and penalties change the choice.
@Suite struct SamplerTests {
    @Test func greedyPicksTheLargestLogit() {
        var sampler = Sampler(.greedy)
        let logits: [Float] = [0.1, 3, -1, 2.9]
        #expect(logits.withUnsafeBufferPointer { sampler.sample($0, history: []) } == 1)
    }

    @Test func topKOneIsGreedyAtAnyTemperature() {
        var parameters = SamplingParameters()
        parameters.topK = 1
        parameters.temperature = 5
        parameters.seed = 1
        var sampler = Sampler(parameters)
        let logits: [Float] = (0..<1000).map { Float($0 % 97) / 10 }
        for _ in 0..<20 { #expect(logits.withUnsafeBufferPointer { sampler.sample($0, history: []) } == 96) }
    }

    @Test func aSeedReproducesTheDraws() {
        var parameters = SamplingParameters()
        parameters.seed = 42
        parameters.topK = 0
        parameters.minP = 0
        let logits: [Float] = (0..<500).map { sin(Float($0)) }
        func draws() -> [Int32] {
            var sampler = Sampler(parameters)
            return (0..<50).map { _ in logits.withUnsafeBufferPointer { sampler.sample($0, history: []) } }
        }
        #expect(draws() == draws())
        #expect(Set(draws()).count > 5)
    }

    @Test func repetitionPenaltyMovesTheChoice() {
        var parameters = SamplingParameters.greedy
        parameters.repetitionPenalty = 2
        var sampler = Sampler(parameters)
        let logits: [Float] = [1, 3, 2]
        #expect(logits.withUnsafeBufferPointer { sampler.sample($0, history: [1]) } == 2)
    }

    @Test func quickselectFindsTheKthLargest() {
        var values: [Float] = [5, 1, 9, 3, 7, 9, 2]
        #expect(Sampler.largest(1, of: &values) == 9)
        values = [5, 1, 9, 3, 7, 9, 2]
        #expect(Sampler.largest(3, of: &values) == 7)
        values = [5, 1, 9, 3, 7, 9, 2]
        #expect(Sampler.largest(7, of: &values) == 1)
    }
}
