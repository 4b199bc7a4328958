import BindingRuntime
import RPCServer

/// A large request's params go to the runtime host as the client wrote them, only their handles
/// rewritten in place (`JSONSplice`): a base64 frame of megabytes is relayed, not read into a
/// string and written again.
extension RuntimeRouter {
    /// What the host is to get for `params`, when it is the client's text with its handles
    /// rewritten: the client's text was kept (`Request.keptParamsBytes`), and the params differ
    /// from the client's in the handles' values alone (no alias renamed, no value the daemon
    /// gives, no descriptor taken, no handle filled in that the client left out). Else nil:
    /// `params` are written as they are.
    static func forwarded(_ call: Call, sending params: JSONValue?, entry: MethodSpec) -> JSONSplice? {
        guard let text = call.request.paramsText, let original = call.params else { return nil }
        var expected: JSONValue = original
        var rewritten: [(place: JSONSplice.Place, value: JSONValue)] = []
        for (index, spec) in entry.params.enumerated() where spec.handle != nil {
            guard JSONParams.get(original, at: index, named: spec.name) != nil else { continue }
            let value = JSONParams.get(params, at: index, named: spec.name) ?? .null
            expected = JSONParams.set(expected, at: index, named: spec.name, to: value)
            let place: JSONSplice.Place
            if case .array = original { place = .position(index) } else { place = .member(spec.name) }
            rewritten.append((place, value))
        }
        guard expected == params else { return nil }
        return JSONSplice(text, replacing: rewritten)
    }
}
