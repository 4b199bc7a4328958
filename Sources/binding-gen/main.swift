import APIModel
import ClangImport
import Foundation

let args = CommandLine.arguments
let model = try HeaderImporter(headersDirectory: URL(fileURLWithPath: args[2])).run()
let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
FileHandle.standardOutput.write(try enc.encode(model))
