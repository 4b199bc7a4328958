/// The members the daemon's protocol adds to the messages and the answer of a call, named once for
/// the daemon, its clients and the generated callbacks (the headers cannot know them).
public enum StreamMember {
    /// A stream's answer: why it ended (`StreamEnding`).
    public static let ended = "_ended"
    /// A queued stream's first message: its place in the queue (1 = next).
    public static let queuePosition = "_queue_position"
    /// Sent every second while a shared object loads: how long it has loaded, and who goes first.
    public static let loading = "_loading"
    /// A callback message's state, by number (the generated trampolines write it).
    public static let callbackState = "_callback_state"
}

/// Why a stream ended, as its answer's `_ended` says: its runtime finished it or failed (the
/// answer carries the runtime's `code`), a client stopped it (abort, `$/cancelRequest`) or paused
/// it (a later call goes on with it), or a limit the annotations name was met (`max_tokens`).
public enum StreamEnding: Equatable, Hashable, Sendable {
    case finished, error, aborted, cancelled, paused
    /// The annotations' `stream_limit`: its ending's name.
    case limit(String)

    /// The endings every stream can have (a limit's and `paused` are a method's own).
    public static let common: [StreamEnding] = [.finished, .error, .aborted, .cancelled]

    public var name: String {
        switch self {
        case .finished: "finished"
        case .error: "error"
        case .aborted: "aborted"
        case .cancelled: "cancelled"
        case .paused: "paused"
        case .limit(let name): name
        }
    }

    /// The ending `_ended` names; any other name is a limit's.
    public init(name: String) {
        self = (Self.common + [.paused]).first { $0.name == name } ?? .limit(name)
    }
}
