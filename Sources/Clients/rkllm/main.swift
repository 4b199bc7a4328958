import Foundation

// rkllm: the command-line client of rkllm-server. `rkllm help` lists what it does.

let subcommands: [Subcommand] = [
    Chat.command, Generate.command, RunModel.command, Listings.models, Listings.ps, Listings.info, Listings.stats,
    Listings.coverage, Bench.command,
]

func overview() -> String {
    var text = "usage: rkllm SUBCOMMAND [ARGUMENTS] [--socket PATH]\n\n"
    let width = subcommands.map(\.name.count).max() ?? 0
    for command in subcommands {
        text += "  " + command.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(command.summary)\n"
    }
    text += "\n`rkllm SUBCOMMAND --help` tells more. Exit status:\n"
    for status in ExitStatus.allCases { text += "  \(status.rawValue)  \(status.meaning)\n" }
    return text
}

func main(_ given: [String]) async -> ExitStatus {
    // The socket may be named before the subcommand too.
    var words = given[...]
    var leading: [String] = []
    while let first = words.first, first == "--socket" || first.hasPrefix("--socket=") {
        let taken = first == "--socket" ? 2 : 1
        leading += words.prefix(taken)
        words = words.dropFirst(taken)
    }
    guard let name = words.first, !["help", "--help", "-h"].contains(name) else {
        Console.out(overview())
        return words.isEmpty ? .usage : .success
    }
    guard let command = subcommands.first(where: { $0.name == name }) else {
        Console.note("rkllm: no subcommand \(name)\n\n" + overview())
        return .usage
    }
    do {
        let arguments = try Arguments(words.dropFirst() + leading, options: command.options + Subcommand.common)
        if arguments.flag("help") {
            Console.out(command.usage)
            return .success
        }
        try await command.run(Invocation(arguments: arguments))
        return .success
    } catch {
        let failure = CommandFailure.from(error)
        Console.note("rkllm \(name): \(failure.message)")
        if failure.status == .usage { Console.note(command.usage) }
        return failure.status
    }
}

exit(await main(Array(CommandLine.arguments.dropFirst())).rawValue)
