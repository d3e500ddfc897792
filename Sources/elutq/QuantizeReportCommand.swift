import ArgumentParser
import Foundation
import HLQ
import ModelFile
import Parallel

/// `elutq quantize-report`: fits every linear weight matrix of a GGUF model with uniform and HLQ.
struct QuantizeReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize-report",
        abstract: "Fit every linear weight matrix of a GGUF model with uniform and HLQ and compare their errors.",
        discussion: """
            Each matrix is dequantized to float, then fitted by both methods at the same bits and group \
            size. The error is the mean over matrices of ‖W − Q‖² / ‖W‖². Nothing is written.
            """)

    @Argument(help: "A GGUF model file.") var model: String
    @Option(help: "Bit planes B (1-4).") var bits = 2
    @Option(name: .customLong("group-size"), help: "Group size G (a multiple of 32, at most 1024).") var groupSize = 128
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validateQuantization(bits: bits, groupSize: groupSize)
    }

    struct MethodResult: Codable {
        var meanRelativeMSE: Double
        var fitSeconds: Double
    }

    struct Report: Codable {
        var model: String
        var bits: Int
        var groupSize: Int
        var threads: Int
        var matrices: Int
        var weights: Int
        var uniform: MethodResult
        var hlq: MethodResult
        var hlqOverUniform: Double
        var dequantizeSeconds: Double
        var wallSeconds: Double
    }

    func run() throws {
        let start = monotonicSeconds()
        let file: GGUFFile
        do { file = try GGUFFile(path: model) } catch { throw ValidationError("cannot read \(model): \(error)") }
        let linear = file.tensors.filter { LinearLayer(tensorName: $0.name) != nil && $0.dims.count == 2 }
        guard !linear.isEmpty else { throw ValidationError("\(model) has no linear weight matrices") }
        let pool = ThreadPool(threadCount: common.threads)
        var relative: [QuantizationMethod: Double] = [:]
        var fitSeconds: [QuantizationMethod: Double] = [:]
        var dequantizeSeconds = 0.0, weightCount = 0
        for (index, tensor) in linear.enumerated() {
            let cols = tensor.dims[0], rows = tensor.dims[1]
            common.progress("[\(index + 1)/\(linear.count)] \(tensor.name) \(rows)x\(cols) \(tensor.type)")
            let t0 = monotonicSeconds()
            var weights = [Float](repeating: 0, count: rows * cols)
            try weights.withUnsafeMutableBufferPointer { out in
                try file.dequantizeRows(tensor, rows: 0..<rows, into: out.baseAddress!, pool: pool)
            }
            dequantizeSeconds += monotonicSeconds() - t0
            weightCount += rows * cols
            for method in QuantizationMethod.allCases {
                let t1 = monotonicSeconds()
                let q = weights.withUnsafeBufferPointer {
                    Quantizer.quantize($0, rows: rows, cols: cols, planes: bits, groupSize: groupSize, method: method, pool: pool)
                }
                fitSeconds[method, default: 0] += monotonicSeconds() - t1
                let (error, energy) = weights.withUnsafeBufferPointer { q.squaredError(against: $0) }
                relative[method, default: 0] += energy > 0 ? error / energy : 0
            }
        }
        common.endProgress()
        let n = Double(linear.count)
        let uniform = MethodResult(meanRelativeMSE: relative[.uniform]! / n, fitSeconds: fitSeconds[.uniform]!)
        let hlq = MethodResult(meanRelativeMSE: relative[.hlq]! / n, fitSeconds: fitSeconds[.hlq]!)
        let report = Report(
            model: model, bits: bits, groupSize: groupSize, threads: common.threads, matrices: linear.count,
            weights: weightCount, uniform: uniform, hlq: hlq, hlqOverUniform: hlq.meanRelativeMSE / uniform.meanRelativeMSE,
            dequantizeSeconds: dequantizeSeconds, wallSeconds: monotonicSeconds() - start)
        if common.json {
            try common.printJSON(report)
        } else {
            print(Self.table(report))
        }
    }

    static func table(_ r: Report) -> String {
        func f(_ v: Double, _ format: String) -> String { String(format: format, v) }
        return """
            \(r.model)
            \(r.matrices) linear matrices, \(r.weights) weights, B=\(r.bits) g=\(r.groupSize), \(r.threads) threads
            method    mean relative MSE   fit time
            uniform   \(f(r.uniform.meanRelativeMSE, "%.6f"))            \(f(r.uniform.fitSeconds, "%.2f")) s
            hlq       \(f(r.hlq.meanRelativeMSE, "%.6f"))            \(f(r.hlq.fitSeconds, "%.2f")) s
            hlq / uniform = \(f(r.hlqOverUniform, "%.3f"))
            dequantize \(f(r.dequantizeSeconds, "%.2f")) s, wall time \(f(r.wallSeconds, "%.2f")) s
            """
    }
}
