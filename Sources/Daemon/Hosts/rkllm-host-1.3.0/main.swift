import Foundation
import RKLLMBindings_1_3_0
import RuntimeHost

/// The runtime host process of RKLLM 1.3.0 libraries: the daemon starts it for a library of that version.
exit(HostMain.runIfRuntimeHost(Array(CommandLine.arguments.dropFirst()), runtimes: [HostedRuntimes.rkllm]) ?? 2)
