/// The router's use of the device's cores (`DeviceCores`, one per namespace): a blocking call of a
/// runtime whose clients have hosts of their own waits for a core. Loop thread only.
extension RuntimeRouter {
    /// Runs `start` now when one of the namespace's device cores is free, else when one frees.
    func onACore(_ namespace: String, _ start: @escaping () -> Void) {
        let width = runtimes[namespace]?.runtime.hostSettings.parallelCalls ?? 1
        if cores[namespace, default: DeviceCores(width: width)].admit(start) { start() }
    }

    /// A call that had a core ended: the next waiting one gets it.
    func releaseCore(_ namespace: String) {
        if let next = cores[namespace]?.release() { next() }
    }
}
