import Foundation

/// rkllm-sim-model: writes the files of the simulated RKLLM runtime (docs/SIMULATED_RUNTIMES.md).
///
///   rkllm-sim-model model --out FILE [--name N] [--greeting G] [--words "w1 w2 ..."] [--embd-size 32]
///                         [--load-ms 300] [--memory-mb 512] [--system-prompt S] [--prompt-prefix P]
///                         [--prompt-postfix P] [--init-error C] [--run-error C] [--hang-at-token N]
///                         [--crash-at-token N]
///   rkllm-sim-model lora --out FILE --tag T
///
/// Without options, `model` writes the demo model shipped as models/demo.rkllm.
/// The format: a `<magic> 1` line, `key=value` lines (\n, \t and \\ escaped), and a last line
/// `checksum=` with the FNV-1a 64 of every byte before it, in 16 hex digits.
enum FileKind: String {
    case model = "rkllm-sim-model"
    case lora = "rkllm-sim-lora"

    /// Keys, in file order, with the demo model's values; nil = written only when given.
    var keys: [(key: String, demo: String?)] {
        switch self {
        case .model:
            return [
                ("name", "demo"), ("greeting", "Hello from the demo model, ça va? 你好"),
                ("words", "Hello from the demo model you said hello world a the is and of to in it what how"),
                ("embd_size", "32"), ("load_ms", "300"), ("memory_mb", "512"),
                ("system_prompt", "You are a helpful assistant."),
                ("prompt_prefix", "<|user|>\n"), ("prompt_postfix", "\n<|assistant|>\n"),
                ("init_error", nil), ("run_error", nil), ("hang_at_token", nil), ("crash_at_token", nil),
            ]
        case .lora:
            return [("tag", nil)]
        }
    }
}

func escape(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        .replacingOccurrences(of: "\t", with: "\\t")
}

func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("rkllm-sim-model: \(message)\n".utf8))
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
guard let kindName = arguments.popFirst(), let kind = kindName == "model" ? FileKind.model : kindName == "lora" ? .lora : nil else {
    fail("usage: rkllm-sim-model model|lora --out FILE [--key value ...]")
}
var given: [String: String] = [:]
var output: String?
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else { fail("\(flag): expected --option value") }
    let key = String(flag.dropFirst(2)).replacingOccurrences(of: "-", with: "_")
    if key == "out" { output = value; continue }
    guard kind.keys.contains(where: { $0.key == key }) else { fail("unknown option \(flag) for \(kindName)") }
    given[key] = value
}
guard let output else { fail("--out FILE is required") }

var text = "\(kind.rawValue) 1\n"
for (key, demo) in kind.keys {
    guard let value = given[key] ?? demo else {
        if kind == .lora { fail("--\(key) is required") }
        continue
    }
    text += "\(key)=\(escape(value))\n"
}
text += "checksum=" + String(format: "%016llx", fnv1a(Array(text.utf8))) + "\n"
do {
    try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
} catch {
    fail("\(output): \(error.localizedDescription)")
}
