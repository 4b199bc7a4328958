/// The device's cores are one device, whatever process calls it: the blocking calls of a runtime
/// whose clients have hosts of their own (`Hosting.perClient`) run at most the runtime's parallel
/// calls at once across those hosts, the others wait in arrival order. (A shared host's own pool
/// does the same for its calls.) Loop thread only.
extension RuntimeRouter {
    /// Runs `start` now when a core is free, else when one frees.
    func onACore(_ namespace: String, _ start: @escaping () -> Void) {
        guard coresBusy[namespace, default: 0] < runtimes[namespace]?.runtime.hostSettings.parallelCalls ?? 1 else {
            return coreQueue[namespace, default: []].append(start)
        }
        coresBusy[namespace, default: 0] += 1
        start()
    }

    /// A call that had a core ended: the next waiting one gets it.
    func releaseCore(_ namespace: String) {
        guard let next = coreQueue[namespace]?.first else {
            coresBusy[namespace, default: 1] -= 1
            return
        }
        coreQueue[namespace]!.removeFirst()
        next()
    }
}
