/// The calls on one runtime object that must not overlap (its streams and its blocking calls: a
/// model generates one answer at a time, a context is not thread-safe): one runs, the others wait
/// in arrival order. Bookkeeping only; the router starts what it is handed. The one place calls
/// on an object are serialised (the runtime host runs what it is sent).
struct CallQueue<Item: AnyObject> {
    private(set) var running: Item?
    private(set) var waiting: [Item] = []

    enum Admission: Equatable {
        /// Nothing ran: the item runs now.
        case run
        /// It waits; 1 = next.
        case queued(position: Int)
        /// `limit` items wait already: it is not queued.
        case full
    }

    /// `item` runs at once when nothing runs, else waits unless `limit` (nil: none) items wait.
    mutating func admit(_ item: Item, limit: Int?) -> Admission {
        guard running != nil else {
            running = item
            return .run
        }
        if let limit, waiting.count >= limit { return .full }
        waiting.append(item)
        return .queued(position: waiting.count)
    }

    /// `item` ended: when it was the running one, the next runs (returned, to be started).
    mutating func finish(_ item: Item) -> Item? {
        guard running === item else { return nil }
        running = waiting.isEmpty ? nil : waiting.removeFirst()
        return running
    }

    /// Takes the waiting items that match out of the queue.
    mutating func removeWaiting(where matches: (Item) -> Bool) -> [Item] {
        let removed = waiting.filter(matches)
        waiting.removeAll(where: matches)
        return removed
    }

    var isIdle: Bool { running == nil && waiting.isEmpty }
}
