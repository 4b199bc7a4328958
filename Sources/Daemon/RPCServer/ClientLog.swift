/// Log lines a client's doing causes (descriptors it sent and nobody took, lines dropped at a cap,
/// connections refused or made), bounded per cause: the first of an episode is written whole, the
/// rest of the next `windowSeconds` only counted, and said in one line at its end ("... 3,569 more
/// in the last 10 s"); a client that goes has its counts written then. So no client, however fast it
/// repeats the same mistake, makes the log grow by more than two lines per cause every ten
/// seconds. Loop thread only.
final class ClientLog {
    static let windowSeconds = 10

    /// Who a line is about: a connection, or 0 for a cause of no one connection's (a refusal before
    /// one exists, whose cause names the peer's uid where it matters).
    struct Key: Hashable {
        let cause: String
        let client: UInt64
    }

    private struct Episode {
        var suppressed = 0
        let timer: Int
        let level: LogLevel
        let connection: UInt64?
    }

    private var episodes: [Key: Episode] = [:]
    private let logger: Logger
    private unowned let loop: EventLoop

    init(logger: Logger, loop: EventLoop) {
        self.logger = logger
        self.loop = loop
    }

    /// Writes `message` at `level` unless an episode of `cause` for `client` is under way (then
    /// counts it). `connection` is the id the line names, if any.
    func log(
        _ level: LogLevel, cause: String, client: UInt64, connection: UInt64?, _ message: @autoclosure () -> String
    ) {
        guard level >= logger.level else { return }
        let key = Key(cause: cause, client: client)
        if episodes[key] != nil {
            episodes[key]?.suppressed += 1
            return
        }
        logger.log(level, message(), connection)
        let timer = loop.schedule(after: Double(Self.windowSeconds)) { [weak self] in self?.end(key) }
        episodes[key] = Episode(timer: timer, level: level, connection: connection)
    }

    /// The client of `connection` went: its episodes end now, their counts written.
    func clientGone(_ connection: UInt64) {
        for key in episodes.keys where key.client == connection {
            if let episode = episodes[key] { loop.cancelTimer(episode.timer) }
            end(key)
        }
    }

    private func end(_ key: Key) {
        guard let episode = episodes.removeValue(forKey: key), episode.suppressed > 0 else { return }
        logger.log(
            episode.level, "\(key.cause): \(Self.grouped(episode.suppressed)) more in the last \(Self.windowSeconds) s",
            episode.connection)
    }

    /// 3569 as "3,569".
    static func grouped(_ n: Int) -> String {
        var text = String(n)
        var index = text.count - 3
        while index > 0 {
            text.insert(",", at: text.index(text.startIndex, offsetBy: index))
            index -= 3
        }
        return text
    }
}
