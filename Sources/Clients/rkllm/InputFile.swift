import Foundation
import RKClient

/// An input file of `rkllm run`: a binary PPM (P6, or P5 for one channel) taken as 8-bit NHWC, or
/// raw bytes of a given element type and layout. Its size is checked against the model's input.
enum InputFile {
    /// Element types by the name a user gives, with their size in bytes.
    static let types: [String: (name: String, size: Int)] = [
        "uint8": ("RKNN_TENSOR_UINT8", 1), "int8": ("RKNN_TENSOR_INT8", 1), "float16": ("RKNN_TENSOR_FLOAT16", 2),
        "float32": ("RKNN_TENSOR_FLOAT32", 4), "int16": ("RKNN_TENSOR_INT16", 2), "uint16": ("RKNN_TENSOR_UINT16", 2),
        "int32": ("RKNN_TENSOR_INT32", 4), "uint32": ("RKNN_TENSOR_UINT32", 4), "int64": ("RKNN_TENSOR_INT64", 8),
        "bool": ("RKNN_TENSOR_BOOL", 1),
    ]
    static let formats = ["nhwc": "RKNN_TENSOR_NHWC", "nchw": "RKNN_TENSOR_NCHW"]

    /// `rawType`, `rawFormat`: how a raw file's bytes are laid out (nil: as the model's input is).
    static func read(_ path: String, for tensor: Model.Tensor, rawType: String?, rawFormat: String?) throws
        -> Model.Input
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read \(path)", .badInput)
        }
        let bytes = [UInt8](data)
        if bytes.starts(with: Array("P6".utf8)) || bytes.starts(with: Array("P5".utf8)) {
            return try image(bytes, path, for: tensor)
        }
        let typeName = rawType?.lowercased() ?? types.first { $0.value.name == tensor.type }?.key ?? "uint8"
        let formatName = rawFormat?.lowercased() ?? formats.first { $0.value == tensor.format }?.key ?? "nhwc"
        guard let type = types[typeName], let format = formats[formatName] else {
            throw CommandFailure(
                "--type takes \(types.keys.sorted().joined(separator: ", ")); --format nhwc or nchw", .usage)
        }
        let expected = tensor.shape.reduce(1, *) * type.size
        guard bytes.count == expected else {
            throw CommandFailure(
                "\(path) has \(bytes.count) bytes; the model's input \(tensor.name) \(tensor.shape) takes \(expected) bytes of \(typeName)",
                .badInput)
        }
        return Model.Input(bytes: bytes, type: type.name, format: format)
    }

    /// A binary PPM/PGM: header words (comments skipped), then width x height x channels bytes.
    private static func image(_ bytes: [UInt8], _ path: String, for tensor: Model.Tensor) throws -> Model.Input {
        let channels = bytes[1] == UInt8(ascii: "6") ? 3 : 1
        var position = 2
        var words: [Int] = []
        while words.count < 3 {
            while position < bytes.count, bytes[position] == UInt8(ascii: "#") || isSpace(bytes[position]) {
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count, bytes[position] != 0x0A { position += 1 }
                }
                position += 1
            }
            let start = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            guard position > start, position - start < 7,
                let number = Int(String(decoding: bytes[start..<position], as: UTF8.self))
            else { throw CommandFailure("\(path) is not a binary PPM/PGM image", .badInput) }
            words.append(number)
        }
        let (width, height, maximum) = (words[0], words[1], words[2])
        position += 1  // the one space after the header
        guard maximum > 0, maximum < 256 else {
            throw CommandFailure("\(path) has \(maximum + 1) levels a channel; 8-bit images only", .badInput)
        }
        guard bytes.count - position >= width * height * channels else {
            throw CommandFailure("\(path) ends before its \(width)x\(height) pixels", .badInput)
        }
        let wanted = pictureSize(tensor)
        guard let wanted, wanted == (height, width, channels) else {
            let takes = wanted.map { "\($0.width)x\($0.height) with \($0.channels) channel(s)" } ?? "no image"
            throw CommandFailure(
                "\(path) is \(width)x\(height) with \(channels) channel(s); the model's input \(tensor.name) takes \(takes) (resize it first)",
                .badInput)
        }
        return Model.Input(bytes: Array(bytes[position..<(position + width * height * channels)]))
    }

    /// A 4-dimensional input's height, width and channels, by its layout.
    private static func pictureSize(_ tensor: Model.Tensor) -> (height: Int, width: Int, channels: Int)? {
        guard tensor.shape.count == 4 else { return nil }
        let s = tensor.shape
        return tensor.format == "RKNN_TENSOR_NCHW" ? (s[2], s[3], s[1]) : (s[1], s[2], s[3])
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
}
