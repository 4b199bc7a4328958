import BindingRuntime
import Glibc

/// How a call to a runtime host ends, the one place that decides it: what it is told (the
/// runtime's final message, the call's return, a pause the host reports, a client's stop, its
/// host's death) becomes one answer, and for a stream its `_ended`. The runtime's final message is
/// a stream's answer, a runtime error the call returns after it joins it as `code`. A call that
/// returns before its stream ends (`outlivesCall`: a non-blocking run) ends at the later of its
/// return and its final message.
struct StreamEnd {
    typealias Answer = (outcome: Result<JSONValue, RPCError>, fds: [Int32])

    /// A limit the annotations give a stream (`stream_limit`), with what its call allows: a
    /// finished stream whose count (a member of its final message) reached `most` ends `ending`.
    struct Limit: Equatable {
        let ending: String
        let count: [String]
        let most: Int64
    }

    let outlivesCall: Bool
    let limit: Limit?
    private var final: JSONObject?
    /// The host said the call returned before the runtime's final message: it paused.
    private var paused = false
    /// A client stopped the stream (abort, cancel).
    private var stoppedBy: StreamEnding?
    private var returned: Answer?

    init(outlivesCall: Bool = false, limit: Limit? = nil) {
        self.outlivesCall = outlivesCall
        self.limit = limit
    }

    /// The runtime's final message of the stream.
    mutating func finalMessage(_ message: JSONObject) { final = message }

    /// A client stopped the stream (`aborted`, `cancelled`): its answer says so unless the runtime
    /// failed or the stream paused.
    mutating func stopped(by how: StreamEnding) { stoppedBy = how }

    /// The call's answer once both the final message came and the call returned; nil before.
    var answerAfterFinal: Answer? {
        guard final != nil, let returned else { return nil }
        return answer(returned.outcome, fds: returned.fds)
    }

    /// The call returned (`paused`: its stream paused first): its answer, or nil while its stream
    /// goes on (kept until the final message).
    mutating func callReturned(_ outcome: Result<JSONValue, RPCError>, fds: [Int32], paused: Bool = false) -> Answer? {
        if paused, case .success = outcome {
            self.paused = true
            final = [:]
        }
        if outlivesCall, final == nil, case .success = outcome {
            returned = (outcome, fds)
            return nil
        }
        return answer(outcome, fds: fds)
    }

    /// Its host died first: the error is the answer, and a return kept for the stream's end lets
    /// its descriptors go.
    func hostDied(_ error: RPCError) -> Answer {
        returned?.fds.forEach { close($0) }
        return (.failure(error), [])
    }

    private func answer(_ outcome: Result<JSONValue, RPCError>, fds: [Int32]) -> Answer {
        guard var final else { return (outcome, fds) }
        let ending: StreamEnding
        if case .failure(let error) = outcome {
            final["code"] = error.data?["code"] ?? .int(Int64(error.code))
            for key in ["name", "meaning"] { if let value = error.data?[key] { final[key] = value } }
            ending = .error
        } else if paused {
            ending = .paused
        } else if let stoppedBy {
            ending = stoppedBy
        } else if let limit, Self.reached(limit, in: final) {
            ending = .limit(limit.ending)
        } else {
            ending = .finished
        }
        final[StreamMember.ended] = .string(ending.name)
        return (.success(.object(final)), fds)
    }

    private static func reached(_ limit: Limit, in final: JSONObject) -> Bool {
        guard case .int(let count)? = limit.count.reduce(JSONValue.object(final), { $0?[$1] }) else { return false }
        return count >= limit.most
    }
}
