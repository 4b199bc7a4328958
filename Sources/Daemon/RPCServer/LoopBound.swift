import Glibc
import Synchronization

/// State that only the thread running the event loop may touch, checked in code rather than only
/// said in a comment: in a debug build (every test run, under both sanitizers too) a read or a
/// write from another thread while a loop runs traps; a release build reads it straight. Before a
/// loop runs and after the last one stopped (setup, teardown) any thread may.
@propertyWrapper
public struct LoopBound<Value> {
    @usableFromInline var value: Value

    @inlinable public init(wrappedValue: Value) { value = wrappedValue }

    @inlinable public var wrappedValue: Value {
        get {
            LoopThread.check()
            return value
        }
        _modify {
            LoopThread.check()
            yield &value
        }
    }
}

/// Which threads run an event loop (`EventLoop.run` says so), for `LoopBound`'s check.
public enum LoopThread {
    /// Loops running in the process.
    private static let running = Atomic<Int>(0)
    /// Set on a thread while it runs a loop.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether the calling thread may touch loop-owned state: it runs a loop, or none runs.
    public static var mayTouchLoopState: Bool {
        running.load(ordering: .acquiring) == 0 || pthread_getspecific(key) != nil
    }

    @inlinable public static func check() {
        #if DEBUG
            precondition(mayTouchLoopState, "loop-owned state touched off the loop's thread")
        #endif
    }

    static func entered() {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        running.add(1, ordering: .releasing)
    }

    static func left() {
        running.subtract(1, ordering: .releasing)
        pthread_setspecific(key, nil)
    }
}
