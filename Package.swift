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
        // The parsers of untrusted input, for the fuzz targets in Fuzz/ (a package of its own,
        // since a libFuzzer target links only with -sanitize=fuzzer).
        .library(name: "ModelFile", targets: ["ModelFile"]),
        .library(name: "Tokenizer", targets: ["Tokenizer"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "Protocol", targets: ["Protocol"]),
        .library(name: "ModelPush", targets: ["ModelPush"]),
        .library(name: "Agent", targets: ["Agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // For its lock, a pthread mutex, which ThreadSanitizer models; it does not model the futex
        // under Synchronization's Mutex, and reported every access a Mutex guards as a race.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The SIMD kernels with runtime ISA dispatch: LUT table building and lookups, float and q8
        // products, softmax, SwiGLU and decode attention. The only C in the engine.
        .target(name: "CLUTKernels"),
        // The fork-join thread pool shared by the quantizer and the engine.
        .target(name: "Parallel", dependencies: ["CLUTKernels"]),
        // The computing below both the runtime and the quantizer: packed-matrix views, LUT GEMV/GEMM,
        // the float GEMM for activations, the float ops and the dot products.
        .target(name: "Engine", dependencies: ["CLUTKernels", "Parallel"]),
        // HLQ math: alternating fit, uniform baseline, GPTQ, refit, packing into the kernel layout. No I/O.
        .target(name: "HLQ", dependencies: ["CLUTKernels", "Engine", "Parallel"]),
        // Model files: GGUF and safetensors importers, the .hlq reader and writer.
        .target(name: "ModelFile", dependencies: ["CLUTKernels", "Parallel", .product(name: "Crypto", package: "swift-crypto")]),
        // Text to tokens and back (byte-level BPE, as llama.cpp does it), and the ChatML chat template.
        .target(name: "Tokenizer", dependencies: ["ModelFile"]),
        // Running a model: weights loaded in place, the transformer and its KV cache, sampler, generator.
        .target(name: "Runtime", dependencies: ["Engine", "ModelFile", "Parallel", "Tokenizer"]),
        // Making a model: the recipe's quantization, GPTQ calibration block by block, mixed precision,
        // and chat transcripts as calibration text.
        .target(name: "Quantization", dependencies: ["Engine", "HLQ", "ModelFile", "Parallel", "Runtime", "Tokenizer"]),
        // HLQ finetuning: the hand-written backward passes, block reconstruction and end-to-end tuning
        // of the scales and midpoints, with checkpoints.
        .target(name: "Training", dependencies: ["Engine", "HLQ", "ModelFile", "Parallel", "Runtime", "Tokenizer"]),
        // Measuring a model: perplexity by llama.cpp's rule and KL divergence from a reference.
        .target(name: "Evaluation", dependencies: ["Runtime"]),
        // Readings of this process from /proc, for the CLI's bench and the agent's telemetry.
        .target(name: "SystemReadings"),
        // libmosquitto (MQTT v5 client) and json-c, from the system (tools/bootstrap installs them).
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        // glibc's mallopt, for the agent's allocator settings.
        .systemLibrary(name: "CMalloc"),
        // A self-reconnecting MQTT v5 client, a thin layer over libmosquitto.
        .target(name: "MQTT", dependencies: ["CMosquitto", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        // The wire protocol shared by the CLI and the agent: JSON, topics, routes, requests, replies, broker settings.
        .target(name: "Protocol", dependencies: ["MQTT", "CJSONC", "Runtime", "Tokenizer", "ModelFile"]),
        // Model push over MQTT, shared by the sender (CLI) and the receiver (agent): the signed
        // manifest, block messages, the bitmap of received blocks, transfer events, the windowed sender.
        .target(name: "ModelPush", dependencies: ["MQTT", "Protocol", "ModelFile", .product(name: "Crypto", package: "swift-crypto")]),
        // The serving daemon: agent.conf, the queue, presence, telemetry, the model store and the push receiver.
        .target(name: "Agent", dependencies: ["MQTT", "Protocol", "Engine", "Runtime", "ModelFile", "ModelPush", "Parallel",
                                              "SystemReadings", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .executableTarget(name: "elutq-agent", dependencies: ["Agent", "CMalloc"]),
        // What `elutq exporter` and `elutq dashboard` know of the fleet: status and telemetry messages
        // read into per-device records with a bounded history, and their Prometheus metrics.
        .target(name: "FleetMonitor", dependencies: ["MQTT", "Protocol", .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .executableTarget(
            name: "elutq",
            dependencies: [
                "Engine", "HLQ", "ModelFile", "Tokenizer", "Runtime", "Quantization", "Training", "Evaluation", "Parallel",
                "SystemReadings", "Protocol", "MQTT", "ModelPush", "FleetMonitor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        // tools/fake-fleet: status and telemetry of N simulated devices, for measuring the exporter and the dashboard.
        .executableTarget(name: "fake-fleet", dependencies: ["MQTT", "Protocol", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // tools/soak: the clients that ask a device prompts through the soak's faults and count what became of each.
        .executableTarget(name: "soak-clients", dependencies: ["MQTT", "Protocol", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Helpers for the tests: seeded data, temporary files, the real models' paths, a private
        // mosquitto, Prometheus and headless Chromium, the built executables, and what a test may declare it
        // needs (TestNeeds.swift).
        .target(name: "TestSupport", dependencies: ["MQTT", "Protocol", "Runtime", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")], path: "Tests/TestSupport"),
        // For the tests that talk to agents: a private broker, in-process agents serving the real
        // SmolLM2, a client that files their replies, the signed model that push tests send (here so
        // the bridge tests push it too); and the suite that runs such tests one at a time.
        .target(name: "AgentHarness", dependencies: ["Agent", "ModelFile", "ModelPush", "MQTT", "Parallel", "Protocol", "Runtime",
                                                     "TestSupport", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
                path: "Tests/AgentHarness"),
        // One test target per module. A test that needs a broker, the built executables, the real
        // models or a Python oracle says so (`.needs(...)`); the others are unit tests, which
        // `tools/test --unit` runs alone.
        .testTarget(name: "ParallelTests", dependencies: ["Parallel", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .testTarget(name: "HLQTests", dependencies: ["HLQ", "Engine", "Parallel", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "HLQ", "CLUTKernels", "Parallel", "TestSupport"]),
        .testTarget(name: "ModelFileTests", dependencies: ["ModelFile", "HLQ", "TestSupport"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Evaluation", "Engine", "HLQ", "ModelFile", "Parallel", "Runtime", "TestSupport"]),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "TestSupport"]),
        .testTarget(name: "ProtocolTests", dependencies: ["Protocol", "MQTT", "Runtime", "Tokenizer", "TestSupport"]),
        .testTarget(name: "FleetMonitorTests", dependencies: ["FleetMonitor", "MQTT", "Protocol", "TestSupport"]),
        .testTarget(name: "ModelPushTests", dependencies: ["ModelPush", "Agent", "AgentHarness", "ModelFile", "MQTT", "Protocol", "TestSupport",
                                                           .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "AgentHarness", "ModelFile", "Protocol", "MQTT", "Runtime", "Tokenizer", "Parallel",
                                                       "TestSupport"]),
        // `elutq` and `elutq-agent` run as a user runs them.
        .testTarget(name: "CommandLineTests", dependencies: ["Agent", "AgentHarness", "ModelFile", "MQTT", "Protocol", "TestSupport"]),
        // The real SmolLM2 and Qwen through the whole pipeline: quantized, run, scored.
        .testTarget(name: "ModelTests", dependencies: ["Tokenizer", "Runtime", "Quantization", "Evaluation", "ModelFile", "Engine", "HLQ",
                                                       "Parallel", "TestSupport", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
    ],
    swiftLanguageModes: [.v6]
)
