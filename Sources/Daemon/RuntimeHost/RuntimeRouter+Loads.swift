import BindingRuntime
import RPCServer

/// Model loads of a runtime run one at a time: a load reads a whole model into memory the NPU
/// shares, and two at once only make both late. The others wait in arrival order; their callers
/// are told their place (`behind`: the loads before theirs) with the load's progress. Loop thread
/// only.
extension RuntimeRouter {
    /// A load waiting for its turn: what starts it, and what answers it if it never starts.
    struct WaitingLoad {
        let key: String
        let start: () -> Void
        let cancel: (RPCError) -> Void
    }

    /// Runs `start` when no other load of the runtime runs; `start` gets what to call once its
    /// load has ended. `cancel` answers a load still waiting at shutdown.
    func inLoadTurn(
        _ namespace: String, key: String, cancel: @escaping (RPCError) -> Void,
        _ start: @escaping (_ ended: @escaping () -> Void) -> Void
    ) {
        let ended = { [unowned self] in
            guard let next = loadsWaiting[namespace]?.first else {
                loadRunning.remove(namespace)
                return
            }
            loadsWaiting[namespace]!.removeFirst()
            next.start()
        }
        guard !loadRunning.contains(namespace) else {
            return loadsWaiting[namespace, default: []].append(
                WaitingLoad(key: key, start: { start(ended) }, cancel: cancel))
        }
        loadRunning.insert(namespace)
        start(ended)
    }

    /// How many loads go before the load of `key`: 0 once it runs.
    func loadsAhead(of key: String, in namespace: String) -> Int {
        loadsWaiting[namespace]?.firstIndex { $0.key == key }.map { $0 + 1 } ?? 0
    }

    /// Shutdown: the loads still waiting are answered with `error`.
    func cancelWaitingLoads(_ error: RPCError) {
        let waiting = loadsWaiting.values.flatMap { $0 }
        loadsWaiting.removeAll()
        waiting.forEach { $0.cancel(error) }
    }
}
