import ArgumentParser
import Engine
import Runtime

extension TablePrecision: ExpressibleByArgument {}

/// How the commands that run a `.hlq` model compute its matrices.
struct KernelOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The LUT kernels' activation tables: mixed, precise or int8 (default: mixed; precise for ppl and bench-kernel).",
        discussion: """
            precise tables hold about 15 bits of each partial sum (two bytes per entry): perplexity \
            matches exact float dequantization even on a destroyed model. They do twice the lookups: \
            2-bit decode, bound by reading the weights, runs as fast, but 4-bit decode on one thread \
            is about 20% slower and prefill 20-40% slower. int8 tables hold about 8 bits, as \
            llama.cpp's q8 activations do: within 0.2% of exact float on the usable models measured, \
            and faster. mixed builds int8 tables for a batch of tokens (the prompt) and precise ones \
            for a single token (each generated one): prompts at int8 speed, each generated token's \
            own products with precise tables. ppl scores with precise tables unless told otherwise, so its figures are the \
            model's own, not the tables'.
            """))
    var tables: TablePrecision?

    /// The arithmetic for this command, whose default tables are `precision`.
    func arithmetic(default precision: TablePrecision = .mixed) -> HLQArithmetic { .lut(tables ?? precision) }
}
