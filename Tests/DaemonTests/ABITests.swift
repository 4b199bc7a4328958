import BindingRuntime
import Foundation
import XCTest

/// A runtime library is called only with the table of its own ABI: its version is read from its file
/// (the simulated RKLLM runtimes carry it as the vendor's does) and picks the table, a setting says
/// it for a file that does not, and a library of a version no table has, or of another version than
/// the setting forces, is refused at load with both versions named, never called.
final class ABITests: XCTestCase {
    /// A copy of the simulated 1.2.3 runtime whose file holds `banner` where its version is.
    private func runtime(saying banner: String) throws -> String {
        let original = try Data(contentsOf: URL(fileURLWithPath: Built.path("librkllmrt_sim.so")))
        let marker = Data("rkllm-runtime version: 1.2.3".utf8)
        let range = try XCTUnwrap(original.range(of: marker), "the simulated runtime carries its version")
        var patched = original
        patched.replaceSubrange(range, with: Data(banner.utf8))
        let path = NSTemporaryDirectory() + "librkllmrt-\(banner.filter(\.isNumber))-\(getpid()).so"
        try patched.write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func rkllmInfo(_ client: Client) throws -> JSONValue {
        guard case .array(let runtimes)? = try client.call("server.info")["runtimes"] else {
            throw Failure("no runtimes")
        }
        return try XCTUnwrap(runtimes.first { $0["namespace"] == "rkllm" })
    }

    func testEachLibraryIsServedWithTheTableOfItsVersion() throws {
        for (library, version) in [("librkllmrt_sim.so", "1.2.3"), ("librkllmrt_sim-1.3.so", "1.3.0")] {
            let daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.path(library)])
            defer { daemon.assertStopsCleanly() }
            let client = try Client(daemon.socket)
            let info = try rkllmInfo(client)
            XCTAssertEqual(info["abi"], .string(version), library)
            XCTAssertEqual(info["library_version"], .string(version), library)
            XCTAssertEqual(info["available"], true, library)
            XCTAssertEqual(info["abis"], ["1.3.0", "1.2.3"])
            // rpc.discover describes the loaded ABI's methods: rkllm.run's infer params have
            // max_new_tokens from 1.3.0 on.
            let discover = try client.call("rpc.discover")
            guard case .object(let schemas)? = discover["components"]?["schemas"] else { return XCTFail("no schemas") }
            let infer = schemas["RKLLMInferParam"]?["properties"]
            XCTAssertEqual(
                infer?["max_new_tokens"] != nil, version == "1.3.0", "\(library): \(String(describing: infer))")
            let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
            XCTAssertEqual(try client.call("rkllm.destroy", [handle]), .object([:]))
        }
    }

    func testALibraryOfAVersionNoTableHasIsRefusedWithBothVersionsNamed() throws {
        let daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": try runtime(saying: "rkllm-runtime version: 1.4.0")])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let info = try rkllmInfo(client)
        XCTAssertEqual(info["available"], false)
        guard case .string(let reason)? = info["reason"] else { return XCTFail("no reason: \(info)") }
        XCTAssertTrue(reason.contains("1.4.0") && reason.contains("1.3.0, 1.2.3"), reason)
        let refused = try client.request("rkllm.init", [["model_path": "demo.rkllm"]])
        XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.runtimeNotAvailable)))
        XCTAssertEqual(try client.call("rknn.get_constants")["RKNN_SUCC"], 0, "the other runtime is unaffected")
    }

    func testForcingThe13TableOnA12LibraryIsAClearErrorNotACrash() throws {
        let daemon = try Daemon(
            arguments: ["--rkllm-abi", "1.3"], environment: ["RKLLM_RUNTIME_LIB": Built.path("librkllmrt_sim.so")])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let info = try rkllmInfo(client)
        XCTAssertEqual(info["available"], false)
        guard case .string(let reason)? = info["reason"] else { return XCTFail("no reason: \(info)") }
        XCTAssertTrue(reason.contains("1.2.3") && reason.contains("--rkllm-abi") && reason.contains("1.3"), reason)
        let refused = try client.request("rkllm.init", [["model_path": "demo.rkllm"]])
        XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.runtimeNotAvailable)))
        XCTAssertEqual(
            try runtimeHostPIDs(with: ["rkllm", String(daemon.process.processIdentifier)]), [],
            "no runtime host of this daemon's was left running")
    }

    func testTheSettingSaysTheVersionOfALibraryWhoseFileDoesNot() throws {
        let silent = try runtime(saying: "rkllm-runtime ???????: 1.2.3")
        let daemon = try Daemon(arguments: ["--rkllm-abi", "1.2.3"], environment: ["RKLLM_RUNTIME_LIB": silent])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        XCTAssertEqual(try rkllmInfo(client)["abi"], "1.2.3")
        XCTAssertEqual(try rkllmInfo(client)["library_version"], "1.2.3")
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
        XCTAssertEqual(try client.call("rkllm.destroy", [handle]), .object([:]))

        // Without the setting: taken for the first table's version, and the log says so.
        let unsaid = try Daemon(environment: ["RKLLM_RUNTIME_LIB": silent])
        defer { unsaid.assertStopsCleanly() }
        XCTAssertEqual(try rkllmInfo(try Client(unsaid.socket))["abi"], "1.3.0")
        XCTAssertTrue(unsaid.log.contains("is not in its file: taken for 1.3.0"), unsaid.log)
    }
}
