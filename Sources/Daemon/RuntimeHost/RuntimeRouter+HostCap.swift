import BindingRuntime
import RPCServer

/// The overall cap on runtime host processes (`--max-runtime-hosts`): a new host first takes the
/// place of an idle one (an instance kept alive for no client, or a namespace's shared host with
/// nothing to do); when none is idle, the creating call is refused with -32011.
extension RuntimeRouter {
    func checkHostCap() throws {
        guard hostPool.count >= limits.maxHosts else { return }
        if let idle = idleHost() {
            logger.info(
                "\(idle.namespace) runtime host \(idle.pid) stopped to make room (\(limits.maxHosts) hosts at most)")
            for object in sharedObjects.objects.values where object.host === idle {
                sharedObjects.remove(object, key: object.shareKey)
                object.expiry += 1  // its keep-alive timer no longer fires
                sharedObjects.returnInstanceValue(object.instanceValue, in: idle.namespace)
            }
            stop(idle)
            return
        }
        throw RPCError.limitExceeded(
            Configuration.LimitName.maxRuntimeHosts, limits.maxHosts, what: "another runtime host process")
    }

    /// A host no client needs now: no call in flight, and nothing but objects kept alive with no
    /// handle on them.
    private func idleHost() -> HostProcess? {
        let held = Set(handles.all.map { ObjectIdentifier($0.object.host) })
        return hostPool.all.values.first { host in
            host.inFlight == 0 && !host.closing && !held.contains(ObjectIdentifier(host))
        }
    }
}
