import APIModel
import BindingPlan
import ClangImport
import CoverageReport
import Foundation
import XCTest

@testable import SwiftEmitter

final class PlanAndReportTests: XCTestCase {
    private func plan(_ directory: URL, annotations: Annotations? = nil) throws -> BindingPlan {
        let prelude = Paths.reportedSets.map(\.0).contains(directory) ? Paths.prelude : nil
        let model = try HeaderImporter(headersDirectory: directory, preludeDirectory: prelude).run()
        let a =
            try annotations
            ?? {
                let url = directory.appendingPathComponent("annotations.json")
                return FileManager.default.fileExists(atPath: url.path) ? try Annotations.load(url) : Annotations()
            }()
        return Planner(model: model, annotations: a).plan()
    }

    private func annotations(_ set: URL) throws -> Annotations {
        try Annotations.load(set.appendingPathComponent("annotations.json"))
    }

    /// Every function of the project's header sets, by name.
    private func projectFunctions() throws -> [String: FunctionPlan] {
        let plans = try Paths.headerSets.map { try plan($0) }
        return Dictionary(uniqueKeysWithValues: plans.flatMap(\.functions).map { ($0.function.name, $0) })
    }

    func testEveryFunctionOfTheProjectHeadersIsBound() throws {
        let reports = try Paths.headerSets.map { Report(plan: try plan($0)) }
        let unbound = reports.flatMap(\.functions).filter { !$0.bound }.map { "\($0.name): \($0.reason ?? "")" }
        XCTAssertEqual(unbound, [])
        XCTAssertEqual(reports.map(\.boundCount), [15, 35])
        XCTAssertEqual(reports[0].totals["rkllm.h"]?.bound, 15)
        XCTAssertEqual(reports[1].totals["rknn_api.h"]?.bound, 23)
        XCTAssertEqual(reports[1].totals["rknn_matmul_api.h"]?.bound, 10)
        XCTAssertEqual(reports[1].totals["rknn_custom_op.h"]?.bound, 2)
        XCTAssertEqual(reports.flatMap(\.warnings), [])
    }

    func testMethodNamesAndJSONParameters() throws {
        let functions = try projectFunctions()
        func f(_ name: String) throws -> FunctionPlan { try XCTUnwrap(functions[name]) }
        XCTAssertEqual(Planner.methodName("rknn_matmul_create"), "rknn.matmul_create")
        XCTAssertEqual(Planner.methodName("rkllm_run"), "rkllm.run")
        XCTAssertEqual(
            try f("rkllm_init").jsonParams.map(\.name), ["param"], "the out handle and the callback leave the params")
        XCTAssertEqual(
            try f("rkllm_run_async").jsonParams.map(\.name),
            ["handle", "rkllm_input", "rkllm_infer_params", "userdata"])
        XCTAssertEqual(
            try f("rknn_inputs_set").jsonParams.map(\.name), ["context", "inputs"], "the count is the array's length")
        XCTAssertEqual(try f("rkllm_init").creates, "LLMHandle")
        XCTAssertEqual(try f("rknn_destroy_mem").destroys, "rknn_tensor_mem")
        XCTAssertEqual(try f("rknn_create_mem").returns, .handle("rknn_tensor_mem"))
        XCTAssertTrue(try f("rkllm_run").blocking)
        XCTAssertEqual(try f("rkllm_is_running").returns, .value(.integer(name: "int", bytes: 4, signed: true)))
    }

    func testUncertainFunctionsAreUnboundWithTheAnnotationThatWouldBindThem() throws {
        var annotations = try annotations(Paths.rkllm)
        annotations.functions["rkllm_run"] = nil
        annotations.functions["rkllm_init"] = nil
        let p = try plan(Paths.rkllm, annotations: annotations)
        let run = try XCTUnwrap(p.functions.first { $0.function.name == "rkllm_run" })
        XCTAssertFalse(run.bound)
        XCTAssertTrue(run.reason?.contains("functions.rkllm_run.params.rkllm_input") == true, run.reason ?? "")
        let initFn = try XCTUnwrap(p.functions.first { $0.function.name == "rkllm_init" })
        XCTAssertFalse(initFn.bound)
        // Nothing is skipped in silence: every function is in the report, bound or with a reason.
        let report = Report(plan: p)
        XCTAssertEqual(report.functions.count, 15)
        XCTAssertTrue(report.functions.allSatisfy { $0.bound || !($0.reason ?? "").isEmpty })
    }

    func testAnOutputBufferSizedFromAnInputWhoseLengthTheFunctionIsNotToldIsUnbound() throws {
        var annotations = try annotations(Paths.rknn)
        annotations.functions["rknn_B_normal_layout_to_native_layout"]?.params?["B_input"]?.bytes = nil
        let p = try plan(Paths.rknn, annotations: annotations)
        let convert = try XCTUnwrap(p.functions.first { $0.function.name == "rknn_B_normal_layout_to_native_layout" })
        XCTAssertFalse(convert.bound, "it could write past the output buffer")
        XCTAssertEqual(
            convert.reason,
            "output buffer 'B_output' is as long as 'B_input', whose length rknn_B_normal_layout_to_native_layout "
                + "is not told: declare how many bytes it reads with \"bytes\" on 'B_input'")
        let bound = try XCTUnwrap(
            try plan(Paths.rknn).functions.first { $0.function.name == "rknn_B_normal_layout_to_native_layout" })
        XCTAssertEqual(bound.params.first { $0.name == "B_input" }?.minBytes?.product, ["K", "N"])
    }

    func testAnnotationsNamingWhatTheHeadersLackAreWarnings() throws {
        var a = try annotations(Paths.rkllm)
        a.functions["rkllm_from_the_future"] = FunctionAnnotation(blocking: true)
        a.handles["FutureHandle"] = HandleAnnotation(create: ["rkllm_from_the_future"], destroy: [])
        let p = try plan(Paths.rkllm, annotations: a)
        XCTAssertTrue(p.warnings.contains { $0.message.contains("rkllm_from_the_future") })
        XCTAssertTrue(p.warnings.contains { $0.message.contains("FutureHandle") })
        XCTAssertEqual(p.functions.filter(\.bound).count, 15)
        XCTAssertTrue(p.warnings.allSatisfy { $0.description.contains(": warning: ") })
    }

    func testACompositeFormThatDoesNotCheckOutIsLeftOutWithAWarning() throws {
        let composite = { (p: BindingPlan, name: String) in p.functions.first { $0.function.name == name }?.composite }
        XCTAssertEqual(try composite(plan(Paths.rknn), "rknn_run")?.steps.map(\.function).count, 4)
        for (change, expected) in [
            ({ (c: inout CompositeAnnotation) in c.steps[0].call = "rknn_nothing" }, "not a bound function"),
            ({ c in c.steps[0].params = .object(["context": .string("$3.context")]) }, "has not run yet"),
            ({ c in c.steps[0].params = .object(["context": .string("$nobody")]) }, "which no request gives"),
            ({ c in c.steps[0].params = .object(["ctx": .string("$context")]) }, "has no parameter 'ctx'"),
            ({ c in c.params["context"] = c.params["input_data"] }, "is a parameter of rknn_run already"),
            ({ c in c.params["input_data"]?.like = "rknn_input.nothing" }, "names no bound function's parameter"),
        ] as [((inout CompositeAnnotation) -> Void, String)] {
            var a = try annotations(Paths.rknn)
            change(&a.functions["rknn_run"]!.composite!)
            let p = try plan(Paths.rknn, annotations: a)
            XCTAssertNil(composite(p, "rknn_run"), expected)
            XCTAssertTrue(p.functions.first { $0.function.name == "rknn_run" }?.bound == true, "its plain form stays")
            XCTAssertTrue(
                p.warnings.contains { "\($0)".contains("composite form left out") && "\($0)".contains(expected) },
                "\(expected): \(p.warnings)")
        }
    }

    func testAStreamLimitIsCheckedAgainstTheHeaders() throws {
        let limit = { (p: BindingPlan) in p.functions.first { $0.function.name == "rkllm_run" }?.streamLimit }
        XCTAssertEqual(try limit(plan(Paths.rkllm))?.limit, ["creation:param.max_new_tokens"])
        var a = try annotations(Paths.rkllm)
        // 1.2.3's RKLLMInferParam has no max_new_tokens (1.3.0's has): that limit is dropped.
        a.functions["rkllm_run"]?.streamLimit?.limit = ["rkllm_infer_params.max_new_tokens", "creation:param.top_k"]
        var p = try plan(Paths.rkllm, annotations: a)
        XCTAssertEqual(limit(p)?.limit, ["creation:param.top_k"])
        XCTAssertTrue(p.warnings.contains { $0.message.contains("limit 'rkllm_infer_params.max_new_tokens'") })
        a.functions["rkllm_run"]?.streamLimit?.count = "perf.nothing"
        p = try plan(Paths.rkllm, annotations: a)
        XCTAssertNil(limit(p), "a count the message lacks")
        XCTAssertTrue(p.warnings.contains { $0.message.contains("count 'perf.nothing'") })
    }

    func testEachRuntimeIsPlannedWithTheFunctionsTheHostCallsNamedExplicitly() throws {
        let plans = try Paths.headerSets.map { try plan($0) }
        let runtimes = Dictionary(uniqueKeysWithValues: plans.flatMap(\.runtimes).map { ($0.namespace, $0) })
        XCTAssertEqual(runtimes.keys.sorted(), ["rkllm", "rknn"])
        let rkllm = try XCTUnwrap(runtimes["rkllm"])
        XCTAssertEqual(rkllm.hosting, .perInstance(of: "LLMHandle"))
        XCTAssertEqual(rkllm.paths, ["model": "model_dirs", "cache": "cache_dir"])
        XCTAssertEqual(rkllm.abortMethods, ["LLMHandle": "rkllm.abort"])
        XCTAssertEqual(rkllm.destroyMethods, ["rkllm.init": "rkllm.destroy"])
        XCTAssertEqual(
            rkllm.settings.keys.sorted(), ["cache_dir", "model_dirs", "npu_cores", "rkllm_abi", "rkllm_runtime"])
        XCTAssertEqual(rkllm.abiVersion, "1.2.3")
        XCTAssertEqual(rkllm.versionMarker, "rkllm-runtime version: ")
        XCTAssertEqual(rkllm.abiSetting, "rkllm_abi")
        let rknn = try XCTUnwrap(runtimes["rknn"])
        XCTAssertEqual(rknn.hosting, .perClient(oneProcessWhen: "rknn_shared_host"))
        XCTAssertEqual(rknn.plugins, "plugin_dir")
        // A MatMul context goes with rknn_matmul_destroy, a model's with rknn_destroy.
        XCTAssertEqual(rknn.destroyMethods["rknn.matmul_create"], "rknn.matmul_destroy")
        XCTAssertEqual(rknn.destroyMethods["rknn.init"], "rknn.destroy")
        XCTAssertEqual(rknn.destroyMethods["rknn.create_mem"], "rknn.destroy_mem")
        XCTAssertEqual(rknn.destroyMethods.count, 9)
    }

    func testRuntimeDeclarationsThatDoNotCheckOutAreWarnings() throws {
        var llm = try annotations(Paths.rkllm)
        llm.runtimes["rkllm"]?.parallelCalls = "no_such_setting"
        llm.settings["cache_dir"]?.kind = "colour"
        let p = try plan(Paths.rkllm, annotations: llm)
        let messages = p.warnings.map(\.message)
        XCTAssertTrue(messages.contains { $0.contains("no_such_setting") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("kind 'colour'") }, "\(messages)")
        XCTAssertNil(p.runtimes.first?.parallelCalls)

        var nn = try annotations(Paths.rknn)
        nn.handles["rknn_context"]?.destroyWith = nil
        nn.runtimes["rknn"]?.processPer = "nobody"
        let q = try plan(Paths.rknn, annotations: nn)
        let again = q.warnings.map(\.message)
        XCTAssertTrue(again.contains { $0.contains("process_per 'nobody'") }, "\(again)")
        XCTAssertTrue(
            again.contains { $0.contains("'rknn_matmul_create' creates in 'destroy_with'") }, "\(again)")
        XCTAssertNil(q.runtimes.first { $0.namespace == "rknn" }?.destroyMethods["rknn.matmul_create"])

        nn.runtimes["rknn"] = nil
        let none = try plan(Paths.rknn, annotations: nn).warnings.map(\.message)
        XCTAssertTrue(none.contains { $0.contains("'rknn' have no runtime") }, "\(none)")
    }

    func testHandlePoliciesReachTheCreatingFunctionsPlan() throws {
        let functions = try projectFunctions()
        let initPlan = try XCTUnwrap(functions["rkllm_init"])
        XCTAssertTrue(initPlan.sharesCreated)
        XCTAssertEqual(initPlan.instanceField, ["param", "extend_param", "base_domain_id"])
        XCTAssertEqual(functions["rkllm_abort"]?.aborts, "LLMHandle")
        XCTAssertEqual(functions["rknn_outputs_get"]?.releasedBy?.name, "rknn_outputs_release")
        XCTAssertEqual(functions["rknn_create_mem_from_phys"]?.privileged, true)
        XCTAssertFalse(try XCTUnwrap(functions["rknn_init"]).sharesCreated, "contexts belong to one client")
        XCTAssertEqual(functions["rknn_create_mem"]?.holdsBytes, ["size"], "counted against the memory quota")
        let effects = functions.mapValues(\.sharedState)
        XCTAssertEqual(effects["rkllm_run"], .changesWhen(["rkllm_infer_params", "keep_history"]))
        XCTAssertEqual(
            effects["rkllm_set_chat_template"], .changes, "what is not declared reading only changes the instance")
        XCTAssertEqual(effects["rkllm_is_running"], SharedStateEffect.none)
        XCTAssertEqual(effects["rkllm_abort"], SharedStateEffect.none)
        XCTAssertEqual(effects["rknn_run"], SharedStateEffect.none, "contexts are not shared")

        var a = try annotations(Paths.rkllm)
        a.handles["LLMHandle"]?.instanceField = "nowhere.base_domain_id"
        let warned = try plan(Paths.rkllm, annotations: a)
        XCTAssertTrue(
            warned.warnings.contains {
                $0.message.contains("instance_field 'nowhere.base_domain_id' names no parameter of 'rkllm_init'")
            })
        var nn = try annotations(Paths.rknn)
        nn.functions["rknn_create_mem2"]?.holds = ["length"]
        let holdsNothing = try XCTUnwrap(
            try plan(Paths.rknn, annotations: nn).functions.first { $0.function.name == "rknn_create_mem2" })
        XCTAssertFalse(holdsNothing.bound)
        XCTAssertEqual(holdsNothing.reason, "holds 'length', which is no integer parameter of rknn_create_mem2")
    }

    /// RKLLM 1.3.0's rkllm_init takes a struct of callbacks: each function pointer is supplied or
    /// left NULL with the reason, and every one must be said.
    func testAStructOfCallbacksBindsWhenEachCallbackIsSaid() throws {
        let bound = try XCTUnwrap(try plan(Paths.rkllm130).functions.first { $0.function.name == "rkllm_init" })
        XCTAssertTrue(bound.bound, bound.reason ?? "")
        guard case .callbacks(let record, let fields)? = bound.params.first(where: { $0.name == "callback" })?.role
        else { return XCTFail("callback is no struct of callbacks") }
        XCTAssertEqual(record, "RKLLMCallback")
        XCTAssertEqual(fields.map(\.field), ["result_callback", "tokenizer_callback", "embed_callback"])
        XCTAssertEqual(fields.map(\.typedef), ["LLMResultCallback", nil, nil])
        XCTAssertEqual(bound.notes.count, 2, "the callbacks left NULL are in the report")

        var a = try annotations(Paths.rkllm130)
        a.functions["rkllm_init"]?.params?["callback"]?.callbacks?["embed_callback"] = nil
        let unsaid = try XCTUnwrap(
            try plan(Paths.rkllm130, annotations: a).functions.first { $0.function.name == "rkllm_init" })
        XCTAssertFalse(unsaid.bound)
        XCTAssertTrue(
            unsaid.reason?.contains("callback 'embed_callback' of RKLLMCallback") == true, unsaid.reason ?? "")
        a.functions["rkllm_init"]?.params?["callback"]?.callbacks?["embed_callback"] = CallbackFieldAnnotation()
        let unsupplied = try XCTUnwrap(
            try plan(Paths.rkllm130, annotations: a).functions.first { $0.function.name == "rkllm_init" })
        XCTAssertTrue(unsupplied.reason?.contains("declare its typedef in callbacks") == true, unsupplied.reason ?? "")
    }

    func testDiffReportsEveryChangeAndBreaks() throws {
        let old = Report(plan: try plan(Paths.fixture("diff-v1")))
        let new = Report(plan: try plan(Paths.fixture("diff-v2")))
        let diff = ReportDiff(old: old, new: new)
        let kinds = diff.changes.map(\.kind)
        XCTAssertTrue(kinds.contains("function added"), "\(kinds)")
        XCTAssertTrue(kinds.contains("field added"))
        XCTAssertTrue(kinds.contains("field moved"))
        XCTAssertTrue(kinds.contains("struct size changed"))
        XCTAssertTrue(kinds.contains("callback type changed"))
        XCTAssertTrue(kinds.contains("enum value added"))
        XCTAssertTrue(diff.isBreaking)
        XCTAssertTrue(diff.markdown.contains("`int api_pause(int32_t id)`"))
        XCTAssertTrue(diff.markdown.contains("`api_item.scale`: offset 4 -> 8"))
        XCTAssertFalse(ReportDiff(old: old, new: old).isBreaking)
        XCTAssertEqual(ReportDiff(old: old, new: old).changes, [])
    }

    func testCommittedCoverageReportsAndUpgradeDiffAreCurrent() throws {
        var reports: [String: Report] = [:]
        for (set, name) in Paths.reportedSets {
            let report = Report(plan: try plan(set))
            reports[name] = report
            let file = "docs/coverage/\(name).md"
            let committed = try String(contentsOf: Paths.root.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(
                committed, report.markdown, "\(file) is stale: run ./scripts/coverage.sh and commit the result")
        }
        let diff = ReportDiff(old: try XCTUnwrap(reports["rkllm-1.2.3"]), new: try XCTUnwrap(reports["rkllm-1.3.0"]))
        let file = "docs/upgrades/rkllm-1.2.3-to-1.3.0.md"
        let committed = try String(contentsOf: Paths.root.appendingPathComponent(file), encoding: .utf8)
        XCTAssertEqual(committed, diff.markdown, "\(file) is stale: run ./scripts/coverage.sh and commit the result")
    }
}

/// Annotations of a header version build on those its versions share (`include`).
final class AnnotationIncludeTests: XCTestCase {
    private func write(_ text: String, _ name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testAVersionsFileHoldsOnlyItsDifferencesMemberByMember() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("includes-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try write(
            #"{"settings": {"dirs": {"environment": "A", "flag": "--a", "kind": "directories", "help": "a"}}}"#,
            "settings.json", in: directory)
        _ = try write(
            #"""
            {"include": ["../settings.json"], "functions": {"x_*": {"status": "none"}, "x_run": {"blocking": true}},
             "handles": {"x_handle": {"create": ["x_open"], "destroy": ["x_close"], "shared": true}}}
            """#,
            "x/annotations.json", in: directory)
        let version = try write(
            #"""
            {"include": ["../annotations.json"], "functions": {"x_run": {"blocking": false, "meaning": "new"}},
             "handles": {"x_handle": {"destroy": ["x_free"]}}}
            """#,
            "x/2.0/annotations.json", in: directory)
        let merged = try Annotations.load(version)
        XCTAssertEqual(merged.functions["x_run"]?.blocking, false, "the version's value wins")
        XCTAssertEqual(merged.functions["x_run"]?.meaning, "new")
        XCTAssertEqual(merged.functions["x_*"]?.status, "none", "what the version does not name is shared")
        let handle = try XCTUnwrap(merged.handles["x_handle"])
        XCTAssertEqual(handle.create, ["x_open"], "an entry's members the version does not name are shared")
        XCTAssertEqual(handle.destroy, ["x_free"], "a list is replaced whole")
        XCTAssertEqual(handle.shared, true)
        XCTAssertEqual(merged.settings.keys.sorted(), ["dirs"], "through the shared file's include")

        let loop = try write(#"{"include": ["loop.json"]}"#, "loop.json", in: directory)
        XCTAssertThrowsError(try Annotations.load(loop)) { XCTAssertTrue("\($0)".contains("includes itself"), "\($0)") }
        let wrong = try write(
            #"{"include": ["settings.json"], "handles": {"h": {"create": 1}}}"#, "wrong.json", in: directory)
        XCTAssertThrowsError(try Annotations.load(wrong)) {
            XCTAssertTrue("\($0)".contains("wrong.json") && "\($0)".contains("handles.h.create"), "\($0)")
        }
    }
}

/// The coverage report and the OpenRPC document come from one plan: they name the same parameters.
final class ReportMatchesDocumentTests: XCTestCase {
    func testEveryMethodsParametersAreNamedAlikeInTheReportAndTheDocument() throws {
        for directory in Paths.reportedSets.map(\.0) {
            let model = try HeaderImporter(headersDirectory: directory, preludeDirectory: Paths.prelude).run()
            let plan = Planner(
                model: model, annotations: try Annotations.load(directory.appendingPathComponent("annotations.json"))
            ).plan()
            let text = try OpenRPCDocument(
                plan: plan, dispatch: DispatchCode(plan: plan, names: SwiftNames(cModule: "C")), constantNamespaces: []
            ).json()
            let document = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            var documented: [String: [String]] = [:]
            for method in document["methods"] as? [[String: Any]] ?? [] {
                let params = (method["params"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                documented[method["name"] as? String ?? ""] = params
            }
            for function in Report(plan: plan).functions where function.bound {
                XCTAssertEqual(
                    documented[function.method ?? ""], (function.params ?? []) + (function.composite?.params ?? []),
                    "\(directory.lastPathComponent): \(function.name)")
            }
        }
    }
}
