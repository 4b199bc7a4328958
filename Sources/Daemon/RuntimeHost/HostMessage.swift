import BindingRuntime

/// The protocol between the daemon and its runtime host processes, both sides' one writer and one
/// reader: a JSON object per line on their socketpair (descriptors a message carries go with its
/// line's first byte). Its first member names the message and, but for `ready`, the call's id in the
/// host (the daemon's internal one). A callback's message is written by the host as the client will
/// get it, so the daemon reads the head of the line only and forwards the message's text as it came.
enum HostMessage {
    /// The version of this protocol: the host says its own in `ready`, the daemon serves none other.
    static let version: Int64 = 1

    /// What a call's parameters are on the wire: a value, or the client's own text with its handles
    /// rewritten (the daemon's side, `JSONSplice`).
    enum Params {
        case value(JSONValue?)
        case forwarded(JSONSplice)
    }

    /// Host to daemon, once at its start: the library it loaded (or why not), what resolved, the
    /// protocol's version, and for a probe what the probe asked.
    case ready(JSONObject)
    /// Daemon to host: run `method`; `fds` descriptors came with the line.
    case call(id: Int64, method: String, params: Params, fds: Int)
    /// Daemon to host: the stream of call `id` should pause at its next message.
    case pause(id: Int64)
    /// Host to daemon: one message of call `id`'s stream, the runtime's last one when `final`.
    case callback(id: Int64, final: Bool, message: JSONText)
    /// Host to daemon: call `id` returned `value` (with `fds` descriptors); `paused`: its stream
    /// paused before the runtime's final message.
    case result(id: Int64, value: JSONValue, fds: Int, paused: Bool)
    /// Host to daemon: call `id` failed.
    case failure(id: Int64, error: RPCError)

    /// Why the daemon cannot talk with a host whose `ready` this is (another protocol: a host
    /// executable of another build), or nil.
    static func versionMismatch(_ ready: JSONObject) -> String? {
        let spoken = ready["protocol"]
        guard spoken != .int(version) else { return nil }
        return "its runtime host speaks host protocol \(spoken?.jsonText ?? "(none)"), this daemon \(version): "
            + "the daemon and its runtime host executables come from different builds"
    }

    /// The message as one line, newline included.
    func write(into out: inout [UInt8]) {
        switch self {
        case .ready(let ready):
            out += #"{"ready":"#.utf8
            JSONValue.object(ready).write(into: &out)
        case .call(let id, let method, let params, let fds):
            Self.head("call", id, into: &out)
            out += #","method":"#.utf8
            JSONValue.string(method).write(into: &out)
            if fds > 0 { out += #","fds":\#(fds)"#.utf8 }
            switch params {
            case .value(nil): break
            case .value(let value?): Self.member("params", value, into: &out)
            case .forwarded(let splice):
                out += #","params":"#.utf8
                splice.write(into: &out)
            }
        case .pause(let id):
            Self.head("pause", id, into: &out)
        case .callback(let id, let final, let message):
            Self.head("callback", id, into: &out)
            if final { out += #","final":true"#.utf8 }
            out += #","message":"#.utf8
            out += message.bytes
        case .result(let id, let value, let fds, let paused):
            Self.head("result", id, into: &out)
            if fds > 0 { out += #","fds":\#(fds)"#.utf8 }
            if paused { out += #","paused":true"#.utf8 }
            Self.member("value", value, into: &out)
        case .failure(let id, let error):
            Self.head("error", id, into: &out)
            Self.member("code", .int(Int64(error.code)), into: &out)
            Self.member("message", .string(error.message), into: &out)
            if let data = error.data { Self.member("data", data, into: &out) }
        }
        out += "}\n".utf8
    }

    private static func head(_ kind: String, _ id: Int64, into out: inout [UInt8]) {
        out += #"{""#.utf8
        out += kind.utf8
        out += #"":\#(id)"#.utf8
    }

    private static func member(_ name: String, _ value: JSONValue, into out: inout [UInt8]) {
        out += #",""#.utf8
        out += name.utf8
        out += #"":"#.utf8
        value.write(into: &out)
    }
}
