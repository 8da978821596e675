// BusCommand.swift: `decnet bus`: the host-local pub/sub broker on a UNIX socket.
import Appliance
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

struct BusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Run the host-local event bus broker (UNIX socket, wire-compatible with DECNET's bus).")

    @Option(name: .long, help: "Socket path (default $DECNET_BUS_SOCKET, /run/decnet/bus.sock, or ~/.decnet/bus.sock).")
    var socket: String?

    @Option(name: .long, help: "Group that may connect (socket mode 0660); empty to keep the process group.")
    var group: String = DecnetConfiguration.current.busGroup

    @Option(name: .long, help: "Seconds between system.bus.health heartbeats.")
    var heartbeat: Double = 10

    func run() throws {
        ProcessLimits.raiseDescriptorLimit()
        confineOrExit(.bus, "bus")        // before the broker's threads: it needs no privilege
        let server = BusServer(path: socket ?? defaultBusSocketPath(), group: group.isEmpty ? nil : group,
                               heartbeatInterval: heartbeat)
        do {
            try server.start()
        } catch {
            stderrLine("decnet bus: \(error)")
            throw ExitCode(2)
        }
        StartupNotes.shared.flush(to: ProcessLog("bus"))
        // TERM/INT: the group's graceful shutdown closes the broker; HUP is ignored (nothing to reopen).
        try runBlocking {
            try await DaemonGroup.run([BusBrokerService(server: server, started: true), ReopenOnHangupService {}], logger: .decnet("bus"))
        }
        let s = server.stats
        stderrLine("decnet bus: stopped; published=\(s.published) delivered=\(s.delivered) dropped=\(s.dropped) protocol_errors=\(s.protocolErrors)")
    }
}
