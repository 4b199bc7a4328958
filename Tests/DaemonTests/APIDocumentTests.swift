import Foundation
import XCTest

/// docs/API.md is what `scripts/api-doc.py` makes of the daemon's rpc.discover (the newest RKLLM
/// ABI's table): a change to a method, its parameters or its answer without `scripts/api-doc.sh`
/// fails here.
final class APIDocumentTests: XCTestCase {
    func testTheAPIDocumentIsTheDaemonsOwnDescription() throws {
        let repository = URL(fileURLWithPath: Built.models).deletingLastPathComponent()
        let daemon = try Daemon(environment: [
            "RKLLM_RUNTIME_LIB": Built.path("librkllmrt_sim-1.3.so"),
            "RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so"),
        ])
        defer { daemon.assertStopsCleanly() }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [repository.appending(path: "scripts/api-doc.py").path, daemon.socket]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        let rendered = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        let committed = try String(contentsOf: repository.appending(path: "docs/API.md"), encoding: .utf8)
        XCTAssertTrue(rendered == committed, "docs/API.md is stale: run scripts/api-doc.sh")
    }
}
