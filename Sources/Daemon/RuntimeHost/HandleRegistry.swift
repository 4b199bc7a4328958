import BindingRuntime
import RPCServer

/// What a handle names: an object of a handle type.
protocol HandleTarget: AnyObject {
    var type: String { get }
}

/// The daemon's handles: the numbers clients get for runtime objects (never the runtime host's
/// own ids), each owned by the connection that got it and counted against its quota. A shared
/// object has one handle per client. Loop thread only.
struct HandleRegistry<Object: HandleTarget> {
    struct Handle {
        let object: Object
        let owner: UInt64
        /// What it counts against its owner's quota.
        let share: Holdings
        /// What the owner's calls on the object get where they give none (`PerRun`): member path
        /// of the call's parameters -> value.
        var runValues: [(path: [String], value: JSONValue)] = []
        /// A destroying call for it is under way: later calls naming it are refused as for a handle
        /// already gone (exactly one answer each, never a call on a freed object).
        var destroying = false
    }

    private var handles: [Int64: Handle] = [:]
    private var next: Int64 = 1

    subscript(id: Int64) -> Handle? { handles[id] }

    var all: Dictionary<Int64, Handle>.Values { handles.values }

    /// A new handle of `owner` on `object`.
    mutating func register(
        _ object: Object, owner: UInt64, share: Holdings, runValues: [(path: [String], value: JSONValue)] = []
    ) -> Int64 {
        defer { next += 1 }
        handles[next] = Handle(object: object, owner: owner, share: share, runValues: runValues)
        return next
    }

    mutating func remove(_ id: Int64) -> Handle? { handles.removeValue(forKey: id) }

    /// Marks a handle whose destroying call was sent (true), or whose destroy failed (false).
    mutating func setDestroying(_ id: Int64, _ destroying: Bool) { handles[id]?.destroying = destroying }

    mutating func removeAll() { handles.removeAll() }

    /// The handle a client's parameter names: one of its own of `type`; `null` names its one
    /// handle of that type when it has exactly one.
    func resolve(_ value: JSONValue, type: String, owner: UInt64, param: String) throws -> Int64 {
        if value == .null {
            let mine = handles.filter {
                $0.value.owner == owner && $0.value.object.type == type && !$0.value.destroying
            }
            guard mine.count == 1, let only = mine.first else {
                throw RPCError(
                    code: RPCError.Code.unknownHandle,
                    message: "\(param): null means your one \(type), and you have \(mine.count)",
                    data: .object(["param": .string(param)]))
            }
            return only.key
        }
        guard case .int(let id) = value, let handle = handles[id], handle.object.type == type, handle.owner == owner
        else {
            throw RPCError(
                code: RPCError.Code.unknownHandle, message: "\(param): unknown \(type) handle \(value.jsonText)",
                data: .object(["param": .string(param)]))
        }
        guard !handle.destroying else {
            throw RPCError(
                code: RPCError.Code.unknownHandle,
                message: "\(param): unknown \(type) handle \(value.jsonText) (an earlier call destroys it)",
                data: .object(["param": .string(param)]))
        }
        return id
    }

    /// `owner`'s handles, newest first (what was made with a context goes before the context).
    func owned(by owner: UInt64) -> [Int64] {
        handles.filter { $0.value.owner == owner }.keys.sorted(by: >)
    }

    /// Whether a client other than `owner` (any client, for nil) holds a handle on `object`.
    func isHeld(_ object: Object, byOtherThan owner: UInt64? = nil) -> Bool {
        handles.values.contains { $0.object === object && $0.owner != owner }
    }

    /// Whether `owner` holds a handle on `object`.
    func isHeld(_ object: Object, by owner: UInt64) -> Bool {
        handles.values.contains { $0.object === object && $0.owner == owner }
    }

    /// Points `owner`'s handles on `object` at `replacement` (same ids, same shares); how many.
    mutating func move(of owner: UInt64, from object: Object, to replacement: Object) -> Int {
        let moving = handles.filter { $0.value.owner == owner && $0.value.object === object }
        for (id, handle) in moving {
            handles[id] = Handle(object: replacement, owner: owner, share: handle.share, runValues: handle.runValues)
        }
        return moving.count
    }
}
