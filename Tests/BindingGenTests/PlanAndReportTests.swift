import APIModel
import BindingPlan
import ClangImport
import CoverageReport
import Foundation
import XCTest

final class PlanAndReportTests: XCTestCase {
    private func plan(_ directory: URL, annotations: Annotations? = nil) throws -> BindingPlan {
        let model = try HeaderImporter(headersDirectory: directory).run()
        let a =
            try annotations
            ?? {
                let url = directory.appendingPathComponent("annotations.json")
                return FileManager.default.fileExists(atPath: url.path) ? try Annotations.load(url) : Annotations()
            }()
        return Planner(model: model, annotations: a).plan()
    }

    func testEveryFunctionOfTheProjectHeadersIsBound() throws {
        let report = Report(plan: try plan(Paths.headers))
        let unbound = report.functions.filter { !$0.bound }.map { "\($0.name): \($0.reason ?? "")" }
        XCTAssertEqual(unbound, [])
        XCTAssertEqual(report.boundCount, 50)
        XCTAssertEqual(report.totals["rkllm.h"]?.bound, 15)
        XCTAssertEqual(report.totals["rknn_api.h"]?.bound, 23)
        XCTAssertEqual(report.totals["rknn_matmul_api.h"]?.bound, 10)
        XCTAssertEqual(report.totals["rknn_custom_op.h"]?.bound, 2)
        XCTAssertEqual(report.warnings, [])
    }

    func testMethodNamesAndJSONParameters() throws {
        let p = try plan(Paths.headers)
        func f(_ name: String) throws -> FunctionPlan { try XCTUnwrap(p.functions.first { $0.function.name == name }) }
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
        var annotations = try Annotations.load(Paths.headers.appendingPathComponent("annotations.json"))
        annotations.functions["rkllm_run"] = nil
        annotations.functions["rkllm_init"] = nil
        let p = try plan(Paths.headers, annotations: annotations)
        let run = try XCTUnwrap(p.functions.first { $0.function.name == "rkllm_run" })
        XCTAssertFalse(run.bound)
        XCTAssertTrue(run.reason?.contains("functions.rkllm_run.params.rkllm_input") == true, run.reason ?? "")
        let initFn = try XCTUnwrap(p.functions.first { $0.function.name == "rkllm_init" })
        XCTAssertFalse(initFn.bound)
        // Nothing is skipped in silence: every function is in the report, bound or with a reason.
        let report = Report(plan: p)
        XCTAssertEqual(report.functions.count, 50)
        XCTAssertTrue(report.functions.allSatisfy { $0.bound || !($0.reason ?? "").isEmpty })
    }

    func testAnOutputBufferSizedFromAnInputWhoseLengthTheFunctionIsNotToldIsUnbound() throws {
        var annotations = try Annotations.load(Paths.headers.appendingPathComponent("annotations.json"))
        annotations.functions["rknn_B_normal_layout_to_native_layout"]?.params?["B_input"]?.bytes = nil
        let p = try plan(Paths.headers, annotations: annotations)
        let convert = try XCTUnwrap(p.functions.first { $0.function.name == "rknn_B_normal_layout_to_native_layout" })
        XCTAssertFalse(convert.bound, "it could write past the output buffer")
        XCTAssertEqual(
            convert.reason,
            "output buffer 'B_output' is as long as 'B_input', whose length rknn_B_normal_layout_to_native_layout "
                + "is not told: declare how many bytes it reads with \"bytes\" on 'B_input'")
        let bound = try XCTUnwrap(
            try plan(Paths.headers).functions.first { $0.function.name == "rknn_B_normal_layout_to_native_layout" })
        XCTAssertEqual(bound.params.first { $0.name == "B_input" }?.minBytes?.product, ["K", "N"])
    }

    func testAnnotationsNamingWhatTheHeadersLackAreWarnings() throws {
        var a = try Annotations.load(Paths.headers.appendingPathComponent("annotations.json"))
        a.functions["rkllm_from_the_future"] = FunctionAnnotation(blocking: true)
        a.handles["FutureHandle"] = HandleAnnotation(create: ["rkllm_from_the_future"], destroy: [])
        let p = try plan(Paths.headers, annotations: a)
        XCTAssertTrue(p.warnings.contains { $0.message.contains("rkllm_from_the_future") })
        XCTAssertTrue(p.warnings.contains { $0.message.contains("FutureHandle") })
        XCTAssertEqual(p.functions.filter(\.bound).count, 50)
        XCTAssertTrue(p.warnings.allSatisfy { $0.description.contains(": warning: ") })
    }

    func testEachRuntimeIsPlannedWithTheFunctionsTheHostCallsNamedExplicitly() throws {
        let runtimes = Dictionary(uniqueKeysWithValues: try plan(Paths.headers).runtimes.map { ($0.namespace, $0) })
        XCTAssertEqual(runtimes.keys.sorted(), ["rkllm", "rknn"])
        let rkllm = try XCTUnwrap(runtimes["rkllm"])
        XCTAssertEqual(rkllm.hosting, .perInstance(of: "LLMHandle"))
        XCTAssertEqual(rkllm.paths, ["model": "model_dirs", "cache": "cache_dir"])
        XCTAssertEqual(rkllm.abortMethods, ["LLMHandle": "rkllm.abort"])
        XCTAssertEqual(rkllm.destroyMethods, ["rkllm.init": "rkllm.destroy"])
        XCTAssertEqual(rkllm.settings.keys.sorted(), ["cache_dir", "model_dirs", "npu_cores", "rkllm_runtime"])
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
        var a = try Annotations.load(Paths.headers.appendingPathComponent("annotations.json"))
        a.handles["rknn_context"]?.destroyWith = nil
        a.runtimes["rkllm"]?.parallelCalls = "no_such_setting"
        a.runtimes["rknn"]?.processPer = "nobody"
        a.settings["cache_dir"]?.kind = "colour"
        let removed = a.runtimes.removeValue(forKey: "rknn")
        XCTAssertNotNil(removed)
        let p = try plan(Paths.headers, annotations: a)
        let messages = p.warnings.map(\.message)
        XCTAssertTrue(messages.contains { $0.contains("'rknn' have no runtime") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("no_such_setting") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("kind 'colour'") }, "\(messages)")
        XCTAssertNil(p.runtimes.first?.parallelCalls)

        a.runtimes["rknn"] = removed
        let q = try plan(Paths.headers, annotations: a)
        let again = q.warnings.map(\.message)
        XCTAssertTrue(again.contains { $0.contains("process_per 'nobody'") }, "\(again)")
        XCTAssertTrue(
            again.contains { $0.contains("'rknn_matmul_create' creates in 'destroy_with'") }, "\(again)")
        XCTAssertNil(q.runtimes.first { $0.namespace == "rknn" }?.destroyMethods["rknn.matmul_create"])
    }

    func testHandlePoliciesReachTheCreatingFunctionsPlan() throws {
        let p = try plan(Paths.headers)
        let initPlan = try XCTUnwrap(p.functions.first { $0.function.name == "rkllm_init" })
        XCTAssertTrue(initPlan.sharesCreated)
        XCTAssertEqual(initPlan.instanceField, ["param", "extend_param", "base_domain_id"])
        XCTAssertEqual(p.functions.first { $0.function.name == "rkllm_abort" }?.aborts, "LLMHandle")
        XCTAssertEqual(
            p.functions.first { $0.function.name == "rknn_outputs_get" }?.releasedBy?.name, "rknn_outputs_release")
        XCTAssertEqual(p.functions.first { $0.function.name == "rknn_create_mem_from_phys" }?.privileged, true)
        XCTAssertFalse(
            try XCTUnwrap(p.functions.first { $0.function.name == "rknn_init" }).sharesCreated,
            "contexts belong to one client")
        XCTAssertEqual(
            p.functions.first { $0.function.name == "rknn_create_mem" }?.holdsBytes, ["size"],
            "counted against the memory quota")
        let effects = Dictionary(uniqueKeysWithValues: p.functions.map { ($0.function.name, $0.sharedState) })
        XCTAssertEqual(effects["rkllm_run"], .changesWhen(["rkllm_infer_params", "keep_history"]))
        XCTAssertEqual(
            effects["rkllm_set_chat_template"], .changes, "what is not declared reading only changes the instance")
        XCTAssertEqual(effects["rkllm_is_running"], SharedStateEffect.none)
        XCTAssertEqual(effects["rkllm_abort"], SharedStateEffect.none)
        XCTAssertEqual(effects["rknn_run"], SharedStateEffect.none, "contexts are not shared")

        var a = try Annotations.load(Paths.headers.appendingPathComponent("annotations.json"))
        a.handles["LLMHandle"]?.instanceField = "nowhere.base_domain_id"
        let warned = try plan(Paths.headers, annotations: a)
        XCTAssertTrue(
            warned.warnings.contains {
                $0.message.contains("instance_field 'nowhere.base_domain_id' names no parameter of 'rkllm_init'")
            })
        a.functions["rknn_create_mem2"]?.holds = ["length"]
        let holdsNothing = try XCTUnwrap(
            try plan(Paths.headers, annotations: a).functions.first { $0.function.name == "rknn_create_mem2" })
        XCTAssertFalse(holdsNothing.bound)
        XCTAssertEqual(holdsNothing.reason, "holds 'length', which is no integer parameter of rknn_create_mem2")
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

    func testCommittedCoverageReportIsCurrent() throws {
        let report = Report(plan: try plan(Paths.headers))
        let committed = try String(contentsOf: Paths.root.appendingPathComponent("docs/COVERAGE.md"), encoding: .utf8)
        XCTAssertEqual(
            committed, report.markdown,
            "docs/COVERAGE.md is stale: run ./scripts/coverage.sh and commit the result")
    }
}
