import BindingRuntime

/// How a call that streams callback messages ends: the one place that decides it. The runtime
/// host marks the stream's last message `final` (a state the annotations name final); that message
/// is the call's answer, and a runtime error the call returns after it joins it as `code`. A call
/// that returns before its stream ends (`outlivesCall`: a non-blocking run) ends at the later of
/// its return and its final message.
struct StreamEnd {
    /// The member of a stream's answer that says why it ended.
    static let endingKey = "_ended"
    /// The member of a host's final `$/callback` that says how the stream ended, when the host
    /// ended it (a paused run) rather than the runtime's final message.
    static let hostEndingKey = "ended"

    /// Why a stream ended: its runtime finished it or failed (the call returned an error, which
    /// the answer carries as `code`, named where its status group knows it), a client stopped it,
    /// or paused it (a later call goes on with it).
    enum Ending: String, CaseIterable {
        case finished, error, aborted, cancelled, paused
    }

    let outlivesCall: Bool
    private var final: JSONObject?
    /// How the host said the stream ended, when not by the runtime's final message.
    private var endedBy: Ending?
    private var returned: (Result<JSONValue, RPCError>, [Int32])?

    init(outlivesCall: Bool) { self.outlivesCall = outlivesCall }

    /// A `$/callback` from the host: what its client gets (the runtime's message and the client's
    /// userdata), or nil for the final one, which is kept as the answer.
    mutating func message(_ callback: JSONValue) -> JSONObject? {
        var message = JSONObject()
        if case .object(let members)? = callback["message"] { message = members }
        if let userdata = callback["userdata"] { message["userdata"] = userdata }
        guard callback["final"] == .bool(true) else { return message }
        final = message
        if case .string(let how)? = callback[Self.hostEndingKey] { endedBy = Ending(rawValue: how) }
        return nil
    }

    /// The call's answer once both the final message came and the call returned; nil before.
    var answerAfterFinal: (Result<JSONValue, RPCError>, [Int32])? {
        guard final != nil, let returned else { return nil }
        return answer(returned.0, fds: returned.1)
    }

    /// The call returned: its answer, or nil while its stream goes on (kept until the final message).
    mutating func callReturned(_ outcome: Result<JSONValue, RPCError>, fds: [Int32]) -> (
        Result<JSONValue, RPCError>, [Int32]
    )? {
        if outlivesCall, final == nil, case .success = outcome {
            returned = (outcome, fds)
            return nil
        }
        return answer(outcome, fds: fds)
    }

    /// Descriptors of a return kept for a stream that will now never end (its host died).
    var heldDescriptors: [Int32] { returned?.1 ?? [] }

    private func answer(_ outcome: Result<JSONValue, RPCError>, fds: [Int32]) -> (Result<JSONValue, RPCError>, [Int32])
    {
        guard var final else { return (outcome, fds) }
        var ending = endedBy ?? .finished
        if case .failure(let error) = outcome {
            final["code"] = error.data?["code"] ?? .int(Int64(error.code))
            for key in ["name", "meaning"] { if let value = error.data?[key] { final[key] = value } }
            ending = .error
        }
        final[Self.endingKey] = .string(ending.rawValue)
        return (.success(.object(final)), fds)
    }
}
