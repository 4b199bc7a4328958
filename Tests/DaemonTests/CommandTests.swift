import BindingRuntime
import Foundation
import XCTest

/// The `rkllm` command as a user runs it against the daemon: chat with Ctrl-C, generate from
/// standard input with the load's progress, an RKNN model on a PPM or raw file, the listings, and
/// the one-line failures with the statuses scripts test.
final class CommandTests: XCTestCase {
    func testChatStreamsAndCtrlCStopsTheAnswerNotTheProgram() throws {
        let daemon = try RKLLMTests.simulated(["RKLLM_SIM_TOKEN_US": "100000"])
        defer { daemon.assertStopsCleanly() }
        let chat = try RunningCommand(
            ["chat", "demo", "--prefix", "<|user|>\\n", "--postfix", "\\n<|assistant|>\\n", "--verbose"],
            socket: daemon.socket)
        // A long prompt makes a long reply (the demo model says its words back): seconds of it to stop.
        let words = (1...60).map { "word\($0)" }.joined(separator: " ")
        chat.write(words + "\n")
        try chat.waitForOutput(containing: "Hello")
        kill(chat.process.processIdentifier, SIGINT)
        try chat.waitForErrors(containing: "(stopped)")
        chat.write("hello world\n/reset\n/system Be brief.\nhello world\n/bye\n")
        let (status, output, errors) = try chat.finish()
        XCTAssertEqual(status, 0, errors)
        // The stopped answer is cut short; the next two are whole, one after /reset and /system.
        let answers = output.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(answers.count, 4, output)
        XCTAssertFalse(answers[0].contains("word1."), output)
        // The conversation goes on after the stopped turn (the demo model counts its turns); /system starts a new one.
        XCTAssertEqual(answers[1], Substring(RKLLMTests.helloReply.replacingOccurrences(of: ":", with: " (turn 2):")))
        XCTAssertEqual(answers[2], Substring(RKLLMTests.helloReply), output)
        XCTAssertTrue(errors.contains("(a new conversation)"), errors)
        XCTAssertTrue(errors.contains("(a new conversation, with that system prompt)"), errors)
        // --verbose: the runtime's account of each whole answer; the first turn after /system
        // prefills its new system prompt (3 words) instead of the conversation so far.
        let prefills = errors.split(separator: "\n").filter { $0.hasPrefix("prefill ") }
        XCTAssertEqual(prefills.count, 2, errors)
        XCTAssertNotEqual(prefills.first, prefills.last, errors)
        // The stopped run ended in the daemon.
        let client = try Client(daemon.socket)
        XCTAssertEqual(try client.call("server.stats")["runtimes"]?["rkllm"]?["streams_running"], 0)
    }

    func testGenerateTakesStandardInputAndShowsTheLoad() throws {
        let daemon = try RKLLMTests.simulated(["RKLLM_SIM_LOAD_MS": "1500"])
        defer { daemon.assertStopsCleanly() }
        let generate = try RunningCommand(["generate", "demo"], socket: daemon.socket)
        generate.write("hello world")
        let (status, output, errors) = try generate.finish()
        XCTAssertEqual(status, 0, errors)
        XCTAssertEqual(output, RKLLMTests.helloReply + "\n")
        XCTAssertTrue(errors.contains("loading demo: 1 s"), errors)
        let argument = try runToEnd(Built.path("rkllm"), ["generate", "demo", "hello", "world"], socket: daemon.socket)
        XCTAssertEqual(argument.status, 0, argument.output)
        XCTAssertTrue(argument.output.hasSuffix("\n" + RKLLMTests.helloReply + "\n"), argument.output)
    }

    func testRunPrintsOrWritesAnRKNNModelsOutputs() throws {
        let daemon = try RKLLMTests.simulated(["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
        defer { daemon.assertStopsCleanly() }
        let pixels = (0..<(640 * 640 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 / 5) }
        let image = daemon.directory + "/frame.ppm"
        _ = FileManager.default.createFile(atPath: image, contents: Data("P6\n# a frame\n640 640\n255\n".utf8 + pixels))
        let outputs = daemon.directory + "/outputs"
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let written = try runToEnd(
            Built.path("rkllm"), ["run", "demo", image, "--out", outputs], socket: daemon.socket)
        XCTAssertEqual(written.status, 0, written.output)
        // The files hold what the daemon answers for the same frame (its composite rknn.run).
        let client = try Client(daemon.socket)
        let context = try client.call("rknn.init", ["model_path": "demo"])["context"]!
        let answer = try client.call(
            "rknn.run", ["context": context, "input_data": .string(Data(pixels).base64EncodedString())])
        for (index, name) in ["p8", "p16", "p32"].enumerated() {
            let file = try Data(contentsOf: URL(fileURLWithPath: "\(outputs)/\(name).f32"))
            let expected = try base64Values(answer["outputs"]?[index]?["buf"], as: Float.self)
            XCTAssertEqual(file.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, expected, name)
            XCTAssertTrue(written.output.contains("\(name) [1, 16, ") && written.output.contains("\(name).f32"))
        }
        let printed = try runToEnd(Built.path("rkllm"), ["run", "demo", image, "--values", "2"], socket: daemon.socket)
        XCTAssertEqual(printed.status, 0, printed.output)
        XCTAssertEqual(printed.output.split(separator: "\n").filter { $0.hasPrefix("p") }.count, 3, printed.output)
        // A raw file is taken as the input's own type unless told; the float model doubles and adds one.
        let raw = daemon.directory + "/x.f32"
        _ = FileManager.default.createFile(
            atPath: raw, contents: (0..<8).map(Float.init).withUnsafeBufferPointer(Data.init))
        let float = try runToEnd(Built.path("rkllm"), ["run", "demo-float", raw], socket: daemon.socket)
        XCTAssertEqual(float.output, "y [1, 8] min 1 max 15 mean 8: 1 3 5 7 9 11 13 15\n")
        // Files that do not fit the model are refused before anything runs.
        let small = daemon.directory + "/small.ppm"
        _ = FileManager.default.createFile(
            atPath: small, contents: Data("P6 32 32 255\n".utf8 + [UInt8](repeating: 0, count: 3072)))
        for (arguments, said) in [
            (["run", "demo", small], "small.ppm is 32x32 with 3 channel(s); the model's input images takes 640x640"),
            (["run", "demo-float", raw, "--type", "uint8"], "takes 8 bytes of uint8"),
            (["run", "demo", daemon.directory + "/absent.ppm"], "cannot read"),
        ] {
            let refused = try runToEnd(Built.path("rkllm"), arguments, socket: daemon.socket)
            XCTAssertEqual(refused.status, 6, refused.output)
            XCTAssertTrue(refused.output.contains(said), refused.output)
            XCTAssertEqual(refused.output.split(separator: "\n").count, 1, refused.output)
        }
    }

    func testListingsShowWhatTheDaemonHas() throws {
        let daemon = try RKLLMTests.simulated()
        defer { daemon.assertStopsCleanly() }
        let holder = try Client(daemon.socket)
        _ = try holder.call("rkllm.init", [["model_path": "demo"]])
        let rkllm = { (arguments: [String]) in try runToEnd(Built.path("rkllm"), arguments, socket: daemon.socket) }
        let models = try rkllm(["models"])
        XCTAssertTrue(models.output.contains(Built.models + "/demo.rkllm"), models.output)
        let ps = try rkllm(["ps"])
        XCTAssertTrue(ps.output.contains(Built.models + "/demo.rkllm  1 shared  idle"), ps.output)
        let info = try rkllm(["info"])
        XCTAssertTrue(
            info.output.contains("ABI \(TestABI.version.stringValue ?? ""), 15 of 15 functions resolved"), info.output)
        XCTAssertTrue(info.output.contains("rknn: no library"), info.output)
        let stats = try rkllm(["stats"])
        XCTAssertTrue(stats.output.contains("rkllm.init"), stats.output)
        // Which methods the libraries resolved: all of RKLLM's, none of RKNN's (no library here).
        let coverage = try rkllm(["coverage", "--json"])
        let report = try JSONParser.parse(Array(coverage.output.utf8))
        XCTAssertEqual(report["rkllm.init"], ["function": "rkllm_init", "state": "resolved"])
        XCTAssertEqual(report["rknn.run"]?["state"], "no library")
        for listing in ["models", "ps", "info", "stats"] {
            let json = try rkllm([listing, "--json"])
            XCTAssertEqual(json.status, 0, json.output)
            XCTAssertNoThrow(try JSONParser.parse(Array(json.output.utf8)), listing)
        }
    }

    func testFailuresAreOneLineWithTheirStatus() throws {
        let daemon = try RKLLMTests.simulated()
        defer { daemon.assertStopsCleanly() }
        let image = daemon.directory + "/frame.ppm"
        _ = FileManager.default.createFile(atPath: image, contents: Data("P6 1 1 255\n\0\0\0".utf8))
        for (arguments, status, said) in [
            (["ps"], 3, "rkllm-server is not running: nothing listens on /tmp/rkllm-absent.sock"),
            (["run", "demo", image], 5, "the daemon cannot serve this"),
            (
                ["generate", "absent-model", "hi"], 1,
                #"the model file is missing); given {"param":{"model_path":""# + daemon.directory
                    + "/models/absent-model"
            ),
            (["frobnicate"], 2, "no subcommand frobnicate"),
        ] {
            let socket = status == 3 ? "/tmp/rkllm-absent.sock" : daemon.socket
            let failed = try runToEnd(Built.path("rkllm"), arguments, socket: socket)
            XCTAssertEqual(failed.status, Int32(status), failed.output)
            XCTAssertTrue(failed.output.hasPrefix("rkllm") && failed.output.contains(said), failed.output)
            if status != 2 { XCTAssertEqual(failed.output.split(separator: "\n").count, 1, failed.output) }
        }
        // A user outside the socket's group: as root, the command runs as nobody; else the socket is closed to all.
        var arguments = [Built.path("rkllm"), "ps"]
        if geteuid() == 0 {
            arguments = ["--reuid=65534", "--regid=65534", "--clear-groups"] + arguments
        } else {
            chmod(daemon.socket, 0)
        }
        let refused = try runToEnd(
            geteuid() == 0 ? "/usr/bin/setpriv" : arguments.removeFirst(), arguments, socket: daemon.socket)
        XCTAssertEqual(refused.status, 4, refused.output)
        XCTAssertTrue(refused.output.contains("not permitted to connect to \(daemon.socket)"), refused.output)
    }

    func testTheTryScriptSaysInOneLineThatTheDaemonIsNotRunning() throws {
        let script = URL(fileURLWithPath: Built.models).deletingLastPathComponent().appending(path: "scripts/try.py")
        let failed = try runToEnd("/usr/bin/python3", [script.path, "hi"], socket: "/tmp/rkllm-absent.sock")
        XCTAssertEqual(failed.status, 3, failed.output)
        XCTAssertEqual(failed.output.split(separator: "\n").count, 1, failed.output)
        XCTAssertTrue(failed.output.contains("rkllm-server is not running: nothing listens on /tmp/rkllm-absent.sock"))
    }
}

/// `rkllm` with the test's socket: its status and output (standard output and error together).
func runToEnd(_ executable: String, _ arguments: [String], socket: String) throws -> (status: Int32, output: String) {
    var environment = ProcessInfo.processInfo.environment
    environment["RKLLM_UDS_PATH"] = socket
    return try runToEnd(executable, arguments, environment: environment)
}

/// `rkllm` run as a user runs it: its input written as the test goes, its output read as it comes.
final class RunningCommand {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private var outputSoFar: [UInt8] = []
    private var errorsSoFar: [UInt8] = []

    init(_ arguments: [String], socket: String) throws {
        process.executableURL = URL(fileURLWithPath: Built.path("rkllm"))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["RKLLM_UDS_PATH": socket]) { $1 }
        (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
        try process.run()
    }

    func write(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

    func waitForOutput(containing text: String) throws { try wait(for: text, on: output, into: &outputSoFar) }
    func waitForErrors(containing text: String) throws { try wait(for: text, on: errors, into: &errorsSoFar) }

    /// Closes its input and waits for it to end: its status, output and errors.
    func finish() throws -> (status: Int32, output: String, errors: String) {
        try input.fileHandleForWriting.close()
        outputSoFar += output.fileHandleForReading.readDataToEndOfFile()
        errorsSoFar += errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputSoFar, as: UTF8.self),
            String(decoding: errorsSoFar, as: UTF8.self)
        )
    }

    /// Reads `pipe` until what came holds `text` (60 s at most).
    private func wait(for text: String, on pipe: Pipe, into received: inout [UInt8]) throws {
        let deadline = Date().addingTimeInterval(60)
        let fd = pipe.fileHandleForReading.fileDescriptor
        while !String(decoding: received, as: UTF8.self).contains(text) {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard Date() < deadline, poll(&ready, 1, 1000) >= 0 else {
                throw Failure("no \(text) in: \(String(decoding: received, as: UTF8.self))")
            }
            guard ready.revents != 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else {
                throw Failure("the command ended before \(text): \(String(decoding: received, as: UTF8.self))")
            }
            received += chunk[..<n]
        }
    }
}
