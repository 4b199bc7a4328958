import BindingRuntime
import CLinux
import Foundation
import Synchronization
import Wire

/// Something registered with the loop for readiness events on its file descriptor.
public protocol EventHandler: AnyObject {
    func handleEvents(_ events: UInt32)
}

/// One epoll loop on one thread. Handlers, timers and everything they touch belong to the loop
/// thread; other threads reach it only through `execute`, which queues a task and wakes the loop
/// through an eventfd.
public final class EventLoop: @unchecked Sendable {
    private let epollFD: Int32
    private let wakeFD: Int32
    private let lock = NSLock()
    private var pending: [@Sendable () -> Void] = []  // guarded by lock
    private var wakePending = false  // guarded by lock

    // Loop thread only.
    /// Indexed by descriptor (descriptors are small numbers): one load per event, not a hash.
    private var handlers: [EventHandler?] = []
    private var timers: [(deadline: UInt64, id: Int, task: () -> Void)] = []
    private var nextTimerID = 0
    /// When the current batch of events came in (one clock read for every request in it).
    public private(set) var iterationStarted: UInt64 = 0
    /// Runs after each batch of events (the server flushes the replies it queued: coalescing).
    public var onIterationEnd: (() -> Void)?
    private var running = false
    /// The thread running the loop (0: none). Atomic: any thread asks `inLoopThread` while the loop
    /// starts and stops.
    private let threadID = Atomic<UInt>(0)

    public init() throws {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError("epoll_create1") }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            close(epollFD)
            throw SystemError("eventfd")
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            close(wakeFD)
            close(epollFD)
            throw SystemError("epoll_ctl(eventfd)")
        }
    }

    deinit {
        close(wakeFD)
        close(epollFD)
    }

    public var inLoopThread: Bool {
        let loopThread = threadID.load(ordering: .acquiring)
        return loopThread != 0 && pthread_equal(loopThread, pthread_self()) != 0
    }

    // MARK: registration (loop thread)

    public func register(_ fd: Int32, events: UInt32, handler: EventHandler) throws {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw SystemError("epoll_ctl(add)") }
        if handlers.count <= Int(fd) { handlers += repeatElement(nil, count: Int(fd) + 1 - handlers.count) }
        handlers[Int(fd)] = handler
    }

    public func modify(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Forget the descriptor (the caller closes it).
    public func unregister(_ fd: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    // MARK: tasks and timers

    /// Runs `task` on the loop thread soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let wake: Bool = lock.withLock {
            pending.append(task)
            defer { wakePending = true }
            return !wakePending
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Runs `task` on the loop thread after `seconds` (loop thread only). Returns an id for `cancelTimer`.
    @discardableResult
    public func schedule(after seconds: Double, _ task: @escaping () -> Void) -> Int {
        nextTimerID += 1
        let deadline = Self.now() + CheckedNumbers.nanoseconds(seconds)
        let index = timers.firstIndex { $0.deadline > deadline } ?? timers.count
        timers.insert((deadline, nextTimerID, task), at: index)
        return nextTimerID
    }

    public func cancelTimer(_ id: Int) {
        timers.removeAll { $0.id == id }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    // MARK: running

    /// Runs the loop on the calling thread until `stop()`.
    public func run() {
        threadID.store(pthread_self(), ordering: .releasing)
        LoopThread.entered()
        defer { LoopThread.left() }
        running = true
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while running {
            let timeout: Int32 =
                timers.first.map {
                    Int32(min(Int64(1000), Int64(($0.deadline &- min($0.deadline, Self.now())) / 1_000_000) + 1))
                } ?? -1
            let n = events.withUnsafeMutableBufferPointer {
                epoll_wait(epollFD, $0.baseAddress, Int32($0.count), timeout)
            }
            iterationStarted = Self.now()
            if n < 0 && errno != EINTR { break }
            for i in 0..<max(0, Int(n)) {
                let fd = events[i].data.fd
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    continue
                }
                if Int(fd) < handlers.count { handlers[Int(fd)]?.handleEvents(events[i].events) }
            }
            runPendingTasks()
            runDueTimers()
            onIterationEnd?()
        }
        threadID.store(0, ordering: .releasing)
        // What is still registered may refer back to its owners: let go so everything can end.
        handlers.removeAll()
        timers.removeAll()
        onIterationEnd = nil
        lock.withLock { pending.removeAll() }
    }

    /// Makes `run()` return after the current iteration (loop thread).
    public func stop() { running = false }

    private func runPendingTasks() {
        let tasks: [@Sendable () -> Void] = lock.withLock {
            wakePending = false
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        for task in tasks { task() }
    }

    private func runDueTimers() {
        let now = Self.now()
        while let first = timers.first, first.deadline <= now {
            timers.removeFirst()
            first.task()
        }
    }
}
