// Mutate.swift: `decnet mutate --all | --id NAME | --watch`: rotate decky services now, or run the mutator loop.
import Appliance
import ArgumentParser
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

struct Mutate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rotate decky services now (--all, --id NAME) or keep them rotating on their intervals (--watch).",
        discussion: """
        A mutation rewrites the decky's recorded services; `decnet serve` swaps the decoys in the running
        namespace within its poll. Each one is logged as an RFC 5424 `decky_mutated` line (--log-file, default
        $DECNET_INGEST_LOG_FILE or /var/log/decnet/decnet.log), stored, and published on decky.<name>.mutation.
        --watch also mutates at once on a decky.<name>.mutate_request bus message.
        """)
    @OptionGroup var fleetOptions: FleetOptions
    @Flag(name: .long, help: "Every decky, now.") var all = false
    @Option(name: .long, help: "One decky, now.") var id: String?
    @Flag(name: .long, help: "Run the mutator loop (scheduled rotation + bus requests).") var watch = false
    @Option(name: .long, help: "Loop poll interval in seconds (--watch).") var poll: Double = 10
    @Option(name: .long, help: "RFC 5424 log file for decky_mutated lines.") var logFile: String?
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Mutate on this box even when an API is configured (--url, DECNET_API_URL).") var local = false

    func validate() throws {
        guard [all, id != nil, watch].filter({ $0 }).count == 1 else { throw ValidationError("give exactly one of --all, --id NAME or --watch") }
    }

    func run() throws {
        if !watch && !local && client.apiConfigured { return try apiMutate(client, id: all ? nil : id) }
        if watch {
            ProcessLimits.raiseDescriptorLimit()
            let db = fleetOptions.db ?? defaultDatabasePath()
            let path = logFile ?? DecnetConfiguration.current.ingestLogFile
            confineOrExit(.mutator, shared: [db, db + ".fleet.lock"] + (path.isEmpty ? [] : [path]), "mutate")
        }
        let (fleet, _) = try fleetOptions.open("mutate")
        let path = logFile ?? DecnetConfiguration.current.ingestLogFile
        // The loop keeps a client that reconnects; one-shot mutations only use a broker that is listening.
        var bus: (any Bus)? = nil
        if watch {
            if let b = try? makeBus(clientName: "mutator"), !(b is NullBus) { bus = b }
            if let u = bus as? UnixSocketBus { blockingConnect(u) }
        } else {
            bus = connectedBusIfListening(clientName: "mutator")
        }
        let mutator = Mutator(fleet: fleet, logPath: path.isEmpty ? nil : path, publish: publishFunction(bus))
        if watch {
            let loop = MutatorLoop(mutator: mutator, poll: poll)
            StartupNotes.shared.flush(to: ProcessLog("mutator"))
            stderrLine("decnet mutate: watching (poll \(poll) s)")
            try runBlocking {
                try await DaemonGroup.run(logger: .decnet("mutator")) { shutdown in
                    MutatorServices.services(loop: loop, bus: bus, shutdown: shutdown)
                }
            }
            return
        }
        let names = all ? ((try? fleet.entries().entries.map(\.spec.name)) ?? []) : [id!]
        if names.isEmpty { stderrLine("decnet mutate: no deckies deployed"); throw ExitCode(66) }
        var failed = false
        for n in names {
            do {
                let m = try mutator.mutate(n, trigger: MutationTrigger.`operator`, actor: ProcessEnvironment.user)
                print("\(n): \(m.oldServices.joined(separator: ",")) -> \(m.newServices.joined(separator: ","))")
            } catch {
                stderrLine("decnet mutate: \(error)")
                failed = true
            }
        }
        // Queued publishes leave before the process exits: close() flushes them and says goodbye.
        if let bus { try? runBlocking { await bus.close() } }
        if failed { throw ExitCode(names.count == 1 ? 66 : 1) }
    }
}

/// Connects a bus client from synchronous code (bounded wait; failure leaves it reconnecting in the background).
func blockingConnect(_ bus: UnixSocketBus) {
    final class Flag: @unchecked Sendable { var done = false }
    let cond = ConditionMutex()
    let flag = Flag()
    Task {
        try? await bus.connect()
        cond.withLock { flag.done = true; cond.signal() }
    }
    cond.withLock { if !flag.done { cond.wait(seconds: 2) } }
}
