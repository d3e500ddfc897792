import ArgumentParser
import Engine
import Runtime

extension TablePrecision: ExpressibleByArgument {}

/// How the commands that run a `.hlq` model compute its matrices.
struct KernelOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The LUT kernels' activation tables: int8, precise or mixed (default: int8; precise for ppl).",
        discussion: """
            int8 tables hold about 8 bits of each partial sum, as llama.cpp's q8 activations do: \
            within 0.2% of exact float perplexity on the usable models measured. precise tables hold \
            about 15 bits (two bytes per entry, twice the lookups): perplexity matches exact float \
            dequantization even on a destroyed model, prefill is 20-40% slower, and decode is as fast \
            only where reading the weights is the limit (2 bits on AVX-512); on AVX2 the precise \
            kernel is about 1.45x slower. mixed builds int8 tables for a batch of tokens (the prompt) \
            and precise ones for a single token (each generated one). ppl scores with precise tables \
            unless told otherwise, so its figures are the model's own, not the tables'.
            """))
    var tables: TablePrecision?

    /// The arithmetic for this command, whose default tables are `precision`.
    func arithmetic(default precision: TablePrecision = .int8) -> HLQArithmetic { .lut(tables ?? precision) }
}
