import BindingRuntime
import RKClient

/// What `rkllm` exits with, for scripts to test (`rkllm help` lists them).
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    /// The daemon answered with an error.
    case failed = 1
    /// The command line is wrong.
    case usage = 2
    /// No daemon listens on the socket.
    case notRunning = 3
    /// The socket is not this user's to use.
    case notPermitted = 4
    /// The daemon has no library for the runtime the command needs.
    case runtimeMissing = 5
    /// An input file cannot be read or does not fit the model.
    case badInput = 6
    /// Ctrl-C ended the command.
    case interrupted = 130

    var meaning: String {
        switch self {
        case .success: "done"
        case .failed: "the daemon answered with an error"
        case .usage: "the command line is wrong"
        case .notRunning: "rkllm-server is not running (nothing listens on the socket)"
        case .notPermitted: "not permitted to use the socket"
        case .runtimeMissing: "the daemon has no library for the runtime"
        case .badInput: "an input file cannot be read or does not fit the model"
        case .interrupted: "interrupted by Ctrl-C"
        }
    }
}

/// Why a command stopped: one line for the user, and the status for scripts.
struct CommandFailure: Error {
    let message: String
    let status: ExitStatus

    init(_ message: String, _ status: ExitStatus) {
        (self.message, self.status) = (message, status)
    }

    /// Any error in the words a user can act on.
    static func from(_ error: Error) -> CommandFailure {
        switch error {
        case let failure as CommandFailure:
            return failure
        case let failure as ConnectionFailure:
            switch failure.reason {
            case .notRunning:
                return CommandFailure(
                    "\(failure) (start it, or name its socket with --socket or RKLLM_UDS_PATH)", .notRunning)
            case .notPermitted: return CommandFailure("\(failure)", .notPermitted)
            case .other: return CommandFailure("\(failure)", .notRunning)
            }
        case let error as RPCError where error.code == RPCError.Code.runtimeNotAvailable:
            return CommandFailure("the daemon cannot serve this: \(error.message)", .runtimeMissing)
        case let error as RPCError:
            // The daemon's message, what the runtime's code means when it does not say, and what
            // the call was given (which model, which settings).
            var line = error.message
            if let meaning = error.data?["meaning"]?.stringValue, !line.contains(meaning) { line += ": \(meaning)" }
            if let given = error.data?["arguments"] { line += "; given \(given.jsonText)" }
            return CommandFailure(line + " (\(error.code))", .failed)
        default:
            return CommandFailure("\(error)", .failed)
        }
    }
}
