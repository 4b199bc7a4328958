/// The device's cores are one device, whatever process calls it: the blocking calls of a runtime
/// whose clients have hosts of their own (`Hosting.perClient`) run at most `width` at once across
/// those hosts, the others wait in arrival order. (A shared host's own pool does the same for its
/// calls.) The router owns one per namespace; bookkeeping only, it starts what it is handed.
struct DeviceCores {
    let width: Int
    private(set) var busy = 0
    private var waiting: [() -> Void] = []

    init(width: Int) { self.width = max(1, width) }

    /// True when a core is free (it is the call's now: the caller starts it); else `start` waits
    /// for a release to hand it out.
    mutating func admit(_ start: @escaping () -> Void) -> Bool {
        guard busy < width else {
            waiting.append(start)
            return false
        }
        busy += 1
        return true
    }

    /// A call that had a core ended: the next waiting one gets it (returned, to be started).
    mutating func release() -> (() -> Void)? {
        guard !waiting.isEmpty else {
            busy = max(0, busy - 1)
            return nil
        }
        return waiting.removeFirst()
    }

    var waitingCount: Int { waiting.count }
}
