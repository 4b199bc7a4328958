import CallTestBindings
import Foundation
import XCTest

/// The generated dispatch entries of `Tests/Fixtures/calltest/calltest.h`, called in-process
/// through `libcalltest.so` (loaded with dlopen, as a host loads a vendor runtime).
final class DispatchTests: XCTestCase {
    private var library: RuntimeLibrary!
    private var host: TestHost!

    override func setUpWithError() throws {
        // Dynamic library products land beside the test bundle.
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map {
            $0.appending(path: "libcalltest.so").path
        }
        let path = try XCTUnwrap(
            candidates.first { FileManager.default.fileExists(atPath: $0) }, "libcalltest.so not built")
        library = try RuntimeLibrary(path: path, entries: DispatchTable.entries)
        host = TestHost()
    }

    override func tearDown() {
        XCTAssertEqual(host.handles.count, 0, "handles left open")
        library = nil
        host = nil
    }

    private func call(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        let entry = try XCTUnwrap(DispatchTable.byMethod[method], method)
        return try library.call(entry, params: params, host: host)
    }

    private func callError(_ method: String, _ params: JSONValue? = nil) throws -> RPCError {
        do {
            let result = try call(method, params)
            XCTFail("\(method) answered \(result) instead of an error")
            return RPCError(code: 0, message: "")
        } catch let error as RPCError {
            return error
        }
    }

    /// A `ct_point` as the mirror writes it (keys in C field order).
    private func point(_ x: Int64, _ y: Int64) -> JSONValue { .object(["x": .int(x), "y": .int(y)]) }

    private func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    func testLayoutsIncludingUnnamedStructsInAnAnonymousUnionMatchSwift() throws {
        XCTAssertEqual(Layout.checks.count, 9)
        XCTAssertEqual(Layout.checks.flatMap(\.mismatches), [])
        let shape = try XCTUnwrap(Layout.checks.first { $0.type == "ct_shape" })
        XCTAssertEqual(shape.fields.map(\.name), ["kind", "point", "circle", "rect"])
        XCTAssertEqual(shape.fields.map(\.actual), [0, 4, 4, 4])
    }

    // MARK: handles, default-makers, out structs

    func testOpenWithoutConfigUsesTheDefaultMakerAndGetConfigReadsItBack() throws {
        let handle = try XCTUnwrap(try call("ct.open")["handle"])
        let config = try XCTUnwrap(try call("ct.get_config", .array([handle]))["config"])
        XCTAssertEqual(config["name"], .string("default"))
        XCTAssertEqual(config["level"], .int(3))
        XCTAssertEqual(config["gain"], .double(1.5))
        XCTAssertEqual(config["tags"], .array([.int(1), .int(2), .int(3), .int(4)]))
        XCTAssertEqual(config["label"], .string("dflt"))
        XCTAssertEqual(config["origin"], .object(["x": .int(10), "y": .int(20)]))
        XCTAssertEqual(config["weights"], .array([]))
        XCTAssertEqual(try call("ct.close", .object(["handle": handle])), .object([:]))
    }

    func testOmittedFieldsTakeTheDefaultMakersValuesInBothParamForms() throws {
        let config = try json(
            #"{"name": "probe", "level": 7, "weights": [5, -6, 7], "label": "lbl", "origin": {"y": 1}}"#)
        for params in [JSONValue.object(["config": config]), .array([config])] {
            let handle = try XCTUnwrap(try call("ct.open", params)["handle"])
            let read = try XCTUnwrap(try call("ct.get_config", .object(["handle": handle]))["config"])
            XCTAssertEqual(read["name"], .string("probe"))
            XCTAssertEqual(read["level"], .int(7))
            XCTAssertEqual(read["gain"], .double(1.5), "from ct_default_config")
            XCTAssertEqual(read["weights"], .array([.int(5), .int(-6), .int(7)]))
            XCTAssertEqual(read["n_weights"], .int(3), "count field set from the array")
            XCTAssertEqual(read["label"], .string("lbl"))
            XCTAssertEqual(
                read["origin"], .object(["x": .int(10), "y": .int(1)]), "nested struct merged into the default")
            _ = try call("ct.close", .array([handle]))
        }
    }

    func testUnknownAndClosedHandlesAreErrorsNotCrashes() throws {
        XCTAssertEqual(try callError("ct.get_config", .array([.int(999)])).code, RPCError.Code.unknownHandle)
        let handle = try XCTUnwrap(try call("ct.open")["handle"])
        _ = try call("ct.close", .array([handle]))
        XCTAssertEqual(try callError("ct.close", .array([handle])).code, RPCError.Code.unknownHandle)
        XCTAssertEqual(try callError("ct.points", .object(["handle": .string("x")])).code, RPCError.Code.unknownHandle)
    }

    func testRuntimeStatusBecomesAnErrorWithTheCode() throws {
        let error = try callError("ct.open", .object(["config": .object(["level": .int(-1)])]))
        XCTAssertEqual(error.code, RPCError.Code.runtimeError)
        XCTAssertEqual(error.data?["code"], .int(-2))
        XCTAssertEqual(error.data?["function"], .string("ct_open"))
        XCTAssertEqual(try callError("ct.fail", .array([.int(-5)])).data?["code"], .int(-5))
        XCTAssertEqual(try call("ct.fail", .array([.int(3)])), .object([:]), "negative_is_error: 3 is success")
    }

    // MARK: buffers, arrays, out values

    func testBufferWithLengthAndOutScalar() throws {
        let bytes: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let expected = bytes.enumerated().reduce(UInt32(0)) { $0 &+ UInt32($1.element) &* UInt32($1.offset + 1) }
        let result = try call("ct.checksum", .object(["data": .string(Data(bytes).base64EncodedString())]))
        XCTAssertEqual(result, .object(["sum": .int(Int64(expected))]))
        XCTAssertEqual(try call("ct.checksum", .array([])), .object(["sum": .int(0)]), "omitted buffer: empty")
        let bad = try callError("ct.checksum", .object(["data": .string("not base64!")]))
        XCTAssertEqual(bad.code, RPCError.Code.invalidParams)
        XCTAssertTrue(bad.message.contains("data"), bad.message)
    }

    func testResultsTheLibraryAllocatesAreReleasedOnceCopiedIntoJSON() throws {
        let before = try call("ct.results_outstanding")["return"]
        let got = try call("ct.results_get", [[["index": 0], ["index": 2]]])
        guard case .array(let results)? = got["results"] else { return XCTFail("\(got)") }
        XCTAssertEqual(
            results.map { $0["data"] },
            [.string(Data([0]).base64EncodedString()), .string(Data([2, 2, 2]).base64EncodedString())])
        XCTAssertEqual(results.map { $0["size"] }, [1, 3])
        XCTAssertEqual(try call("ct.results_outstanding")["return"], before, "release_with freed both at once")
    }

    func testOutBufferAsLongAsItsInput() throws {
        let input = Data("hello, buffer".utf8)
        let result = try call("ct.reverse", .array([.string(input.base64EncodedString())]))
        XCTAssertEqual(result["output"], .string(Data(input.reversed()).base64EncodedString()))
    }

    func testInArrayWithCountAndAPlainReturnValue() throws {
        XCTAssertEqual(
            try call("ct.sum", .object(["values": .array([.int(1), .int(2), .int(3), .int(-10)])])),
            .object(["return": .int(-4)]))
        XCTAssertEqual(
            try call("ct.sum", .array([.array([.int(Int64(Int32.max)), .int(Int64(Int32.max))])])),
            .object(["return": .int(2 * Int64(Int32.max))]))
        let outOfRange = try callError("ct.sum", .array([.array([.int(1), .int(1 << 40)])]))
        XCTAssertEqual(outOfRange.code, RPCError.Code.invalidParams)
        XCTAssertTrue(outOfRange.message.contains("values[1]"), outOfRange.message)
    }

    func testOutArrayWhoseCountIsGivenInJSON() throws {
        let handle = try XCTUnwrap(try call("ct.open")["handle"])
        defer { _ = try? call("ct.close", .array([handle])) }
        let result = try call("ct.points", .object(["handle": handle, "n_points": .int(3)]))
        XCTAssertEqual(result["points"], .array([point(10, 20), point(11, 21), point(12, 24)]))
    }

    func testInoutArrayIsReturnedChanged() throws {
        let points = try json(#"[{"x": 1, "y": 2}, {"x": -3}]"#)
        let result = try call("ct.scale", .array([points, .int(10)]))
        XCTAssertEqual(result["points"], .array([point(10, 20), point(-30, 0)]))
    }

    // MARK: tagged unions, enums, bool and string results

    func testTaggedAnonymousUnionByEnumNameOrNumber() throws {
        XCTAssertEqual(
            try call("ct.area", .array([try json(#"{"kind": "CT_SHAPE_RECT", "rect": {"width": 3, "height": 4}}"#)])),
            .object(["area": .double(12)]))
        XCTAssertEqual(
            try call("ct.area", .array([try json(#"{"kind": 1, "circle": {"radius": 2}}"#)])),
            .object(["area": .double(12)]))
        XCTAssertEqual(
            try call("ct.classify", .array([try json(#"{"kind": "CT_SHAPE_RECT"}"#)])),
            .object(["return": .string("CT_SHAPE_RECT")]))
        let badEnum = try callError("ct.area", .array([try json(#"{"kind": "CT_SHAPE_OVAL"}"#)]))
        XCTAssertEqual(badEnum.code, RPCError.Code.invalidParams)
        XCTAssertTrue(badEnum.message.contains("shape.kind"), badEnum.message)
    }

    func testBoolAndConstCharResults() throws {
        XCTAssertEqual(try call("ct.is_even", .array([.int(10)])), .object(["return": .bool(true)]))
        XCTAssertEqual(try call("ct.is_even", .object(["value": .int(-7)])), .object(["return": .bool(false)]))
        XCTAssertEqual(try call("ct.version"), .object(["return": .string("calltest 1.0")]))
    }

    func testDescriptorFieldsOfAResultAreExportedThroughTheHost() throws {
        let result = try call("ct.open_buffer", .array([.int(1000)]))
        XCTAssertEqual(
            result["buffer"], .object(["fd": .int(0), "size": .int(1000)]), "the JSON names the exported descriptor")
        let fd = try XCTUnwrap(host.exported.first)
        var bytes = [UInt8](repeating: 0, count: 1000)
        XCTAssertEqual(pread(fd, &bytes, 1000, 0), 1000)
        XCTAssertEqual(bytes, (0..<1000).map { UInt8($0 % 251) })
        close(fd)
    }

    // MARK: callbacks

    func testCallbackDeliversEachEventToTheSinkTheHostSupplies() throws {
        let handle = try XCTUnwrap(try call("ct.open")["handle"])
        defer { _ = try? call("ct.close", .array([handle])) }
        XCTAssertEqual(DispatchTable.byMethod["ct.emit"]?.streams, "ct_event_callback")
        XCTAssertEqual(DispatchTable.byMethod["ct.emit"]?.blocking, true)
        XCTAssertEqual(
            try call("ct.emit", .object(["handle": handle, "count": .int(3), "userdata": .string("tag")])), .object([:])
        )
        XCTAssertEqual(host.streamValues, [.string("tag")])
        XCTAssertEqual(
            host.events.map { $0["event"]?["text"] }, [.string("event 0"), .string("event 1"), .string("event 2")])
        XCTAssertEqual(
            host.events.map { $0["event"]?["kind"] },
            [.string("CT_SHAPE_POINT"), .string("CT_SHAPE_CIRCLE"), .string("CT_SHAPE_POINT")])
    }

    /// A struct of callbacks: the supplied one is the host's trampoline, the one the annotations
    /// leave out is NULL (the fixture says so in its result), and the call's own userdata wins.
    func testAStructOfCallbacksGetsTheSuppliedOnesAndNullForTheRest() throws {
        XCTAssertEqual(DispatchTable.byMethod["ct.emit_via"]?.params.map(\.name), ["count", "userdata"])
        XCTAssertEqual(try call("ct.emit_via", .object(["count": .int(2), "userdata": .string("via")])), ["return": 2])
        XCTAssertEqual(host.streamValues, [.string("via")])
        XCTAssertEqual(host.events.map { $0["event"]?["text"] }, [.string("via"), .string("via")])
    }

    func testTheSinksReturnValueReachesTheLibrary() throws {
        let handle = try XCTUnwrap(try call("ct.open")["handle"])
        defer { _ = try? call("ct.close", .array([handle])) }
        host.stopAfter = 2
        _ = try call("ct.emit", .array([handle, .int(10)]))
        XCTAssertEqual(host.events.count, 2, "a non-zero return stops the stream")
    }

    // MARK: params, missing symbols, symbol-less entries

    func testParameterErrorsNameTheParameter() throws {
        let missing = try callError("ct.fail", .object([:]))
        XCTAssertEqual(missing.code, RPCError.Code.invalidParams)
        XCTAssertTrue(missing.message.contains("code"), missing.message)
        let wrongType = try callError("ct.fail", .array([.string("x")]))
        XCTAssertTrue(wrongType.message.contains("code"), wrongType.message)
        let unknown = try callError("ct.fail", .object(["code": .int(1), "extra": .int(2)]))
        XCTAssertTrue(unknown.message.contains("extra"), unknown.message)
        XCTAssertEqual(try callError("ct.fail", .array([.int(1), .int(2)])).code, RPCError.Code.invalidParams)
        XCTAssertEqual(try callError("ct.fail", .string("x")).code, RPCError.Code.invalidParams)
        let badField = try callError("ct.open", .object(["config": .object(["levle": .int(1)])]))
        XCTAssertTrue(badField.message.contains("levle"), badField.message)
    }

    func testAMissingSymbolDisablesOnlyItsEntry() throws {
        XCTAssertEqual(library.missing, ["ct_missing"])
        let error = try callError("ct.missing", .array([.int(1)]))
        XCTAssertEqual(error.code, RPCError.Code.functionNotPresent)
        XCTAssertEqual(error.data?["symbol"], .string("ct_missing"))
        XCTAssertEqual(try call("ct.is_even", .array([.int(2)])), .object(["return": .bool(true)]))
    }

    func testConstantsNeedNoRuntime() throws {
        let entry = try XCTUnwrap(Constants.specs.first)
        XCTAssertNil(entry.symbol)
        let constants = try XCTUnwrap(entry.answer)
        XCTAssertThrowsError(try entry.checkShape(of: [1]), "get_constants takes no parameters")
        XCTAssertEqual(constants["CT_VERSION_MAJOR"], .int(1))
        XCTAssertEqual(constants["CT_NAME"], .string("calltest"))
        XCTAssertEqual(constants["CT_FLAG_LOUD"], .int(4))
        XCTAssertEqual(constants["CT_ERROR_BAD_INPUT"], .int(-2))
        XCTAssertEqual(constants["CT_SHAPE_RECT"], .int(5))
        XCTAssertEqual(entry.method, "ct.get_constants")
    }

    func testEveryEntryIsDescribedInTheOpenRPCDocument() throws {
        guard case .array(let methods)? = try json(OpenRPC.document)["methods"] else { return XCTFail("no methods") }
        let names = Set(
            methods.compactMap { method -> String? in
                if case .string(let name)? = method["name"] { return name } else { return nil }
            })
        XCTAssertEqual(names, Set(RuntimeDescriptions.ct.methods.map(\.method)))
        for entry in DispatchTable.entries {
            XCTAssertTrue(names.contains(entry.method), entry.method)
        }
        // A handle may be null or left out (the caller's one): the document does not require it.
        let close = try XCTUnwrap(methods.first { $0["name"] == "ct.close" })
        XCTAssertEqual(close["params"]?[0]?["name"], "handle")
        XCTAssertEqual(close["params"]?[0]?["required"], false)
        let fail = try XCTUnwrap(methods.first { $0["name"] == "ct.fail" })
        XCTAssertEqual(fail["params"]?[0]?["required"], true, "a value is required")
    }
}

/// A host with an in-memory handle table and one recording callback sink.
private final class TestHost: CallHost {
    var handles: [Int64: (raw: UInt64, type: String)] = [:]
    private var nextHandle: Int64 = 1
    private(set) var streamValues: [JSONValue] = []
    private let recorder = Recorder()
    private lazy var sink = CallbackSink { [recorder] message, _ in recorder.record(message) }

    var events: [JSONObject] { recorder.events }
    var stopAfter: Int {
        get { recorder.stopAfter }
        set { recorder.stopAfter = newValue }
    }

    func resolveHandle(_ id: JSONValue, type: String, path: String) throws -> UInt64 {
        guard case .int(let key) = id, let entry = handles[key], entry.type == type else {
            throw RPCError(code: RPCError.Code.unknownHandle, message: "unknown \(type) handle in '\(path)'")
        }
        return entry.raw
    }

    func registerHandle(_ raw: UInt64, type: String) -> JSONValue {
        defer { nextHandle += 1 }
        handles[nextHandle] = (raw, type)
        return .int(nextHandle)
    }

    func releaseHandle(_ id: JSONValue, type: String) {
        if case .int(let key) = id { handles[key] = nil }
    }

    func callbackContext(for callback: String, value: JSONValue) throws -> UnsafeMutableRawPointer? {
        streamValues.append(value)
        return sink.userdata
    }

    func fileDescriptor(_ value: JSONValue, path: String) throws -> Int32 {
        throw RPCError.invalidParams(path, "no file descriptors in this test")
    }

    /// What a result's descriptor fields were exported as: the index into this list.
    private(set) var exported: [Int32] = []
    func exportFileDescriptor(_ fd: Int32) throws -> JSONValue {
        exported.append(fd)
        return .int(Int64(exported.count - 1))
    }

    func confinePath(_ value: String, kind: String, path: String) throws -> String {
        throw RPCError(code: RPCError.Code.notPermitted, message: "\(path): no \(kind) paths in this test")
    }

    func plugin(library: String, symbol: String) throws -> UnsafeRawPointer {
        throw RPCError(code: RPCError.Code.notPermitted, message: "no plugins in this test: \(library)")
    }
}

/// What the sink received; the fixture calls back on the caller's thread, the lock keeps it honest.
private final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [JSONObject] = []
    private var limit = Int.max

    var events: [JSONObject] { lock.withLock { received } }
    var stopAfter: Int {
        get { lock.withLock { limit } }
        set { lock.withLock { limit = newValue } }
    }

    func record(_ arguments: JSONObject) -> Int64 {
        lock.withLock {
            received.append(arguments)
            return received.count >= limit ? 1 : 0
        }
    }
}
