import ArgumentParser
import Engine
import Runtime

extension TablePrecision: ExpressibleByArgument {}

/// How the commands that run a `.hlq` model compute its matrices.
struct KernelOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The LUT kernels' activation tables: precise or int8.",
        discussion: """
            precise tables hold about 15 bits of each partial sum (two bytes per entry): perplexity \\
            matches exact float dequantization even on a destroyed model, and decode speed is \\
            unchanged, but prefill does about twice the lookups (25-35% slower). int8 tables hold \\
            about 8 bits, as llama.cpp's q8 activations do: within 1% of exact float on a usable \\
            model, with the faster prefill.
            """))
    var tables = TablePrecision.precise

    var arithmetic: HLQArithmetic { .lut(tables) }
}
