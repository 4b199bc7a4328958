import Foundation

/// Standard input, line by line, read by a thread of its own (a blocking read never holds a task's
/// thread); the stream ends at end of input, and so does the thread.
enum StandardInput {
    static func lines() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let reader = Thread {
            while let line = readLine() { continuation.yield(line) }
            continuation.finish()
        }
        reader.name = "rkllm stdin"
        reader.start()
        return stream
    }

    /// All of standard input (a prompt piped to `rkllm generate`).
    static func all() -> String {
        String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
}
