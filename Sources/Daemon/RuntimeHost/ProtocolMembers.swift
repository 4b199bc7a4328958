import BindingRuntime

/// What the daemon adds to a generated method's description: the members its own protocol puts in
/// a method's messages and answer (a stream's ending and queue place, a shared load's progress),
/// which the headers cannot know.
enum ProtocolMembers {
    static func describe(_ method: JSONValue, spec: MethodSpec) -> JSONValue {
        guard case .object(var object) = method else { return method }
        if spec.streams != nil {
            var endings = StreamEnding.common
            if spec.pauseValue != nil && spec.blocking { endings.append(.paused) }
            if let limit = spec.streamLimit { endings.append(.limit(limit.ending)) }
            object["result"] = adding(
                [
                    StreamMember.ended: [
                        "enum": .array(endings.map { .string($0.name) }), "description": "why the stream ended",
                    ],
                    "code": ["type": "integer", "description": "the runtime's failure code, when it failed"],
                    "name": ["type": "string", "description": "the code's constant, where the headers name it"],
                    "meaning": ["type": "string", "description": "what the code means, where it is known"],
                ], to: object["result"], at: "schema")
            object["x-stream-message"] = adding(
                [
                    StreamMember.queuePosition: [
                        "type": "integer", "minimum": 1, "description": "its place in the queue",
                    ]
                ],
                to: object["x-stream-message"], at: nil)
        }
        if spec.creates != nil && spec.shared {
            object["result"] = adding(
                ["joined": ["type": "boolean", "description": "another client's equal call had loaded it"]],
                to: object["result"], at: "schema")
            object["x-stream-message"] = adding(
                [
                    StreamMember.loading: [
                        "type": "object", "description": "sent every second while the object loads",
                        "properties": [
                            "elapsed_s": ["type": "number"], "joining": ["type": "boolean"],
                            "behind": ["type": "integer", "minimum": 1, "description": "loads that go first"],
                        ],
                    ]
                ], to: object["x-stream-message"] ?? ["type": "object", "properties": [:]], at: nil)
        }
        return .object(object)
    }

    /// `container` (or its member `member`) with `properties` added to its schema's properties.
    private static func adding(_ properties: JSONObject, to container: JSONValue?, at member: String?) -> JSONValue? {
        guard case .object(var outer)? = container else { return container }
        var schema = member.map { outer[$0] ?? .null } ?? .object(outer)
        guard case .object(var inner) = schema else { return container }
        var existing: JSONObject = [:]
        if case .object(let given)? = inner["properties"] { existing = given }
        for (key, value) in properties.pairs { existing[key] = value }
        inner["properties"] = .object(existing)
        schema = .object(inner)
        guard let member else { return schema }
        outer[member] = schema
        return .object(outer)
    }
}
