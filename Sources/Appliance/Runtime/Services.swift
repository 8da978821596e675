// Services.swift: every long-running part as a swift-service-lifecycle `Service`, so each daemon command (and
// `decnet up`, which runs them all) is one `ServiceGroup`: SIGTERM/SIGINT start a graceful shutdown that every
// service sees, SIGHUP reopens log files, a bus stop intent triggers the same graceful shutdown, and the group
// returns only after every service has flushed what it queued.
// The C decode thread and the decoys' accept loops stay threads: `ThreadService` runs such a blocking body on
// its own thread and turns graceful shutdown into the body's own stop call.
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// A blocking `run()` with a `stop()` that makes it return, run on a dedicated thread.
public struct ThreadService: Service, CustomStringConvertible {
    public let name: String
    private let body: @Sendable () throws -> Void
    private let stop: @Sendable () -> Void

    public init(name: String, run body: @escaping @Sendable () throws -> Void, stop: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
        self.stop = stop
    }

    public var description: String { name }

    public func run() async throws {
        let body = self.body
        let name = self.name
        // Shutdown may come before the thread starts: stop() must then make the body return at once, which
        // every body here honours (their stop flags are checked before the first wait).
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                _ = spawnThread(name: String("decnet-\(name)".prefix(15))) {
                    do { try body(); c.resume() } catch { c.resume(throwing: error) }
                }
            }
        } onGracefulShutdown: {
            stop()
        }
    }
}

/// SIGHUP → `reopen` for every registered part (logrotate's postrotate), for as long as the group runs.
public struct ReopenOnHangupService: Service {
    private let reopen: @Sendable () -> Void
    public init(reopen: @escaping @Sendable () -> Void) { self.reopen = reopen }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withTaskCancellationHandler {
            for await _ in signals.cancelOnGracefulShutdown() { reopen() }
        } onCancel: {
        }
    }
}

/// Waits for `{"action":"stop"}` on `system.<worker>.control` and then shuts the whole group down gracefully
/// (the same path as SIGTERM). Ends quietly on shutdown.
public struct StopIntentService: Service {
    let bus: any Bus
    let worker: String
    let shutdown: @Sendable () async -> Void

    public init(bus: any Bus, worker: String, shutdown: @escaping @Sendable () async -> Void) {
        self.bus = bus
        self.worker = worker
        self.shutdown = shutdown
    }

    public func run() async throws {
        let bus = self.bus, worker = self.worker
        let asked = await cancelWhenGracefulShutdown { await waitForStopIntent(bus: bus, worker: worker) }
        if asked != nil { await shutdown() } else { try? await gracefulShutdown() }
    }
}

/// The bus health heartbeat of one worker (`system.health.<worker>`), until shutdown.
public struct HeartbeatService: Service {
    let bus: (any Bus)?
    let worker: String
    let extra: (@Sendable () throws -> [(String, JSONValue)])?

    public init(bus: (any Bus)?, worker: String, extra: (@Sendable () throws -> [(String, JSONValue)])? = nil) {
        self.bus = bus
        self.worker = worker
        self.extra = extra
    }

    public func run() async throws {
        let bus = self.bus, worker = self.worker, extra = self.extra
        await cancelWhenGracefulShutdown { await runHealthHeartbeat(bus: bus, worker: worker, extra: extra) }
    }
}

/// The local broker (`decnet bus`): listening while the group runs, closed on shutdown.
public struct BusBrokerService: Service {
    public let server: BusServer
    let started: Bool
    /// `started`: the caller already called `start()` (to report a bind failure before the group runs).
    public init(server: BusServer, started: Bool = false) {
        self.server = server
        self.started = started
    }

    public func run() async throws {
        if !started { try server.start() }
        try? await gracefulShutdown()
        server.close()
    }
}

/// A bus client that closes (flushing what it queued) when the group shuts down: every other service that
/// publishes on it has stopped by then, because this one is registered first and the group stops in reverse.
public struct BusClientService: Service {
    public let bus: any Bus
    public init(bus: any Bus) { self.bus = bus }

    public func run() async throws {
        if let u = bus as? UnixSocketBus { try? await u.connect() }
        try? await gracefulShutdown()
        await bus.close()
    }
}

/// One daemon's group: the services in start order (they stop in reverse), SIGTERM/SIGINT graceful, a second
/// signal cancels. `decnet up` and every daemon command use this.
public enum DaemonGroup {
    public static func run(_ services: [any Service], logger: Logger) async throws {
        var config = ServiceGroupConfiguration(
            services: services.map {
                .init(
                    service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        config.cancellationSignals = []
        config.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: config)
        try await group.run()
    }

    /// Like `run`, with the group handed to `build` so services (a stop intent) can shut it down.
    public static func run(logger: Logger, _ build: (_ shutdown: @escaping @Sendable () async -> Void) -> [any Service]) async throws {
        let holder = GroupHolder()
        let services = build { await holder.shutdown() }
        var config = ServiceGroupConfiguration(
            services: services.map {
                .init(
                    service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: config)
        await holder.set(group)
        try await group.run()
    }
}

private actor GroupHolder {
    var group: ServiceGroup?
    func set(_ g: ServiceGroup) { group = g }
    func shutdown() async { await group?.triggerGracefulShutdown() }
}

/// A value a service's thread hands back to the command after the group ends.
public final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var stored: T?
    public init() {}
    public func set(_ v: T) { lock.withLock { stored = v } }
    public var value: T? { lock.withLock { stored } }
}

/// The mutator loop's services: the loop on its thread, bus-requested mutations, heartbeat, stop intents.
public enum MutatorServices {
    public static func services(loop: MutatorLoop, bus: (any Bus)?, shutdown: @escaping @Sendable () async -> Void) -> [any Service] {
        var services: [any Service] = []
        if let bus { services.append(BusClientService(bus: bus)) }
        services.append(HeartbeatService(bus: bus, worker: "mutator"))
        services.append(ThreadService(name: "mutator", run: { loop.run() }, stop: { loop.stop() }))
        if let bus {
            services.append(TaskService(name: "mutator.follow") { await loop.follow(bus: bus) })
            services.append(StopIntentService(bus: bus, worker: "mutator", shutdown: shutdown))
        }
        return services
    }
}

/// An async body that runs until shutdown (cancelled then).
public struct TaskService: Service {
    let name: String
    let body: @Sendable () async -> Void
    public init(name: String, _ body: @escaping @Sendable () async -> Void) {
        self.name = name
        self.body = body
    }
    public func run() async throws {
        let body = self.body
        await cancelWhenGracefulShutdown { await body() }
        try? await gracefulShutdown()
    }
}
