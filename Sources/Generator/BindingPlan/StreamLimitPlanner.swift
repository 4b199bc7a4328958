import APIModel

/// Stream limits (`StreamLimitAnnotation`): each member path is checked against the headers, the
/// count in the callback's message struct and each limit in the parameters it names; a limit path
/// these headers lack is dropped with a warning, a limit with none left is dropped whole.
extension Planner {
    func planStreamLimits(_ functions: inout [FunctionPlan], warnings: inout [Diagnostic]) {
        for index in functions.indices {
            let f = functions[index]
            guard var limit = annotations.function(f.function.name).streamLimit, f.bound else { continue }
            var problems: [String] = []
            let message = f.callbackContextTypedef.flatMap { annotations.callbacks[$0] }.flatMap { callback in
                callbackMessageRecord(callback)
            }
            if message.map({ !hasMember(limit.count, in: $0) }) ?? true {
                problems.append("count '\(limit.count)' is no member of the callback's message")
            }
            limit.limit = limit.limit.filter { path in
                let found = limitResolves(path, of: f)
                if !found { problems.append("limit '\(path)' names no member of these headers' parameters") }
                return found
            }
            if limit.limit.isEmpty { problems.append("no limit left") }
            for problem in problems {
                warnings.append(
                    Diagnostic(
                        .warning, "\(f.function.name): stream_limit: \(problem)",
                        at: SourceLocation(file: annotationsFile, line: 1)))
            }
            if message != nil, !limit.limit.isEmpty, hasMember(limit.count, in: message!) {
                functions[index].streamLimit = limit
            }
        }
    }

    /// The struct a callback's message is made of (its `message` parameter's pointee).
    private func callbackMessageRecord(_ callback: CallbackAnnotation) -> Record? {
        guard let name = callback.message,
            let typedef = model.typedefs.first(where: { annotations.callbacks[$0.name] == callback }),
            case .pointer(let to, _) = typedef.underlying.resolved, case .function(let f) = to.resolved,
            let index = (typedef.parameterNames ?? []).firstIndex(of: name), index < f.parameters.count,
            case .pointer(let pointee, _) = f.parameters[index].resolved, case .record(let record) = pointee.resolved
        else { return nil }
        return model.record(named: record)
    }

    /// `param.member...` of `f`'s parameters, or after `creation:` of its handle's creating call's.
    private func limitResolves(_ path: String, of f: FunctionPlan) -> Bool {
        var functions = [f.function]
        var members = path
        if path.hasPrefix("creation:") {
            members = String(path.dropFirst("creation:".count))
            let handles = f.params.compactMap { p -> String? in
                if case .handle(let type) = p.role { return type }
                return nil
            }
            functions = handles.flatMap { annotations.handles[$0]?.create ?? [] }.compactMap {
                model.function(named: $0)
            }
        }
        let parts = members.split(separator: ".", maxSplits: 1).map(String.init)
        return functions.contains { function in
            guard let param = function.parameters.first(where: { $0.name == parts[0] }) else { return false }
            guard parts.count == 2 else { return true }
            guard case .pointer(let pointee, _) = param.type.resolved, case .record(let name) = pointee.resolved,
                let record = model.record(named: name)
            else { return false }
            return hasMember(parts[1], in: record)
        }
    }

    /// Whether the dot-separated member path names a field (through nested structs).
    private func hasMember(_ path: String, in record: Record) -> Bool {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        guard let field = allFields(of: record).first(where: { $0.name == parts[0] }) else { return false }
        guard parts.count == 2 else { return true }
        guard case .record(let name) = field.type.resolved, let inner = model.record(named: name) else { return false }
        return hasMember(parts[1], in: inner)
    }
}
