/// What every connection holds in memory together: incomplete request lines and unwritten replies,
/// against the overall caps (`--max-buffered-input`, `--max-buffered-output`). Each connection
/// keeps a reference and updates it per message, without going through the server (loop thread
/// only).
final class BufferedBytes {
    var input = 0
    var output = 0
    let maxInput: Int
    let maxOutput: Int

    init(maxInput: Int, maxOutput: Int) {
        self.maxInput = maxInput
        self.maxOutput = maxOutput
    }
}
