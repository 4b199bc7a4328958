import Dispatch
import Foundation

/// Ctrl-C (SIGINT) as an event whose meaning the command sets at each moment: stopping an answer
/// while one streams, a hint at the chat's prompt. With no meaning set, it ends the program (130).
final class Interrupts: @unchecked Sendable {
    static let shared = Interrupts()

    private let lock = NSLock()
    private var action: (@Sendable () -> Void)?
    private let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())

    private init() {
        signal(SIGINT, SIG_IGN)  // the dispatch source sees it instead
        source.setEventHandler { [self] in
            guard let action = lock.withLock({ action }) else { exit(ExitStatus.interrupted.rawValue) }
            action()
        }
        source.resume()
    }

    /// `body` with Ctrl-C doing `action`; what it meant before comes back after.
    func during<T>(_ action: @escaping @Sendable () -> Void, _ body: () async throws -> T) async rethrows -> T {
        let previous = lock.withLock {
            defer { self.action = action }
            return self.action
        }
        defer { lock.withLock { self.action = previous } }
        return try await body()
    }
}
