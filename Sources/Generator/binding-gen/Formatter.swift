import Foundation

/// Formats generated Swift with the toolchain's `swift-format` and the repository's configuration,
/// so generated code reads like the hand-written.
struct Formatter {
    let executable: String
    let configuration: String?

    func format(_ source: String, name: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["format"] + (configuration.map { ["--configuration", $0] } ?? [])
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Written from another thread: a large file would fill the pipe while its output waits.
        let source = Data(source.utf8)
        let writer = Thread {
            input.fileHandleForWriting.write(source)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let formatted = output.fileHandleForReading.readDataToEndOfFile()
        let complaints = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw UsageError("swift-format could not format \(name): \(String(decoding: complaints, as: UTF8.self))")
        }
        return String(decoding: formatted, as: UTF8.self)
    }
}
