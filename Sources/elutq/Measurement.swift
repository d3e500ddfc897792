import Parallel

/// Seconds on the monotonic clock, for timing benchmarks.
func monotonicSeconds() -> Double {
    Double(monotonicNanoseconds()) * 1e-9
}

/// Runs `body` `repetitions` times after one warm-up and returns the median wall time in seconds.
func medianSeconds(repetitions: Int, _ body: (Int) -> Void) -> Double {
    body(0)
    var times: [Double] = []
    for r in 0..<max(1, repetitions) {
        let start = monotonicSeconds()
        body(r + 1)
        times.append(monotonicSeconds() - start)
    }
    return median(times)
}

/// The median of some measurements (the upper one of an even count's middle two).
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "the median of nothing")
    return values.sorted()[values.count / 2]
}
