import Foundation
import RKNNBindings
import RuntimeHost

/// The runtime host process of RKNN libraries: the daemon starts it for each of RKNN's host processes.
exit(HostMain.runIfRuntimeHost(Array(CommandLine.arguments.dropFirst()), runtimes: [HostedRuntimes.rknn]) ?? 2)
