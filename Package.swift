// swift-tools-version: 6.0
// elutq: 2-bit HLQ language models on the CPU, with bit-serial lookup-table kernels.
import PackageDescription

let package = Package(
    name: "elutq",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "elutq", targets: ["elutq"]),
        .executable(name: "elutq-agent", targets: ["elutq-agent"]),
        .library(name: "Engine", targets: ["Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // SIMD table-build and table-lookup kernels with runtime ISA dispatch. The only C in the engine.
        .target(name: "CLUTKernels"),
        // The fork-join thread pool shared by the quantizer and the engine.
        .target(name: "Parallel", dependencies: ["CLUTKernels"]),
        // HLQ math: alternating fit, uniform baseline, packing into the kernel layout. No I/O.
        .target(name: "HLQ", dependencies: ["CLUTKernels", "Parallel"]),
        // Packed-matrix views, LUT GEMV/GEMM and the float ops.
        .target(name: "Engine", dependencies: ["CLUTKernels", "HLQ", "Parallel"]),
        // Model files: GGUF and safetensors importers, the .hlq reader and writer.
        .target(name: "ModelFile", dependencies: ["CLUTKernels", "Parallel", .product(name: "Crypto", package: "swift-crypto")]),
        // The transformer, tokenizer, sampler and perplexity on top of the engine.
        .target(name: "Runtime", dependencies: ["Engine", "ModelFile", "HLQ"]),
        // HLQ finetuning: the hand-written backward passes, block reconstruction and end-to-end tuning
        // of the scales and midpoints, with checkpoints.
        .target(name: "Training", dependencies: ["Engine", "HLQ", "ModelFile", "Parallel", "Runtime"]),
        // libmosquitto (MQTT v5 client) and json-c, from the system (tools/bootstrap installs them).
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        // A self-reconnecting MQTT v5 client, a thin layer over libmosquitto.
        .target(name: "MQTT", dependencies: ["CMosquitto"]),
        // The wire protocol shared by the CLI and the agent: JSON, topics, routes, requests, replies, broker settings.
        .target(name: "Protocol", dependencies: ["MQTT", "CJSONC", "Runtime", "ModelFile"]),
        // Model push over MQTT, shared by the sender (CLI) and the receiver (agent): the signed
        // manifest, block messages, the bitmap of received blocks, transfer events, the windowed sender.
        .target(name: "ModelPush", dependencies: ["MQTT", "Protocol", "ModelFile", .product(name: "Crypto", package: "swift-crypto")]),
        // The serving daemon: agent.conf, the queue, presence, telemetry, the model store and the push receiver.
        .target(name: "Agent", dependencies: ["MQTT", "Protocol", "Engine", "Runtime", "ModelFile", "ModelPush", "Parallel",
                                              .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(name: "elutq-agent", dependencies: ["Agent"]),
        .executableTarget(
            name: "elutq",
            dependencies: [
                "Engine", "HLQ", "ModelFile", "Runtime", "Training", "Parallel", "Protocol", "MQTT", "ModelPush",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Helpers shared by the test targets: seeded random data and locating the real model.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ParallelTests", dependencies: ["Parallel"]),
        .testTarget(name: "HLQTests", dependencies: ["HLQ", "Parallel", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "HLQ", "CLUTKernels", "Parallel", "TestSupport"]),
        .testTarget(name: "ModelFileTests", dependencies: ["ModelFile", "HLQ", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TestSupport"]),
        // JSON, request and agent.conf parsing, without a broker or a model.
        .testTarget(name: "ProtocolTests", dependencies: ["Protocol", "MQTT", "Runtime", "TestSupport"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Protocol", "MQTT", "Runtime", "Parallel", "TestSupport", "ModelPush", "ModelFile",
                                                       .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Engine", "HLQ", "ModelFile", "Parallel", "Runtime", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Runtime", "ModelFile", "Engine", "HLQ", "Parallel", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
