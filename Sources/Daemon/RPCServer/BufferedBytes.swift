/// What every connection holds in memory together, the socket's and other fronts': incomplete
/// requests and unwritten replies, against the overall caps (`--max-buffered-input`,
/// `--max-buffered-output`). Each connection keeps a reference and updates it per message, without
/// going through the server (loop thread only).
public final class BufferedBytes {
    public var input = 0
    public var output = 0
    public let maxInput: Int
    public let maxOutput: Int

    init(maxInput: Int, maxOutput: Int) {
        self.maxInput = maxInput
        self.maxOutput = maxOutput
    }
}
