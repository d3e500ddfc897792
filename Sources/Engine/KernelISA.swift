import CLUTKernels

/// An instruction-set path of the kernels (LUT products, their tables, q8 products).
///
/// Every product is told its path rather than reading process-wide state, so tests can run several
/// paths side by side, in parallel, and always know which ones they compare. The engine multiplies
/// on `best` unless a caller names another.
public enum KernelISA: UInt32, CaseIterable, Sendable {
    case scalar = 0, avx2 = 1, avx512vbmi = 2, neon = 3

    /// The fastest path this CPU supports, chosen on first use and kept for the process.
    public static let best = KernelISA(elutq_best_isa())

    /// Whether this CPU (and build) can run the path; the kernels must not be given one it cannot.
    public var isSupported: Bool { elutq_isa_supported(kernelValue) != 0 }
    /// A short name such as "avx512vbmi".
    public var name: String { String(cString: elutq_isa_name(kernelValue)) }

    /// The value the C entry points take.
    var kernelValue: elutq_isa { elutq_isa(rawValue: rawValue) }

    private init(_ isa: elutq_isa) { self.init(rawValue: isa.rawValue)! }
}
