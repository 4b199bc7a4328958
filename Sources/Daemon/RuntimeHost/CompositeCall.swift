import BindingRuntime

/// A method's composite form run in the runtime host: its steps one after another, each a call of
/// the table with its parameters from the form's templates. What a step created is destroyed again
/// when a later step fails, so a composite call that fails leaves nothing behind.
struct CompositeCall {
    let composite: Composite
    let entries: [String: MethodEntry]
    /// Creating method -> the method that destroys what it made (the runtime's manifest).
    let destroyMethods: [String: String]
    /// One call of the table (the host's own path for a plain call).
    let call: (MethodEntry, JSONValue) throws -> JSONValue

    func run(_ request: JSONObject) throws -> JSONValue {
        var results: [JSONValue] = []
        var created: [(entry: MethodEntry, id: JSONValue)] = []
        do {
            for step in composite.steps {
                guard let params = try composite.params(of: step, request: request, results: results) else {
                    results.append(.null)
                    continue
                }
                let entry = try self.entry(step.method)
                let result: JSONValue
                do {
                    result = try call(entry, params)
                } catch let error as RPCError {
                    throw Self.naming(step.method, in: error)
                }
                if let key = entry.resultHandle, let id = result[key] { created.append((entry, id)) }
                results.append(result)
            }
        } catch {
            for (entry, id) in created.reversed() { undo(entry, id) }
            throw error
        }
        return results[composite.answer]
    }

    private func entry(_ method: String) throws -> MethodEntry {
        guard let entry = entries[method] else {
            throw RPCError(code: RPCError.Code.functionNotPresent, message: "\(method) is not present in this runtime")
        }
        return entry
    }

    /// Destroys what `entry` created, with the method that destroys it.
    private func undo(_ entry: MethodEntry, _ id: JSONValue) {
        guard let method = destroyMethods[entry.method], let destroy = entries[method] else { return }
        _ = try? call(destroy, .array(destroy.params.map { $0.handle == entry.creates ? id : .null }))
    }

    /// The error of a step, saying which step it was (`data.step`): its parameter names are the
    /// step's, not the request's.
    private static func naming(_ method: String, in error: RPCError) -> RPCError {
        var error = error
        var data: JSONObject = ["step": .string(method)]
        if case .object(let given)? = error.data {
            for (key, value) in given.pairs { data[key] = value }
        } else if let given = error.data {
            data["detail"] = given
        }
        error.data = .object(data)
        return error
    }
}
