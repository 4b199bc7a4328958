import BindingRuntime
import CLinux
import Foundation

/// The second fuzz target: random parameters for every method the daemon describes, shaped by its
/// own OpenRPC document (with wrong types, numbers past every range and as strings, odd strings
/// and sizes, random handles and descriptors mixed in), and random bodies for the HTTP generation
/// routes (HTTPRoutes), sent to a daemon on the simulated runtimes, while a bystander client checks
/// that its model and context keep working.
///
///   rkllm-fuzz-methods [--seconds 30] [--seed N] [--rkllm-library librkllmrt_sim.so]
///
/// (the RKLLM library: the simulated runtime of either ABI, built beside it).
/// Fails (exit 1, with the seed and the requests that did it) when the daemon dies, a runtime host
/// crashes (-32009: a check the daemon is missing), a call gets no answer, or the bystander is
/// harmed. Runs the daemon built beside it.
@main
struct MethodFuzzer {
    static func main() {
        var seconds = 30.0
        var seed = UInt64(time(nil))
        var library = "librkllmrt_sim.so"
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
            switch flag {
            case "--seconds": seconds = Double(value) ?? seconds
            case "--seed": seed = UInt64(value) ?? seed
            case "--rkllm-library": library = value
            default: fail("unknown option \(flag)")
            }
        }
        do {
            let findings = try Campaign(seed: seed, rkllmLibrary: library).run(seconds: seconds)
            print(findings)
        } catch {
            fail("seed \(seed): \(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("rkllm-fuzz-methods: \(message)\n".utf8))
        exit(1)
    }
}

struct FuzzFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One run: the daemon, a bystander, and random calls until the time is up.
final class Campaign {
    private let seed: UInt64
    private var random: SplitMix
    private let daemon: FuzzedDaemon
    private var recent: [String] = []

    init(seed: UInt64, rkllmLibrary: String) throws {
        self.seed = seed
        random = SplitMix(seed: seed)
        daemon = try FuzzedDaemon(rkllmLibrary: rkllmLibrary)
    }

    func run(seconds: Double) throws -> String {
        defer { daemon.stop() }
        let bystander = try Bystander(socket: daemon.socket)
        let fuzzer = try RPCSession(socket: daemon.socket)
        let document = try fuzzer.result("rpc.discover", .array([]))
        guard case .array(let described)? = document["methods"] else { throw FuzzFailure("no methods in rpc.discover") }
        // Every method but the document itself: the runtimes' and the daemon's own (keep-alive, models, ...).
        let methods = described.filter { method in
            guard case .string(let name)? = method["name"] else { return false }
            return name != "rpc.discover"
        }
        guard let port = daemon.httpPort else { throw FuzzFailure("no HTTP port in the daemon's log") }
        let http = HTTPRoutes(port: port)
        var values = SchemaValues(schemas: document["components"]?["schemas"] ?? .object([:]))
        let deadline = Date().addingTimeInterval(seconds)
        var calls = 0
        var refused = 0
        while Date() < deadline {
            // One call in eight is a generation route's body over HTTP.
            if random.below(8) == 0 {
                do {
                    recent = Array((recent + [try http.call(&random)]).suffix(20))
                } catch {
                    throw finding("\(error)")
                }
                calls += 1
                guard daemon.isRunning else { throw finding("the daemon died") }
                continue
            }
            let method = methods[random.below(methods.count)]
            guard case .string(let name)? = method["name"], case .array(let params)? = method["params"] else {
                continue
            }
            let (arguments, fds) = values.arguments(params, random: &random)
            let line = "\(name) \(arguments.jsonText)"
            recent = Array((recent + [line]).suffix(20))
            let answers = try fuzzer.call(name, arguments, fds: fds, abortWith: "rkllm.abort")
            fds.forEach { close($0) }
            fuzzer.receivedFDs.forEach { close($0) }
            fuzzer.receivedFDs = []
            calls += 1
            if let code = answers.last?["error"]?["code"] {
                refused += 1
                if ProcessInfo.processInfo.environment["FUZZ_TRACE"] != nil,
                    case .string(let message)? = answers.last?["error"]?["message"]
                {
                    print("refused \(name): \(message.prefix(70))")
                }
                if code == .int(Int64(RPCError.Code.runtimeCrashed)) {
                    throw finding("a runtime host crashed: \(answers.last!.jsonText)")
                }
            }
            values.learn(from: answers, method: name, arguments: arguments, params: params)
            try replenish(&values, fuzzer)
            guard daemon.isRunning else { throw finding("the daemon died") }
            if calls % 50 == 0 { try bystander.check().mapError { finding("the bystander was harmed: \($0)") }.get() }
        }
        try bystander.check().mapError { finding("the bystander was harmed: \($0)") }.get()
        return
            "rkllm-fuzz-methods: seed \(seed), \(calls) calls over \(methods.count) methods in \(CheckedNumbers.wholePart(seconds)) s "
            + "(\(refused) refused), no crash, bystander unharmed"
    }

    /// Valid creating calls, so that most random calls reach the runtime with live handles: a model
    /// (of parameters no other client has), contexts of both demo models and a MatMul, memory.
    private func replenish(_ values: inout SchemaValues, _ session: RPCSession) throws {
        var creations: [(String, JSONValue)] = []
        if values.count(of: "model") < 2 {
            creations.append(
                ("rkllm.init", [["model_path": "demo.rkllm", "max_new_tokens": .int(Int64(8 + random.below(64)))]]))
        }
        if values.count(of: "context") < 4 {
            creations.append(("rknn.init", [["path": random.below(2) == 0 ? "demo-float.rknn" : "demo.rknn"], 0]))
            creations.append(
                ("rknn.matmul_create", [["M": 4, "K": 64, "N": 32, "type": "RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32"]]))
        }
        for (method, params) in creations {
            let answers = try session.call(method, params)
            session.receivedFDs.forEach { close($0) }
            session.receivedFDs = []
            values.learn(from: answers, method: method)
        }
        if values.count(of: "memory") < 2, let context = values.someContext(&random) {
            values.learn(
                from: try session.call("rknn.create_mem", [context, .int(Int64(16 << random.below(12)))]),
                method: "rknn.create_mem")
            session.receivedFDs.forEach { close($0) }
            session.receivedFDs = []
        }
    }

    private func finding(_ what: String) -> FuzzFailure {
        FuzzFailure(
            "\(what)\nthe last requests:\n" + recent.joined(separator: "\n") + "\ndaemon log tail:\n" + daemon.logTail)
    }
}

/// A client that holds a model handle and an RKNN context from the start and checks both still
/// work: nothing the fuzzer sends may cost it anything.
final class Bystander {
    private let session: RPCSession
    private let model: JSONValue
    private let context: JSONValue

    init(socket: String) throws {
        session = try RPCSession(socket: socket)
        model = try session.result("rkllm.init", [["model_path": "demo.rkllm"]])["handle"] ?? .null
        context = try session.result("rknn.init", [["path": "demo-float.rknn"], 0])["context"] ?? .null
        let input: JSONValue = [
            ["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]
        ]
        _ = try session.result("rknn.inputs_set", [context, input])
    }

    func check() -> Result<Void, FuzzFailure> {
        do {
            for (method, params, expected) in [
                ("server.ping", JSONValue.array([]), JSONValue.string("pong")), ("rknn.run", [context], .object([:])),
            ] {
                let answer = try session.result(method, params)
                guard answer == expected else { return .failure(FuzzFailure("\(method) answered \(answer.jsonText)")) }
            }
            // Its model answers exactly as a fresh one does: nothing another client did shows.
            let messages = try session.call(
                "rkllm.run", [model, ["input_type": "RKLLM_INPUT_PROMPT", "prompt_input": "hello world"]])
            var text = ""
            for message in messages { if case .string(let piece)? = message["result"]?["text"] { text += piece } }
            guard text == Self.helloReply else {
                return .failure(FuzzFailure("its model answered \(messages.last?.jsonText ?? "") after '\(text)'"))
            }
            return .success(())
        } catch {
            return .failure(FuzzFailure("\(error)"))
        }
    }

    /// The demo model's reply to "hello world" (docs/SIMULATED_RUNTIMES.md).
    static let helloReply = "Hello from the demo model, ça va? 你好: world hello."
}
