import Foundation

/// sim-model: writes the files of the simulated runtimes (docs/SIMULATED_RUNTIMES.md).
///
///   sim-model rkllm --out FILE [--name N] [--greeting G] [--words "w1 w2 ..."] [--embd-size 32]
///                   [--load-ms 300] [--memory-mb 512] [--system-prompt S] [--prompt-prefix P]
///                   [--prompt-postfix P] [--init-error C] [--run-error C] [--hang-at-token N]
///                   [--crash-at-token N]
///   sim-model lora --out FILE --tag T
///   sim-model rknn --out FILE [--preset detector|float|custom] [--name N] [--custom TEXT]
///                  [--input SPEC ...] [--output SPEC ...] [--op-attr SPEC ...] [--shapes "1x320x320x3;1x640x640x3"]
///
/// Without options, `rkllm` writes models/demo.rkllm, `rknn` models/demo.rknn (the detector),
/// `rknn --preset float` models/demo-float.rknn and `rknn --preset custom` models/demo-custom.rknn. Every file: a `<magic> 1` line, `key=value` lines
/// (\n, \t and \\ escaped; `input`/`output` may repeat), and a last line `checksum=` with the
/// FNV-1a 64 of every byte before it, in 16 hex digits.
struct FileKind {
    let magic: String
    /// Keys in file order with their default values (nil: written only when given); repeatable
    /// keys take each value given.
    let keys: [(key: String, defaults: [String])]
    let repeatable: Set<String>

    static let rkllm = FileKind(
        magic: "rkllm-sim-model",
        keys: [
            ("name", ["demo"]), ("greeting", ["Hello from the demo model, ça va? 你好"]),
            ("words", ["Hello from the demo model you said hello world a the is and of to in it what how"]),
            ("embd_size", ["32"]), ("load_ms", ["300"]), ("memory_mb", ["512"]),
            ("system_prompt", ["You are a helpful assistant."]),
            ("prompt_prefix", ["<|user|>\n"]), ("prompt_postfix", ["\n<|assistant|>\n"]),
            ("init_error", []), ("run_error", []), ("hang_at_token", []), ("crash_at_token", []),
        ], repeatable: [])

    static let lora = FileKind(magic: "rkllm-sim-lora", keys: [("tag", [])], repeatable: [])

    /// A detector: one 640x640 RGB frame in, three pooled int8 maps out (strides 8, 16, 32).
    static let detector = FileKind(
        magic: "rknn-sim-model",
        keys: [
            ("name", ["demo-detector"]), ("custom", ["simulated detector: 3 int8 maps pooled at strides 8, 16, 32"]),
            ("input", ["images,UINT8,NHWC,1x640x640x3"]),
            (
                "output",
                [
                    "p8,INT8,NCHW,1x16x80x80,pool,8,0.01,0.0078125,-128",
                    "p16,INT8,NCHW,1x16x40x40,pool,16,0.01,0.0078125,-128",
                    "p32,INT8,NCHW,1x16x20x20,pool,32,0.01,0.0078125,-128",
                ]
            ),
            ("shapes", ["1x320x320x3;1x640x640x3"]),
        ], repeatable: ["input", "output"])

    /// A float model computed by the custom operator cstSigmoid (the example plugin), alpha 2.
    static let custom = FileKind(
        magic: "rknn-sim-model",
        keys: [
            ("name", ["demo-custom"]), ("custom", ["simulated model with a custom operator: y = sigmoid(2x)"]),
            ("input", ["x,FLOAT32,UNDEFINED,1x8"]), ("output", ["y,FLOAT32,UNDEFINED,1x8,custom:cstSigmoid,0,0,1,0"]),
            ("op_attr", ["cstSigmoid,alpha,2"]), ("shapes", []),
        ], repeatable: ["input", "output", "op_attr"])

    /// A float model: y = 2x + 1 over eight values.
    static let float = FileKind(
        magic: "rknn-sim-model",
        keys: [
            ("name", ["demo-float"]), ("custom", ["simulated float model: y = 2x + 1"]),
            ("input", ["x,FLOAT32,UNDEFINED,1x8"]), ("output", ["y,FLOAT32,UNDEFINED,1x8,affine,2,1,1,0"]),
            ("shapes", []),
        ], repeatable: ["input", "output"])
}

func escape(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        .replacingOccurrences(of: "\t", with: "\\t")
}

func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sim-model: \(message)\n".utf8))
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
let command = arguments.popFirst() ?? ""
var given: [String: [String]] = [:]
var output: String?
var preset = "detector"
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else { fail("\(flag): expected --option value") }
    let key = String(flag.dropFirst(2)).replacingOccurrences(of: "-", with: "_")
    switch key {
    case "out": output = value
    case "preset": preset = value
    default: given[key, default: []].append(value)
    }
}
let kind: FileKind
switch (command, preset) {
case ("rkllm", _): kind = .rkllm
case ("lora", _): kind = .lora
case ("rknn", "detector"): kind = .detector
case ("rknn", "float"): kind = .float
case ("rknn", "custom"): kind = .custom
default: fail("usage: sim-model rkllm|lora|rknn --out FILE [--key value ...] (rknn: --preset detector|float|custom)")
}
guard let output else { fail("--out FILE is required") }
for key in given.keys where !kind.keys.contains(where: { $0.key == key }) {
    fail("unknown option --\(key) for \(command)")
}

var text = "\(kind.magic) 1\n"
for (key, defaults) in kind.keys {
    let values = given[key] ?? defaults
    if values.count > 1 && !kind.repeatable.contains(key) { fail("--\(key) given more than once") }
    if values.isEmpty && kind.magic == FileKind.lora.magic { fail("--\(key) is required") }
    for value in values { text += "\(key)=\(escape(value))\n" }
}
text += "checksum=" + String(format: "%016llx", fnv1a(Array(text.utf8))) + "\n"
do {
    try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
} catch {
    fail("\(output): \(error.localizedDescription)")
}
