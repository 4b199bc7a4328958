import BindingRuntime
import CallTestBindings
import Foundation
import RPCServer
import RuntimeHost
import XCTest

/// A runtime set up from the fixture's generated manifest: the host reads the library, the
/// hosting and the host's settings from the manifest's settings and knows no runtime by name.
final class RuntimeSetupTests: XCTestCase {
    private let table = RuntimeTable(RuntimeDescriptions.ct, host: "calltest-host")
    private let executable = "/opt/daemon/bin/daemon"

    private func setup(_ arguments: [String], environment: [String: String] = [:]) throws -> RuntimeSetup {
        let (configuration, _) = try Configuration.load(
            arguments: arguments, environment: environment, runtimeSettings: table.manifest.settings)
        return try RuntimeSetup([table], configuration: configuration, executable: executable)
    }

    func testTheDescriptionIsTheManifestsNamespaceWithItsConstants() {
        let methods = RuntimeDescriptions.ct.methods
        XCTAssertFalse(methods.isEmpty)
        XCTAssertTrue(methods.allSatisfy { $0.method.hasPrefix("ct.") })
        XCTAssertTrue(methods.contains { $0.method == "ct.get_constants" && $0.symbol == nil && $0.answer != nil })
        XCTAssertEqual(
            RuntimeDescription(
                RuntimeManifests.ct, methods: [methods[0], MethodSpec("other.f", symbol: "f")], openRPC: ""
            )
            .methods.map(\.method),
            [methods[0].method])
        // The host's table: an entry per method with a C function.
        XCTAssertEqual(
            Set(HostedRuntimes.ct.entries.map(\.method)), Set(methods.filter { $0.symbol != nil }.map(\.method)))
    }

    func testTheHostExecutableIsBesideTheDaemon() throws {
        XCTAssertEqual(try setup([]).tables.map(\.host), ["/opt/daemon/bin/calltest-host"])
    }

    func testDefaultsComeFromTheManifest() throws {
        let runtime = try setup([])
        XCTAssertEqual(runtime.library, "libcalltest.so")
        XCTAssertNil(runtime.fallbackLibrary, "the fixture declares no simulated library")
        XCTAssertEqual(runtime.hosting, .perClient)
        XCTAssertEqual(runtime.hostSettings.parallelCalls, 2)
        XCTAssertNil(runtime.hostSettings.pluginDirectory, "the fixture names no plugins setting")
        XCTAssertEqual(runtime.hostSettings.paths, ["data": [FileManager.default.currentDirectoryPath + "/."]])
    }

    func testTheManifestsSettingsConfigureIt() throws {
        let runtime = try setup(
            ["--ct-library", "/lib/other.so", "--ct-threads=5"], environment: ["CT_DATA_DIRS": "/srv/a:relative"])
        XCTAssertEqual(runtime.library, "/lib/other.so")
        XCTAssertEqual(runtime.hostSettings.parallelCalls, 5)
        XCTAssertEqual(
            runtime.hostSettings.paths["data"], ["/srv/a", FileManager.default.currentDirectoryPath + "/relative"])
    }

    func testAValueOfTheWrongKindIsAUsageError() {
        XCTAssertThrowsError(try setup(["--ct-threads", "0"])) { error in
            XCTAssertTrue("\(error)".contains("--ct-threads"), "\(error)")
        }
        XCTAssertThrowsError(try setup([], environment: ["CT_THREADS": "many"]))
    }

    func testTheRuntimesSettingsAreInTheUsageText() {
        let usage = Configuration.usage(program: "daemon", runtimeSettings: table.manifest.settings)
        for setting in table.manifest.settings {
            XCTAssertTrue(usage.contains(setting.flag) && usage.contains("[\(setting.environment)]"), setting.name)
        }
        XCTAssertFalse(Configuration.usage(program: "daemon").contains("--ct-threads"))
    }
}
