import ArgumentParser
import Engine
import Runtime

extension TablePrecision: ExpressibleByArgument {}

/// How the commands that run a `.hlq` model compute its matrices.
struct KernelOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The LUT kernels' activation tables: precise or int8.",
        discussion: """
            precise tables hold about 15 bits of each partial sum (two bytes per entry): perplexity \
            matches exact float dequantization even on a destroyed model. They do twice the lookups: \
            2-bit decode, bound by reading the weights, runs as fast, but 4-bit decode on one thread \
            is about 20% slower and prefill 20-40% slower. int8 tables hold about 8 bits, as \
            llama.cpp's q8 activations do: within 1% of exact float on a usable model, and faster.
            """))
    var tables = TablePrecision.precise

    var arithmetic: HLQArithmetic { .lut(tables) }
}
