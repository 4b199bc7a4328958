import BindingRuntime

extension HostMessage {
    /// The message one line is; nil for a line that is none (each side writes only messages: the
    /// reader logs it). A callback's message is not built: its text is taken as it is.
    static func read(_ line: UnsafeRawBufferPointer) -> HostMessage? {
        var parser = JSONParser(line)
        var head: (kind: String, id: Int64)?
        var members = Members()
        var readable = true
        do {
            let isObject = try parser.members { key, parser throws(JSONParser.Error) in
                guard let known = head else {
                    let kind = key.text
                    if kind == "ready" {
                        members.value = try parser.value()
                        head = (kind, 0)
                    } else if case .int(let id) = try parser.value() {
                        head = (kind, id)
                    } else {
                        readable = false
                    }
                    return
                }
                readable = try members.read(key, &parser, in: line, callback: known.kind == "callback") && readable
            }
            try parser.end()
            guard isObject, readable, let head else { return nil }
            return members.message(head.kind, id: head.id)
        } catch {
            return nil
        }
    }

    /// The members after the head, as each kind of message has them.
    private struct Members {
        var method: String?
        var fds = 0
        var final = false
        var paused = false
        var text: JSONText?
        var params: JSONValue?
        var value: JSONValue?
        var code: Int64?
        var errorMessage: String?
        var data: JSONValue?

        /// Reads the value of member `key`; false when it is not what the member holds.
        mutating func read(
            _ key: JSONParser.Key, _ parser: inout JSONParser, in line: UnsafeRawBufferPointer, callback: Bool
        ) throws(JSONParser.Error) -> Bool {
            if callback, key.is("message") {
                let start = parser.offset
                try parser.skipValue()
                text = JSONText(validated: Array(line[start..<parser.offset]))
                return true
            }
            let value = try parser.value()
            switch (key.text, value) {
            case ("method", .string(let name)): method = name
            case ("fds", .int(let count)) where count >= 0 && count <= Int64(Int32.max): fds = Int(count)
            case ("final", .bool(let flag)): final = flag
            case ("paused", .bool(let flag)): paused = flag
            case ("params", _): params = value
            case ("value", _): self.value = value
            case ("code", .int(let number)): code = number
            case ("message", .string(let text)): errorMessage = text
            case ("data", _): data = value
            default: return false
            }
            return true
        }

        func message(_ kind: String, id: Int64) -> HostMessage? {
            switch kind {
            case "ready":
                guard case .object(let ready)? = value else { return nil }
                return .ready(ready)
            case "call":
                guard let method else { return nil }
                return .call(id: id, method: method, params: .value(params), fds: fds)
            case "pause":
                return .pause(id: id)
            case "callback":
                guard let text else { return nil }
                return .callback(id: id, final: final, message: text)
            case "result":
                return .result(id: id, value: value ?? .null, fds: fds, paused: paused)
            case "error":
                guard let code, let errorMessage, let status = Int(exactly: code) else { return nil }
                return .failure(id: id, error: RPCError(code: status, message: errorMessage, data: data))
            default:
                return nil
            }
        }
    }
}
