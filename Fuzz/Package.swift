// swift-tools-version:5.4
// libFuzzer targets for elutq's parsers of untrusted input. A package of its own because each
// target links only with `-sanitize=fuzzer` (libFuzzer supplies `main`), which the main package's
// `swift build` and `swift test` do not pass; `tools/fuzz` builds and runs them. Tools version
// 5.4 because later ones link an executable's `main` to `<target>_main`, which a fuzz target,
// whose `main` is libFuzzer's, does not define.
import PackageDescription

/// One fuzz target: an executable that exports `LLVMFuzzerTestOneInput`, over the parsers it
/// feeds (products of elutq) and, if it makes keys, swift-crypto. Parsed as a library, since
/// libFuzzer's `main` is the one that runs.
func fuzzTarget(_ name: String, _ products: [String], crypto: Bool = false) -> Target {
    .executableTarget(name: name, dependencies: products.map { .product(name: $0, package: "elutq") }
                      + (crypto ? [.product(name: "Crypto", package: "swift-crypto")] : []),
                      swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "elutq-fuzz",
    dependencies: [
        .package(name: "elutq", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        fuzzTarget("FuzzHLQFile", ["ModelFile"]),
        fuzzTarget("FuzzGGUFFile", ["ModelFile", "Tokenizer"]),
        fuzzTarget("FuzzSafetensors", ["ModelFile"]),
        fuzzTarget("FuzzCheckpoint", ["ModelFile", "Tokenizer"]),
        fuzzTarget("FuzzAgentConf", ["Agent", "Protocol"]),
        fuzzTarget("FuzzRequests", ["ModelPush", "MQTT", "Protocol", "Runtime"], crypto: true),
        fuzzTarget("FuzzPush", ["ModelPush", "Protocol"], crypto: true),
        fuzzTarget("FuzzTokenizer", ["Tokenizer"]),
    ]
)
