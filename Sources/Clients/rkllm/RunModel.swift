import Foundation
import RKClient

/// `rkllm run MODEL FILE...`: an RKNN model run once on files, its outputs printed or written.
enum RunModel {
    static let command = Subcommand(
        name: "run", synopsis: "MODEL FILE...",
        summary: "run an RKNN model on image (PPM) or raw files, one per input; print or write its outputs",
        options: [
            .value("out", "DIR", "write each output as raw float32 to DIR/NAME.f32 instead of printing it"),
            .value("core-mask", "N", "the NPU cores to run on (rknn_core_mask: 1, 2, 4, 3, 7)"),
            .value(
                "type", "TYPE", "a raw file's element type (default: the input's): uint8, int8, float16, float32, ..."),
            .value("format", "LAYOUT", "a raw file's layout (default: the input's, else nhwc): nhwc or nchw"),
            .value("values", "N", "values printed of each output (default 8)"),
        ], run: run)

    static func run(_ invocation: Invocation) async throws {
        let arguments = invocation.arguments
        let name = try invocation.positional(0, "the model (a name from `rkllm models`, or a path)")
        let files = Array(arguments.positional.dropFirst())
        let shown = try arguments.int("values") ?? 8
        let client = try invocation.connect()
        let progress = LoadingProgress(model: name)
        let model = try await Model(
            name, client: client, coreMask: try arguments.int("core-mask"), loading: progress.report)
        progress.finish()
        guard files.count == model.inputs.count else {
            let names = model.inputs.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")
            throw CommandFailure(
                "\(name) takes \(model.inputs.count) input(s) (\(names)); \(files.count) file(s) given", .usage)
        }
        let inputs = try zip(files, model.inputs).map { file, tensor in
            try InputFile.read(
                file, for: tensor, rawType: arguments.value("type"), rawFormat: arguments.value("format"))
        }
        let outputs = try await model.run(inputs: inputs)
        for (tensor, values) in zip(model.outputs, outputs) {
            if let directory = arguments.value("out") {
                let path = URL(fileURLWithPath: directory).appending(path: "\(tensor.name).f32").path
                let data = values.withUnsafeBufferPointer { Data(buffer: $0) }
                guard FileManager.default.createFile(atPath: path, contents: data) else {
                    throw CommandFailure("cannot write \(path)", .badInput)
                }
                Console.line("\(tensor.name) \(tensor.shape) -> \(path)")
            } else {
                Console.line(summary(tensor, values, shown: shown))
            }
        }
        try await model.close()
    }

    /// An output's name, shape, range and mean, and its first values.
    static func summary(_ tensor: Model.Tensor, _ values: [Float], shown: Int) -> String {
        let mean = values.isEmpty ? 0 : values.reduce(0, +) / Float(values.count)
        let first = values.prefix(shown).map { String(format: "%.4g", $0) }.joined(separator: " ")
        let range = String(format: "min %.4g max %.4g mean %.4g", values.min() ?? 0, values.max() ?? 0, mean)
        return "\(tensor.name) \(tensor.shape) \(range): \(first)" + (values.count > shown ? " ..." : "")
    }
}
