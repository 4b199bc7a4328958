import Foundation
import RKClient

/// One of `rkllm`'s subcommands: its name, what it takes, what it does.
struct Subcommand: Sendable {
    let name: String
    /// The positional arguments, as the usage shows them (`MODEL [PROMPT...]`).
    let synopsis: String
    let summary: String
    let options: [Option]
    let run: @Sendable (Invocation) async throws -> Void

    /// Options every subcommand takes.
    static let common: [Option] = [
        .value(
            "socket", "PATH",
            "the daemon's socket (default: $RKLLM_UDS_PATH, else /run/rkllm-server.sock if there, else /tmp/rkllm.sock)"
        ),
        .flag("help", "this text"),
    ]

    var usage: String {
        var text = "usage: rkllm \(name) \(synopsis)".trimmingCharacters(in: .whitespaces) + "\n\(summary)\n"
        let all = options + Self.common
        let names = all.map { "--\($0.name)" + ($0.placeholder.isEmpty ? "" : " \($0.placeholder)") }
        let width = names.map(\.count).max() ?? 0
        for (option, name) in zip(all, names) {
            text += "  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(option.help)\n"
        }
        return text
    }
}

/// A subcommand's run: its arguments, and the daemon's connection when it needs one.
struct Invocation: @unchecked Sendable {
    let arguments: Arguments

    var socket: String { arguments.value("socket") ?? RKClient.defaultSocket }

    func connect() throws -> RKClient { try RKClient(socket: socket) }

    /// The positional argument at `index`, or a usage error naming it.
    func positional(_ index: Int, _ what: String) throws -> String {
        guard index < arguments.positional.count else { throw CommandFailure("missing \(what)", .usage) }
        return arguments.positional[index]
    }
}
