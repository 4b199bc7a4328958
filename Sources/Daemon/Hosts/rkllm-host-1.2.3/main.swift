import Foundation
import RKLLMBindings_1_2_3
import RuntimeHost

/// The runtime host process of RKLLM 1.2.3 libraries: the daemon starts it for a library of that version.
exit(HostMain.runIfRuntimeHost(Array(CommandLine.arguments.dropFirst()), runtimes: [HostedRuntimes.rkllm]) ?? 2)
