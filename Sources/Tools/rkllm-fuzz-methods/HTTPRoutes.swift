import BindingRuntime
import Foundation
import Wire

/// Random bodies for the HTTP front's generation routes (OpenAI's and Ollama's), their numeric
/// fields mostly past their ranges or of the wrong kind: each request must get a whole response
/// with a status the route may give (never a dead daemon, never silence).
struct HTTPRoutes {
    let port: UInt16

    private static let routes = ["/v1/chat/completions", "/v1/completions", "/api/chat", "/api/generate"]
    private static let numeric = [
        "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "n", "keep_alive",
    ]
    private static let options = ["num_predict", "temperature", "top_p", "top_k"]
    /// What a generation route may answer: success, bad input, unknown model, busy, unavailable.
    private static let statuses: Set<Int> = [200, 400, 404, 429, 500, 503]

    /// One request to a random route; its route, body and status, or why it got none.
    func call(_ random: inout SplitMix) throws -> String {
        let route = Self.routes[random.below(Self.routes.count)]
        let body = Self.body(chat: route.hasSuffix("chat") || route.hasSuffix("chat/completions"), &random)
        let request = "POST \(route) HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let status: Int
        do {
            status = try Self.status(of: Array(request.utf8), port: port)
        } catch {
            throw FuzzFailure("POST \(route) \(body): \(error)")
        }
        guard Self.statuses.contains(status) else {
            throw FuzzFailure("POST \(route) \(body) answered \(status)")
        }
        return "POST \(route) \(body) -> \(status)"
    }

    private static func body(chat: Bool, _ random: inout SplitMix) -> String {
        var object: JSONObject = ["model": "demo", "stream": .bool(false)]
        if chat {
            object["messages"] = [["role": "user", "content": "hello world"]]
        } else {
            object["prompt"] = "hello world"
        }
        for field in numeric where random.below(3) == 0 { object[field] = number(&random) }
        var settings = JSONObject()
        for field in options where random.below(3) == 0 { settings[field] = number(&random) }
        if settings.count > 0 { object["options"] = .object(settings) }
        return JSONValue.object(object).jsonText
    }

    private static func number(_ random: inout SplitMix) -> JSONValue {
        if random.below(4) == 0 { return .int([0, 1, 4, 8][random.below(4)]) }
        return SchemaValues.extremeNumbers[random.below(SchemaValues.extremeNumbers.count)]
    }

    /// Sends `request` on a connection of its own and reads the response's status (to the end).
    private static func status(of request: [UInt8], port: UInt16) throws -> Int {
        let fd = try LoopbackTCP.connect(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else {
            throw FuzzFailure("HTTP send: \(String(cString: strerror(errno)))")
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n >= 0 else { throw FuzzFailure("HTTP: no response (\(String(cString: strerror(errno))))") }
            if n == 0 { break }
            response += chunk[..<n]
        }
        let line = String(decoding: response.prefix { $0 != 0x0D }, as: UTF8.self).split(separator: " ")
        guard line.count >= 2, line[0].hasPrefix("HTTP/1."), let status = Int(line[1]) else {
            throw FuzzFailure("HTTP: no status line in \(response.count) bytes")
        }
        return status
    }
}
