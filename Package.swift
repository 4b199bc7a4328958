// swift-tools-version:6.1
import PackageDescription

/// Where Debian's libclang-dev puts the clang-c headers (scripts/setup.sh installs it).
let libclangInclude = "/usr/lib/llvm-14/include"

/// The request path's targets (JSON, JSON-RPC, the event loop): exclusivity is checked at run time
/// in debug builds, which every test runs (under both sanitizers too), and not in release, where its
/// checks on every class property access were a tenth of a request's time (docs/PERFORMANCE.md).
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "rkllm-server",
    products: [
        .executable(name: "binding-gen", targets: ["binding-gen"]),
        .executable(name: "rkllm-server", targets: ["rkllm-server"]),
        .executable(name: "rkllm-bench", targets: ["rkllm-bench"]),
        // The command-line client: chat, generate, run, models, ps, info, stats, coverage, bench.
        .executable(name: "rkllm", targets: ["rkllm"]),
        .plugin(name: "BindingGenPlugin", targets: ["BindingGenPlugin"]),
        // The runtime host processes, one per header set: the daemon starts the one of the library's version.
        .executable(name: "rkllm-host-1.2.3", targets: ["rkllm-host-1.2.3"]),
        .executable(name: "rkllm-host-1.3.0", targets: ["rkllm-host-1.3.0"]),
        .executable(name: "rknn-host", targets: ["rknn-host"]),
        .library(name: "RKLLMBindings_1_2_3", targets: ["RKLLMBindings_1_2_3"]),
        .library(name: "RKLLMBindings_1_3_0", targets: ["RKLLMBindings_1_3_0"]),
        .library(name: "RKNNBindings", targets: ["RKNNBindings"]),
        .library(name: "RKClient", targets: ["RKClient"]),
        // The simulated RKLLM runtime: the ABI of Headers/rkllm/1.2.3/rkllm.h, loaded by workers like the vendor's.
        .library(name: "rkllmrt_sim", type: .dynamic, targets: ["RKLLMSim"]),
        // The same, built for the RKLLM 1.3.0 ABI (Headers/rkllm/1.3.0/rkllm.h).
        .library(name: "rkllmrt_sim-1.3", type: .dynamic, targets: ["RKLLMSim_1_3"]),
        .executable(name: "sim-model", targets: ["sim-model"]),
        // The simulated RKNN runtime: the ABI of Headers/rknn/rknn_api.h (and MatMul, custom operators).
        .library(name: "rknnrt_sim", type: .dynamic, targets: ["RKNNSim"]),
        // An example custom-operator plugin, loaded by runtime hosts from the plugin directory.
        .library(name: "rkcst_cstSigmoid", type: .dynamic, targets: ["CustomOpSigmoid"]),
        // The dispatch tests' fixture C library, loaded with dlopen like a vendor runtime.
        .library(name: "calltest", type: .dynamic, targets: ["CallTestRuntime"]),
        // A stand-in RKLLM runtime that fails, hangs and crashes on demand (runtime-host tests).
        .library(name: "faultrt", type: .dynamic, targets: ["FaultRuntime"]),
    ],
    targets: [
        // MARK: the generator's pipeline: parse (libclang) -> plain model -> plan -> render / report
        .systemLibrary(name: "CClang", path: "Sources/Generator/CClang"),
        .target(name: "APIModel", path: "Sources/Generator/APIModel"),
        .target(
            name: "ClangImport",
            dependencies: ["APIModel", "CClang"],
            path: "Sources/Generator/ClangImport",
            swiftSettings: [.unsafeFlags(["-Xcc", "-I\(libclangInclude)"])]
        ),
        .target(name: "BindingPlan", dependencies: ["APIModel"], path: "Sources/Generator/BindingPlan"),
        .target(
            name: "SwiftEmitter", dependencies: ["APIModel", "BindingPlan"], path: "Sources/Generator/SwiftEmitter"),
        .target(
            name: "CoverageReport", dependencies: ["APIModel", "BindingPlan"], path: "Sources/Generator/CoverageReport"),
        .executableTarget(
            name: "binding-gen",
            dependencies: ["ClangImport", "BindingPlan", "SwiftEmitter", "CoverageReport"],
            path: "Sources/Generator/binding-gen",
            swiftSettings: [.unsafeFlags(["-Xcc", "-I\(libclangInclude)"])]
        ),
        .plugin(name: "BindingGenPlugin", capability: .buildTool(), dependencies: ["binding-gen"]),

        // MARK: the vendor ABI as a C module, and the generated code over it
        // Per header set (a runtime's SDK version): its C module; its description (what its methods
        // are, no C: the daemon holds every version's); its bindings (types and calls, over the C
        // module: one per runtime host executable, as two versions' C modules cannot meet in one).
        .systemLibrary(name: "CRKLLM_1_2_3", path: "Headers/rkllm/1.2.3"),
        .systemLibrary(name: "CRKLLM_1_3_0", path: "Headers/rkllm/1.3.0"),
        .systemLibrary(name: "CRKNN", path: "Headers/rknn"),
        .target(name: "BindingRuntime", path: "Sources/Daemon/BindingRuntime", swiftSettings: hotPath),
        .target(
            name: "RKLLMDescription_1_2_3", dependencies: ["BindingRuntime"],
            path: "Sources/Daemon/Descriptions/RKLLM-1.2.3", plugins: ["BindingGenPlugin"]),
        .target(
            name: "RKLLMDescription_1_3_0", dependencies: ["BindingRuntime"],
            path: "Sources/Daemon/Descriptions/RKLLM-1.3.0", plugins: ["BindingGenPlugin"]),
        .target(
            name: "RKNNDescription", dependencies: ["BindingRuntime"], path: "Sources/Daemon/Descriptions/RKNN",
            plugins: ["BindingGenPlugin"]),
        .target(
            name: "RKLLMBindings_1_2_3", dependencies: ["RKLLMDescription_1_2_3", "CRKLLM_1_2_3"],
            path: "Sources/Daemon/Bindings/RKLLM-1.2.3", plugins: ["BindingGenPlugin"]),
        .target(
            name: "RKLLMBindings_1_3_0", dependencies: ["RKLLMDescription_1_3_0", "CRKLLM_1_3_0"],
            path: "Sources/Daemon/Bindings/RKLLM-1.3.0", plugins: ["BindingGenPlugin"]),
        .target(
            name: "RKNNBindings", dependencies: ["RKNNDescription", "CRKNN"], path: "Sources/Daemon/Bindings/RKNN",
            plugins: ["BindingGenPlugin"]),

        // MARK: the daemon: transport, JSON-RPC, scheduling (hand-written), hosting the generated table
        .systemLibrary(name: "CLinux", path: "Sources/Daemon/CLinux"),
        // The crash signals' handler: raw system calls, out of the sanitizers' reach (its file says why).
        .target(name: "CFatalSignals", path: "Sources/Daemon/CFatalSignals"),
        // What both ends of a socket share: Unix sockets, line framing, system errors (server and clients).
        .target(name: "Wire", dependencies: ["CLinux"], path: "Sources/Daemon/Wire"),
        .target(
            name: "RPCServer", dependencies: ["BindingRuntime", "CLinux", "CFatalSignals", "Wire"],
            path: "Sources/Daemon/RPCServer",
            swiftSettings: hotPath),
        // The HTTP front (OpenAI's and Ollama's dialects) on the server's event loop.
        .target(
            name: "HTTPFront", dependencies: ["RPCServer", "BindingRuntime", "CLinux", "Wire"],
            path: "Sources/Daemon/HTTPFront"
        ),
        .target(
            name: "RKClient", dependencies: ["BindingRuntime", "CLinux", "Wire"], path: "Sources/Clients/RKClient"),
        .executableTarget(name: "rkllm", dependencies: ["RKClient", "BindingRuntime"], path: "Sources/Clients/rkllm"),
        .target(
            name: "RuntimeHost", dependencies: ["RPCServer", "BindingRuntime", "Wire"],
            path: "Sources/Daemon/RuntimeHost"),
        .executableTarget(
            name: "rkllm-server",
            dependencies: [
                "RPCServer", "RuntimeHost", "HTTPFront", "Wire", "RKLLMDescription_1_2_3", "RKLLMDescription_1_3_0",
                "RKNNDescription",
            ],
            path: "Sources/Daemon/rkllm-server"),
        .executableTarget(
            name: "rkllm-host-1.2.3", dependencies: ["RuntimeHost", "RKLLMBindings_1_2_3"],
            path: "Sources/Daemon/Hosts/rkllm-host-1.2.3"),
        .executableTarget(
            name: "rkllm-host-1.3.0", dependencies: ["RuntimeHost", "RKLLMBindings_1_3_0"],
            path: "Sources/Daemon/Hosts/rkllm-host-1.3.0"),
        .executableTarget(
            name: "rknn-host", dependencies: ["RuntimeHost", "RKNNBindings"], path: "Sources/Daemon/Hosts/rknn-host"),
        .executableTarget(
            name: "rkllm-bench", dependencies: ["CLinux", "RPCServer", "BindingRuntime", "CRKLLM_1_2_3", "Wire"],
            path: "Sources/Tools/rkllm-bench"),
        // libFuzzer target over framing + JSON + JSON-RPC parsing (scripts/fuzz.sh).
        .executableTarget(
            name: "rkllm-fuzz", dependencies: ["RPCServer", "BindingRuntime", "HTTPFront", "Wire"],
            path: "Sources/Tools/rkllm-fuzz"),
        // Random parameters for every generated method against the simulated runtimes, a bystander watching.
        .executableTarget(
            name: "rkllm-fuzz-methods", dependencies: ["BindingRuntime", "CLinux", "Wire"],
            path: "Sources/Tools/rkllm-fuzz-methods"),

        // MARK: simulated runtimes (C, built as shared libraries; never linked into the daemon)
        .target(name: "SimSupport", path: "Sources/Simulators/SimSupport"),
        .target(
            name: "RKLLMSim",
            dependencies: ["SimSupport"],
            path: "Sources/Simulators/RKLLMSim",
            publicHeadersPath: "include",
            cSettings: [.headerSearchPath("../../../Headers/rkllm/1.2.3")],
            linkerSettings: [.linkedLibrary("pthread")]
        ),
        .target(
            name: "RKLLMSim_1_3",
            dependencies: ["SimSupport"],
            path: "Sources/Simulators/RKLLMSim-1.3",
            publicHeadersPath: "include",
            cSettings: [.headerSearchPath("../../../Headers/rkllm/1.3.0")],
            linkerSettings: [.linkedLibrary("pthread")]
        ),
        .target(
            name: "RKNNSim",
            dependencies: ["SimSupport"],
            path: "Sources/Simulators/RKNNSim",
            publicHeadersPath: "include",
            cSettings: [.headerSearchPath("../../../Headers/rknn")],
            linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("m")]
        ),
        .target(
            name: "CustomOpSigmoid",
            path: "Sources/Simulators/CustomOpSigmoid",
            publicHeadersPath: "include",
            cSettings: [.headerSearchPath("../../../Headers/rknn"), .unsafeFlags(["-fvisibility=hidden"])],
            // rknn_custom_op_get_op_attr comes from the runtime that loads the plugin.
            linkerSettings: [.linkedLibrary("m")]
        ),
        // Writes the model and LoRA adapter files of the simulated runtimes.
        .executableTarget(name: "sim-model", path: "Sources/Simulators/sim-model"),

        // MARK: tests
        .testTarget(
            name: "BindingGenTests",
            dependencies: ["ClangImport", "BindingPlan", "SwiftEmitter", "CoverageReport"],
            exclude: [],
            swiftSettings: [.unsafeFlags(["-Xcc", "-I\(libclangInclude)"])]
        ),
        .testTarget(
            name: "RKBindingsTests", dependencies: ["RKLLMBindings_1_2_3", "RKNNBindings", "CRKLLM_1_2_3", "CRKNN"]),
        // A fixture header of our own, generated like Headers/ and called through its table.
        .systemLibrary(name: "CCallTestHeaders", path: "Tests/Fixtures/calltest"),
        .target(
            name: "CallTestRuntime",
            path: "Tests/Support/CallTestRuntime",
            publicHeadersPath: ".",
            cSettings: [.headerSearchPath("../../Fixtures/calltest")]
        ),
        .target(
            name: "CallTestDescription", dependencies: ["BindingRuntime"], path: "Tests/Support/CallTestDescription",
            plugins: ["BindingGenPlugin"]),
        .target(
            name: "CallTestBindings",
            dependencies: ["CallTestDescription", "CCallTestHeaders"],
            path: "Tests/Support/CallTestBindings",
            plugins: ["BindingGenPlugin"]
        ),
        .testTarget(name: "GeneratedDispatchTests", dependencies: ["CallTestBindings", "CCallTestHeaders"]),
        // The fixture's runtime host (what rknn-host is for RKNN, for the fixture's table).
        .executableTarget(
            name: "calltest-host", dependencies: ["RuntimeHost", "CallTestBindings"], path: "Tests/Support/CallTestHost"
        ),
        .testTarget(
            name: "RPCServerTests", dependencies: ["RPCServer", "BindingRuntime", "CLinux", "HTTPFront", "Wire"]),
        // The runtime host's logic against the fixture's generated table and manifest.
        .testTarget(name: "RuntimeHostTests", dependencies: ["RuntimeHost", "CallTestBindings", "RPCServer"]),
        // Start the real rkllm-server binary and talk to it over its socket.
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "BindingRuntime", "CLinux", "RPCServer", "RuntimeHost", "CallTestBindings", "RKClient", "RKNNBindings",
                "Wire",
            ]),
        .target(
            name: "FaultRuntime",
            path: "Tests/Support/FaultRuntime",
            publicHeadersPath: ".",
            cSettings: [
                .headerSearchPath("../../../Headers/rkllm/1.2.3"), .headerSearchPath("../../../Headers/rknn"),
            ]
        ),
    ]
)
