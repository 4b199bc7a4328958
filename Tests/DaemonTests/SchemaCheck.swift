import BindingRuntime
import Foundation
import XCTest

/// Checks a JSON value against a JSON Schema of the subset the daemon's OpenRPC documents use:
/// `$ref` into `#/components/schemas`, `type` (one or a list), `properties`,
/// `additionalProperties: false`, `items`, `maxItems`, `maxLength`, `enum`, `minimum`, `maximum`,
/// `oneOf`/`anyOf` (one of them accepts) and `allOf`. Keywords it does not know it ignores.
struct SchemaCheck {
    let components: JSONObject

    /// Where `value` breaks `schema`: empty when it conforms.
    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String) -> [String] {
        guard case .object(let s) = schema else { return [] }
        if case .string(let ref)? = s["$ref"] {
            let name = String(ref.split(separator: "/").last ?? "")
            guard let target = components[name] else { return ["\(path): unknown schema \(ref)"] }
            return problems(value, target, at: path)
        }
        if case .array(let options)? = s["oneOf"] ?? s["anyOf"] {
            let each = options.map { problems(value, $0, at: path) }
            if !each.contains(where: \.isEmpty) { return each.min { $0.count < $1.count } ?? [] }
        }
        if case .array(let all)? = s["allOf"] {
            let found = all.flatMap { problems(value, $0, at: path) }
            if !found.isEmpty { return found }
        }
        if let types = s["type"], !Self.types(types).contains(where: { Self.isOfType(value, $0) }) {
            return ["\(path): \(value.typeName) where the schema says \(types.jsonText)"]
        }
        if case .array(let allowed)? = s["enum"], !allowed.contains(value) {
            return ["\(path): \(value.jsonText) is not one of \(s["enum"]!.jsonText)"]
        }
        var found: [String] = []
        if let number = Self.number(value) {
            if let minimum = s["minimum"].flatMap(Self.number), number < minimum {
                found.append("\(path): below \(minimum)")
            }
            if let maximum = s["maximum"].flatMap(Self.number), number > maximum {
                found.append("\(path): above \(maximum)")
            }
        }
        if case .string(let text) = value, case .int(let most)? = s["maxLength"], text.utf8.count > most {
            found.append("\(path): longer than \(most)")
        }
        if case .array(let items) = value {
            if case .int(let most)? = s["maxItems"], items.count > most {
                found.append("\(path): more than \(most) items")
            }
            if let item = s["items"] {
                for (index, element) in items.enumerated() { found += problems(element, item, at: "\(path)[\(index)]") }
            }
        }
        if case .object(let members) = value {
            var known = JSONObject()
            if case .object(let properties)? = s["properties"] { known = properties }
            for (key, member) in members.pairs {
                if let property = known[key] {
                    found += problems(member, property, at: "\(path).\(key)")
                } else if s["additionalProperties"] == .bool(false) {
                    found.append("\(path): no member '\(key)' in the schema")
                } else if let extra = s["additionalProperties"], case .object = extra {
                    found += problems(member, extra, at: "\(path).\(key)")
                }
            }
        }
        return found
    }

    private static func types(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let one): return [one]
        case .array(let many): return many.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        default: return []
        }
    }

    private static func isOfType(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object):
            return true
        case ("integer", .int), ("integer", .uint): return true
        case ("integer", .double(let d)): return d == d.rounded()
        case ("number", .int), ("number", .uint), ("number", .double): return true
        default: return false
        }
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let n): return Double(n)
        case .uint(let n): return Double(n)
        case .double(let d): return d
        default: return nil
        }
    }
}

/// The OpenRPC document of each daemon the tests start (by socket), read once it serves, and the
/// check every test client makes with it: each request the daemon accepted has parameters its
/// method's schemas accept, and each message and answer it got back fits its method's schemas.
final class Documented: @unchecked Sendable {
    static let shared = Documented()
    private let lock = NSLock()
    private var documents: [String: (check: SchemaCheck, methods: [String: JSONValue])] = [:]

    func register(_ socket: String, document: JSONValue) {
        var components = JSONObject()
        if case .object(let schemas)? = document["components"]?["schemas"] { components = schemas }
        var methods: [String: JSONValue] = [:]
        if case .array(let items)? = document["methods"] {
            for item in items { if case .string(let name)? = item["name"] { methods[name] = item } }
        }
        lock.withLock { documents[socket] = (SchemaCheck(components: components), methods) }
    }

    /// What of a response to `method` called with `params` its document does not allow.
    func problems(socket: String, method: String, params: JSONValue?, response: JSONValue) -> (
        problems: [String], final: Bool
    ) {
        guard let (check, methods) = lock.withLock({ documents[socket] }), let described = methods[method],
            let result = response["result"]
        else { return ([], true) }
        if let message = described["x-stream-message"], Self.isStreamMessage(result) {
            return (check.problems(result, message, at: "\(method) message"), false)
        }
        var found = check.problems(result, described["result"]?["schema"] ?? .null, at: "\(method) result")
        guard case .array(let specs)? = described["params"] else { return (found, true) }
        var params = params
        // A handle left out of a short array (its value there is no handle id) is the caller's one.
        if case .array(var items)? = params, items.count < specs.count {
            for (index, spec) in specs.enumerated() where spec["x-handle"] != nil && index < items.count {
                switch items[index] {
                case .int, .uint, .null: continue
                default: items.insert(.null, at: index)
                }
            }
            params = .array(items)
        }
        for (index, spec) in specs.enumerated() {
            guard case .string(let name)? = spec["name"] else { continue }
            let value: JSONValue?
            switch params {
            case .array(let items)?: value = index < items.count ? items[index] : nil
            case .object(let members)?: value = members[name]
            default: value = nil
            }
            guard let value, value != .null else { continue }
            found += check.problems(value, spec["schema"] ?? .null, at: "\(method) param \(name)")
        }
        return (found, true)
    }

    /// A message before a stream's answer: its place in the queue, a load's progress, or a
    /// callback message that is not the last.
    private static func isStreamMessage(_ result: JSONValue) -> Bool {
        result[RKLLMTests.queuePosition] != nil || result["_loading"] != nil
            || (result["_callback_state"] != nil && result["_ended"] == nil)
    }
}

/// The check every test client makes catches what breaks a schema (so its silence means something).
final class SchemaCheckTests: XCTestCase {
    func testTheDocumentsSchemasRefuseWhatTheyDoNotDescribe() throws {
        let daemon = try RKLLMTests.simulated()
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let document = try client.call("rpc.discover")
        Documented.shared.register("probe", document: document)
        let check = { (method: String, params: JSONValue, result: JSONValue) in
            Documented.shared.problems(
                socket: "probe", method: method, params: params, response: ["result": result]
            ).problems
        }
        XCTAssertEqual(check("rkllm.init", [["model_path": "demo"]], ["handle": 1]), [])
        XCTAssertFalse(check("rkllm.init", [["model_path": 5]], ["handle": 1]).isEmpty, "a number for a path")
        XCTAssertFalse(check("rkllm.init", [["no_such_field": 1]], ["handle": 1]).isEmpty, "a field C lacks")
        XCTAssertFalse(
            check("rkllm.init", [["top_k": 1_099_511_627_776]], ["handle": 1]).isEmpty, "an int32 out of range")
        XCTAssertEqual(check("rkllm.run", [nil], ["text": "a", "token_id": 3, "_callback_state": 0]), [])
        XCTAssertFalse(
            check("rkllm.run", [nil], ["text": 3, "_callback_state": 0]).isEmpty, "a message whose text is a number")
        XCTAssertEqual(check("rkllm.run", [nil], ["_callback_state": 2, "_ended": "finished"]), [])
        XCTAssertFalse(
            check("rkllm.run", [nil], ["_callback_state": 2, "_ended": "tired"]).isEmpty, "an ending no one names")
        XCTAssertEqual(check("rkllm.init", [["model_path": "demo"]], ["_loading": ["elapsed_s": 1.0]]), [])
    }
}
