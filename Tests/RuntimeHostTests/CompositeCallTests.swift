import BindingRuntime
import XCTest

@testable import RuntimeHost

/// A composite form's steps in the runtime host: templates filled from the request and earlier
/// results, skipped steps, the answering step, and what a failed composite undoes.
final class CompositeCallTests: XCTestCase {
    private let composite = Composite(
        params: ["extra", "count"], defaults: ["count": 2],
        steps: [
            Composite.Step("t.create", params: ["size": "$size"]),
            Composite.Step("t.configure", params: ["object": "$0.object", "extra": "$extra"], if: "extra"),
            Composite.Step(
                "t.read", params: ["object": "$0.object", "slots": ["$repeat": ["n": "$size"], "$times": "$count"]]),
        ], answer: 0)

    private func entries() -> [String: MethodEntry] {
        let specs = [
            MethodSpec("t.create", symbol: "t_create", params: [ParamSpec("size")], [.creates("object", in: "object")]),
            MethodSpec("t.configure", symbol: "t_configure", params: [ParamSpec("object", handle: "object")]),
            MethodSpec("t.read", symbol: "t_read", params: [ParamSpec("object", handle: "object")]),
            MethodSpec("t.destroy", symbol: "t_destroy", params: [ParamSpec("object", handle: "object")]),
        ]
        return Dictionary(uniqueKeysWithValues: specs.map { ($0.method, MethodEntry($0) { _ in .null }) })
    }

    /// Runs the composite over calls that answer as `answers` says and records what was called.
    private func run(_ request: JSONObject, failing: String? = nil) -> (Result<JSONValue, RPCError>, [String]) {
        var calls: [String] = []
        let call = CompositeCall(composite: composite, entries: entries(), destroyMethods: ["t.create": "t.destroy"]) {
            entry, params in
            calls.append("\(entry.method) \(params.jsonText)")
            if entry.method == failing {
                throw RPCError(code: RPCError.Code.runtimeError, message: "failed", data: ["code": -5])
            }
            return entry.method == "t.create" ? ["object": 7] : .object([:])
        }
        return (Result { try call.run(request) }.mapError(RPCError.from), calls)
    }

    func testStepsGetTheRequestTheEarlierResultsAndTheDefaults() throws {
        let (outcome, calls) = run(["size": 3, "extra": true])
        XCTAssertEqual(try outcome.get(), ["object": 7], "step 0 answers")
        XCTAssertEqual(
            calls,
            [
                #"t.create {"size":3}"#, #"t.configure {"object":7,"extra":true}"#,
                #"t.read {"object":7,"slots":[{"n":3},{"n":3}]}"#,
            ])
        XCTAssertTrue(composite.isSelected(by: ["extra": 1]))
        XCTAssertFalse(composite.isSelected(by: ["size": 1]), "only the form's own parameters select it")
        XCTAssertFalse(composite.isSelected(by: [1, 2]), "by name only")
    }

    func testAStepLeftOutAndAParameterNotGiven() {
        let (_, calls) = run(["count": 0])
        XCTAssertEqual(calls, [#"t.create {}"#, #"t.read {"object":7,"slots":[]}"#])
    }

    func testAFailedStepUndoesWhatWasCreatedAndIsNamed() {
        let (outcome, calls) = run(["size": 1, "extra": 1], failing: "t.configure")
        guard case .failure(let error) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(error.data?["step"], "t.configure")
        XCTAssertEqual(error.data?["code"], -5)
        XCTAssertEqual(calls.last, "t.destroy [7]", "what step 0 made is destroyed")
    }

    func testACountOutOfBoundsIsRefused() {
        let (outcome, _) = run(["count": .int(Int64(Composite.maxRepeat) + 1)])
        guard case .failure(let error) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(error.code, RPCError.Code.internalError)
    }
}
