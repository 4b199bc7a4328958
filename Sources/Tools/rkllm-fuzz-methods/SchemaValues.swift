import BindingRuntime
import CLinux
import Foundation

/// Random JSON for a method's parameters, from their OpenRPC schemas: mostly the shape the schema
/// asks for (so calls get past the first check and into the runtime), sometimes the wrong type,
/// with numbers at the edges of C's types, odd strings, short and long buffers, handles the fuzzer
/// got (and some it did not), and memfds for descriptor parameters.
struct SchemaValues {
    let schemas: JSONValue
    /// Handle ids the daemon gave the fuzzer's session, by kind (`kind(ofParameter:)`).
    private var handles: [String: [JSONValue]] = [:]

    init(schemas: JSONValue) { self.schemas = schemas }

    private static let handleDescription = "a handle id issued by the server"
    private static let numbers: [Int64] = [
        0, 1, -1, 2, 3, 7, 16, 32, 64, 255, 256, 640, 4096, 65535, 65536, Int64(Int32.max),
        Int64(Int32.max) + 1, Int64(Int32.min), Int64(UInt32.max), Int64(UInt32.max) + 1,
        1 << 40, 1 << 62, Int64.max, Int64.min,
    ]
    /// Numbers past any field's range, and numbers as strings: each must be refused, never trap.
    static let extremeNumbers: [JSONValue] = [
        .double(1e300), .double(-1e300), .uint(1 << 63), .double(18_446_744_073_709_551_616), .double(-0.0),
        .double(1e-300), .double(1.9e10), .double(2e10), .string("5"), .string("1e300"), .string("-1"),
    ]
    private static let strings = [
        "", "demo.rkllm", "demo-float.rknn", "demo.rknn", "../../../etc/passwd", "/dev/zero", "models/../demo.rkllm",
        "hello world", "get_weather", "é你好", "\u{0}", String(repeating: "x", count: 5000), "null", "%s%s%n",
    ]

    /// Positional arguments (sometimes named) and the descriptors to send with them.
    mutating func arguments(_ params: [JSONValue], random: inout SplitMix) -> (JSONValue, [Int32]) {
        var positional: [JSONValue] = []
        var named = JSONObject()
        var fds: [Int32] = []
        for param in params {
            guard case .string(let name)? = param["name"] else { continue }
            let schema = param["schema"] ?? .object([:])
            if schema["description"] == .string(Self.handleDescription) {
                positional.append(handle(Self.kind(ofParameter: name), &random))
            } else if case .string(let description)? = schema["description"],
                description.hasPrefix("index of a file descriptor")
            {
                fds.append(Self.memfd(&random))
                positional.append(.int(random.below(4) == 0 ? Int64(random.below(3)) : 0))
            } else if param["required"] != .bool(true) && random.below(4) == 0 {
                positional.append(.null)
            } else {
                positional.append(value(schema, depth: 0, random: &random))
            }
            named[name] = positional.last!
        }
        if random.below(8) == 0 { positional.append(value(.object([:]), depth: 2, random: &random)) }  // one too many
        return (random.below(2) == 0 ? .array(positional) : .object(named), fds)
    }

    /// Which handles a parameter takes, from its name (the OpenRPC document does not say): a model
    /// (`handle`), a memory (`mem`...), else a context.
    static func kind(ofParameter name: String) -> String {
        name == "handle" ? "model" : name.contains("mem") ? "memory" : "context"
    }

    /// Remembers the handles a creating call answered; forgets one the daemon no longer knows.
    mutating func learn(
        from answers: [JSONValue], method: String, arguments: JSONValue = .null, params: [JSONValue] = []
    ) {
        if answers.last?["error"]?["code"] == .int(Int64(RPCError.Code.unknownHandle)),
            case .string(let name)? = answers.last?["error"]?["data"]?["param"]
        {
            let index = params.firstIndex { $0["name"] == .string(name) } ?? -1
            let sent = arguments[name] ?? arguments[index] ?? .null
            for kind in handles.keys { handles[kind]!.removeAll { $0 == sent } }
        }
        for answer in answers {
            guard case .object(let result)? = answer["result"] else { continue }
            for (key, value) in result.pairs {
                guard case .int = value else { continue }
                switch key {
                case "handle": handles["model", default: []].append(value)
                case "context", "context_out", "ctx": handles["context", default: []].append(value)
                case "return" where method.contains("create_mem"): handles["memory", default: []].append(value)
                default: break
                }
            }
        }
        for kind in handles.keys where handles[kind]!.count > 16 {
            handles[kind]!.removeFirst(handles[kind]!.count - 16)
        }
    }

    func count(of kind: String) -> Int { handles[kind]?.count ?? 0 }

    func someContext(_ random: inout SplitMix) -> JSONValue? { handles["context"]?.randomElement(using: &random) }

    private func handle(_ kind: String, _ random: inout SplitMix) -> JSONValue {
        let mine = handles[kind] ?? []
        switch random.below(12) {
        case 0: return .null
        case 1: return .int(Self.numbers[random.below(Self.numbers.count)])
        case 2: return .string("1")
        case 3: return handles.values.flatMap { $0 }.randomElement(using: &random) ?? .int(1)  // of another kind
        default: return mine.isEmpty ? .int(1) : mine[random.below(mine.count)]
        }
    }

    private func value(_ schema: JSONValue, depth: Int, random: inout SplitMix) -> JSONValue {
        if random.below(20) == 0 || depth > 4 { return anything(depth: depth, random: &random) }
        if case .string(let reference)? = schema["$ref"], let name = reference.split(separator: "/").last {
            return value(schemas[String(name)] ?? .object([:]), depth: depth + 1, random: &random)
        }
        if case .array(let choices)? = schema["oneOf"], !choices.isEmpty {
            return value(choices[random.below(choices.count)], depth: depth, random: &random)
        }
        if case .array(let constants)? = schema["enum"], !constants.isEmpty {
            return constants[random.below(constants.count)]
        }
        if schema["description"] == .string(Self.handleDescription) { return handle("context", &random) }
        var types: [String] = []
        switch schema["type"] {
        case .string(let type)?: types = [type]
        case .array(let list)?: types = list.compactMap { if case .string(let t) = $0 { return t } else { return nil } }
        default: return anything(depth: depth, random: &random)
        }
        let type = types.isEmpty ? "null" : types[random.below(types.count)]
        if type == "integer" || type == "number", random.below(4) == 0 {
            return Self.extremeNumbers[random.below(Self.extremeNumbers.count)]
        }
        switch type {
        case "integer": return integer(schema, random: &random)
        case "number": return .double([0, -0.0, 0.5, 1e-30, 1e30, -1, 3.4e38, 1.7e308][random.below(8)])
        case "boolean": return .bool(random.below(2) == 0)
        case "string":
            if schema["contentEncoding"] == "base64" {
                return .string(Self.base64(random.below(3) == 0 ? random.below(70000) : random.below(64), &random))
            }
            return .string(Self.strings[random.below(Self.strings.count)])
        case "array":
            let items = schema["items"] ?? .object([:])
            return .array(
                (0..<[0, 1, 1, 2, 3, 8][random.below(6)]).map { _ in value(items, depth: depth + 1, random: &random) })
        case "object":
            var object = JSONObject()
            if case .object(let properties)? = schema["properties"] {
                for (name, property) in properties.pairs where random.below(3) != 0 {
                    object[name] = value(property, depth: depth + 1, random: &random)
                }
            }
            if random.below(10) == 0 { object["unexpected"] = .int(1) }
            return .object(object)
        default: return .null
        }
    }

    private func integer(_ schema: JSONValue, random: inout SplitMix) -> JSONValue {
        if random.below(2) == 0, case .int(let low)? = schema["minimum"] {
            let high: Int64
            switch schema["maximum"] {
            case .int(let h)?: high = h
            case .uint?: high = Int64.max
            default: high = low + 1000
            }
            return .int([low, high, low &+ 1, high &- 1, low + Int64(random.below(64))].randomElement(using: &random)!)
        }
        return .int(Self.numbers[random.below(Self.numbers.count)])
    }

    private func anything(depth: Int, random: inout SplitMix) -> JSONValue {
        switch random.below(depth > 4 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(true)
        case 2: return .int(Self.numbers[random.below(Self.numbers.count)])
        case 3: return .double(-1.5)
        case 4: return .string(Self.strings[random.below(Self.strings.count)])
        case 5: return .array([anything(depth: depth + 1, random: &random)])
        default: return .object(["x": anything(depth: depth + 1, random: &random)])
        }
    }

    private static func base64(_ count: Int, _ random: inout SplitMix) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: random.next()) }
        return Data(bytes).base64EncodedString()
    }

    /// A memfd of a random size, sealable or not (the daemon refuses what could shrink).
    private static func memfd(_ random: inout SplitMix) -> Int32 {
        let fd = random.below(4) == 0 ? memfd_create("fuzz", 0) : clinux_sealable_memfd("fuzz")
        ftruncate(fd, off_t([0, 16, 4096, 65536, 640 * 640 * 3][random.below(5)]))
        return fd
    }
}

/// A small, seedable generator: a run can be repeated with its seed.
struct SplitMix: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
