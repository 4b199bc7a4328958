import BindingRuntime
import RPCServer

/// The per-client quotas (Holdings): reserved before a creating call, settled at its answer,
/// given back when a handle goes. Loop thread only.
extension RuntimeRouter {
    /// What a creating call will hold once it succeeds: its handle, the descriptors sent with it
    /// (at least one), and the bytes its `holds` parameters multiply to.
    static func share(of entry: MethodSpec, params: JSONValue?, fds: Int) -> Holdings {
        var bytes = entry.holdsBytes.isEmpty ? 0 : 1
        for name in entry.holdsBytes {
            guard let index = entry.params.firstIndex(where: { $0.name == name }) else { continue }
            let factor: Int
            switch JSONParams.get(params, at: index, named: name) {
            case .int(let value)?: factor = Int(clamping: max(0, value))
            case .uint(let value)?: factor = Int(clamping: value)
            default: factor = 0  // not an integer: the call itself refuses it
            }
            let (product, overflow) = bytes.multipliedReportingOverflow(by: factor)
            bytes = overflow ? Int.max : product
        }
        return Holdings(handles: 1, descriptors: max(1, fds), bytes: bytes)
    }

    /// Takes `share` out of the client's quota, or throws -32011 naming the quota it would pass.
    func reserve(_ share: Holdings, for connection: UInt64) throws {
        let now = holdings[connection] ?? Holdings()
        let quota = limits.quota
        let after = now + share
        if after.handles > quota.handles {
            throw RPCError.limitExceeded(
                Configuration.LimitName.maxHandlesPerClient, quota.handles,
                what: "handle \(after.handles) of this client")
        }
        if after.descriptors > quota.descriptors {
            throw RPCError.limitExceeded(
                Configuration.LimitName.maxDescriptorsPerClient, quota.descriptors,
                what: "\(after.descriptors) descriptors held for this client")
        }
        if share.bytes > quota.bytes || after.bytes > quota.bytes {
            throw RPCError.limitExceeded(
                Configuration.LimitName.maxBytesPerClient, quota.bytes,
                what: "\(share.bytes) more bytes for this client")
        }
        holdings[connection] = after
    }

    /// Gives back what a handle (or a creating call that failed) held.
    func giveBack(_ share: Holdings, for connection: UInt64) {
        guard let now = holdings[connection] else { return }
        let after = now - share
        holdings[connection] = after == Holdings() ? nil : after
    }

    /// What a new object holds once its answer came: the descriptors that went in and came out
    /// (the host keeps its copies open for the object's life), if more than were reserved. Counted,
    /// not refused (the object exists); the next creating call sees them.
    func settle(_ share: Holdings, descriptorsSent: Int, handedOut: Int, for connection: UInt64) -> Holdings {
        var held = share
        held.descriptors = max(share.descriptors, descriptorsSent + handedOut)
        holdings[connection, default: Holdings()].descriptors += held.descriptors - share.descriptors
        return held
    }
}
