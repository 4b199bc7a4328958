import APIModel
import Foundation

/// Composite forms (`CompositeAnnotation`): each checked against the bound functions before it
/// is planned; one that names what the headers or the binding lack is left out with a warning
/// (the method keeps its plain form).
extension Planner {
    func planComposites(_ functions: inout [FunctionPlan], records: [RecordPlan], warnings: inout [Diagnostic]) {
        for index in functions.indices {
            let f = functions[index]
            guard let a = annotations.function(f.function.name).composite, f.bound else { continue }
            do {
                functions[index].composite = try planComposite(a, of: f, functions: functions, records: records)
            } catch let problem as CompositeProblem {
                warnings.append(
                    Diagnostic(
                        .warning, "\(f.function.name): composite form left out: \(problem.reason)",
                        at: SourceLocation(file: annotationsFile, line: 1)))
            } catch {
                warnings.append(Diagnostic(.warning, "\(f.function.name): \(error)", at: f.function.location))
            }
        }
    }

    private struct CompositeProblem: Error {
        var reason: String
    }

    private func planComposite(
        _ a: CompositeAnnotation, of f: FunctionPlan, functions: [FunctionPlan], records: [RecordPlan]
    ) throws -> CompositePlan {
        let own = Set(f.jsonParams.flatMap { [$0.jsonName] + $0.aliases.map(\.name) })
        var params: [CompositePlan.Param] = []
        for (name, param) in a.params.sorted(by: { $0.key < $1.key }) {
            guard !own.contains(name) else {
                throw CompositeProblem(reason: "'\(name)' is a parameter of \(f.function.name) already")
            }
            params.append(
                CompositePlan.Param(
                    name: name, doc: param.doc, defaultValue: param.default,
                    like: try likeness(param.like, functions: functions, records: records)))
        }
        guard !params.isEmpty else { throw CompositeProblem(reason: "it has no parameters of its own") }
        let given = own.union(params.map(\.name))
        var steps: [CompositePlan.Step] = []
        for (number, step) in a.steps.enumerated() {
            guard let callee = functions.first(where: { $0.function.name == step.call }), callee.bound else {
                throw CompositeProblem(reason: "step \(number) calls '\(step.call)', which is not a bound function")
            }
            guard case .object(let members) = step.params else {
                throw CompositeProblem(reason: "step \(number): params must be an object (by name)")
            }
            let names = Set(callee.jsonParams.map(\.jsonName))
            for key in members.keys.sorted() where !names.contains(key) {
                throw CompositeProblem(reason: "step \(number): \(step.call) has no parameter '\(key)'")
            }
            for reference in step.params.references {
                let head = reference.prefix { $0 != "." }
                if let earlier = Int(head) {
                    guard earlier < number else {
                        throw CompositeProblem(reason: "step \(number) reads step \(earlier), which has not run yet")
                    }
                } else if !given.contains(String(head)) {
                    throw CompositeProblem(reason: "step \(number) reads '$\(reference)', which no request gives")
                }
            }
            if let condition = step.if, !given.contains(condition) {
                throw CompositeProblem(reason: "step \(number) runs if '\(condition)', which no request gives")
            }
            steps.append(
                CompositePlan.Step(
                    function: step.call, method: callee.method, params: step.params, condition: step.if))
        }
        let answer = a.answer ?? steps.count - 1
        guard steps.indices.contains(answer) else {
            throw CompositeProblem(reason: "answer \(answer) names no step")
        }
        return CompositePlan(params: params, steps: steps, answer: answer)
    }

    /// `function.param` (a JSON parameter of a bound function) or `record.field`.
    private func likeness(_ text: String, functions: [FunctionPlan], records: [RecordPlan]) throws
        -> CompositePlan.Likeness
    {
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw CompositeProblem(reason: "like '\(text)': not owner.member") }
        if let function = functions.first(where: { $0.function.name == parts[0] && $0.bound }),
            let param = function.jsonParams.first(where: { $0.jsonName == parts[1] })
        {
            return .param(param)
        }
        if let record = records.first(where: { $0.record.name == parts[0] }),
            let field = record.fields.first(where: { $0.field.name == parts[1] })
        {
            return .field(record: parts[0], field)
        }
        throw CompositeProblem(reason: "like '\(text)' names no bound function's parameter nor a struct field")
    }
}
