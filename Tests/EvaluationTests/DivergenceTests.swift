import Testing
@testable import Evaluation

/// The arithmetic behind `elutq ppl --kl-reference`, on distributions small enough to work out by hand.
struct DivergenceTests {
    @Test func identicalDistributionsHaveNoDivergence() {
        let logits: [Float] = [1.5, -2, 0.25, 3]
        let norm = Perplexity.logSumExp(logits, count: logits.count)
        #expect(Perplexity.klDivergence(logits, norm, from: logits, norm, count: logits.count) == 0)
    }

    /// A sure thing against a fair coin: KL = 1·log(1/½) = log 2. Logits that differ by a constant
    /// are the same distribution, so the normalizer must cancel it.
    @Test func certaintyAgainstAFairCoinIsLogTwo() {
        let certain: [Float] = [0, -200], fair: [Float] = [7, 7]
        let kl = Perplexity.klDivergence(certain, Perplexity.logSumExp(certain, count: 2),
                                         from: fair, Perplexity.logSumExp(fair, count: 2), count: 2)
        #expect(abs(kl - 0.6931471805599453) < 1e-6, "KL \(kl)")
    }

    @Test func divergenceIsNotSymmetric() {
        let p: [Float] = [2, 0, 0], q: [Float] = [0, 1, 1]
        let pn = Perplexity.logSumExp(p, count: 3), qn = Perplexity.logSumExp(q, count: 3)
        let forward = Perplexity.klDivergence(p, pn, from: q, qn, count: 3)
        let backward = Perplexity.klDivergence(q, qn, from: p, pn, count: 3)
        #expect(forward > 0 && backward > 0)
        #expect(abs(forward - backward) > 1e-3)
    }

    @Test func runningMeanAndItsStandardError() {
        var mean = Perplexity.RunningMean()
        for x in [1.0, 2, 3, 4] { mean.add(x) }
        #expect(mean.count == 4)
        #expect(mean.mean == 2.5)
        // Sample variance of 1…4 is 5/3; the standard error of the mean is √(5/3 / 4).
        #expect(abs(mean.standardError - (5.0 / 12).squareRoot()) < 1e-12)
    }

    @Test func argmaxTakesTheFirstOfEqualLargest() {
        let x: [Float] = [0, 3, -1, 3]
        #expect(Perplexity.argmax(x, count: 4) == 1)
    }
}
