import BindingRuntime
import RPCServer

/// What one client holds in runtime hosts: its handles, the descriptors its objects keep
/// open there (those sent with a creating call and those its answer handed out, at least one per
/// object: a runtime's objects keep buffers of their own), and the bytes its objects hold (the
/// creating call's annotation `holds`). A creating call reserves its share before it is sent, so a
/// client cannot pass a quota by sending many calls at once.
public struct Holdings: Sendable, Equatable {
    public var handles: Int
    public var descriptors: Int
    public var bytes: Int

    public init(handles: Int = 0, descriptors: Int = 0, bytes: Int = 0) {
        self.handles = handles
        self.descriptors = descriptors
        self.bytes = bytes
    }

    static func + (a: Holdings, b: Holdings) -> Holdings {
        Holdings(handles: a.handles + b.handles, descriptors: a.descriptors + b.descriptors, bytes: a.bytes &+ b.bytes)
    }

    static func - (a: Holdings, b: Holdings) -> Holdings {
        Holdings(handles: a.handles - b.handles, descriptors: a.descriptors - b.descriptors, bytes: a.bytes &- b.bytes)
    }
}
