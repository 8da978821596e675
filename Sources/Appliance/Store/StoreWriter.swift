// StoreWriter.swift: the one batching writer thread every producer submits events to.
#if canImport(Glibc)
import Glibc
#endif

/// The store's one writer: producers on any thread `submit` items; a dedicated thread folds them into
/// transactions of up to `maxBatch` items, committing when a batch is full or `maxDelay` seconds after its
/// first item. Submitting never blocks: past `capacity` pending items, new items are dropped and counted
/// (capture must never wait on disk).
///
/// Crash semantics: everything `committed` counts is on disk (WAL, survives `kill -9`). At most the
/// pending queue (≤ `capacity`) plus the batch in flight (≤ `maxBatch`) is lost by a crash.
public final class StoreWriter: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var maxBatch: Int = 5_000
        public var maxDelay: Double = 0.25
        public var capacity: Int = 100_000
        /// A failed commit is retried this many times (with 50 ms, 100 ms, ... backoff) before its items
        /// are counted as `failed` and dropped.
        public var retries: Int = 3

        public init(maxBatch: Int = 5_000, maxDelay: Double = 0.25, capacity: Int = 100_000, retries: Int = 3) {
            self.maxBatch = maxBatch
            self.maxDelay = maxDelay
            self.capacity = capacity
            self.retries = retries
        }
    }

    public struct Stats: Sendable, Equatable {
        public var submitted: Int = 0
        public var committed: Int = 0
        public var batches: Int = 0
        public var dropped: Int = 0
        public var failed: Int = 0
        public var pending: Int = 0
        /// True from a batch that could not be committed after its retries until the next commit succeeds.
        public var failing: Bool = false
    }

    public let repository: any EventRepository
    public let configuration: Configuration
    /// Called on the writer thread after each commit with the number of items committed.
    private let onCommit: (@Sendable (Int) -> Void)?
    private let onError: (@Sendable (String) -> Void)?
    /// Called once per change between writing and failing (the default logs it, once, on stderr).
    private let onStateChange: @Sendable (_ failing: Bool, _ reason: String) -> Void
    private var lastError = ""

    private let cond = ConditionMutex()
    private var pending = StoreBatch()
    private var firstPendingAt = 0.0
    private var stats = Stats()
    private var closing = false
    private var inFlight = 0
    private var flushWaiters = 0
    private var thread: pthread_t?

    public init(repository: any EventRepository, configuration: Configuration = Configuration(),
                onCommit: (@Sendable (Int) -> Void)? = nil, onError: (@Sendable (String) -> Void)? = nil,
                onStateChange: (@Sendable (_ failing: Bool, _ reason: String) -> Void)? = nil) {
        self.repository = repository
        self.configuration = configuration
        self.onCommit = onCommit
        self.onError = onError
        self.onStateChange = onStateChange ?? { failing, reason in
            let log = ProcessLog("store")
            if failing { log.error(reason) } else { log.info(reason) }
        }
        thread = spawnThread(name: "store-writer") { [unowned self] in self.run() }
    }

    /// Queues items for the next transaction. Returns false (and counts them dropped) when the queue is full
    /// or the writer is closed.
    @discardableResult
    public func submit(_ batch: StoreBatch) -> Bool {
        let n = batch.count
        if n == 0 { return true }
        return cond.withLock {
            stats.submitted += n
            if closing || pending.count + n > configuration.capacity {
                stats.dropped += n
                return false
            }
            if pending.isEmpty { firstPendingAt = monotonicSeconds() }
            pending.append(contentsOf: batch)
            if pending.count >= configuration.maxBatch { cond.broadcast() }
            return true
        }
    }

    @discardableResult
    public func submit(_ log: LogRecord) -> Bool { submit(StoreBatch(logs: [log])) }

    public var statistics: Stats {
        cond.withLock {
            var s = stats
            s.pending = pending.count + inFlight
            return s
        }
    }

    /// Blocks until everything submitted before the call is committed (or failed).
    /// Blocks the caller while more than `limit` items wait (a benchmark's producer that must not drop).
    public func waitUntilPending(atMost limit: Int) {
        cond.withLock { while pending.count + inFlight > limit { cond.wait(seconds: 0.05) } }
    }

    public func flush() {
        cond.withLock {
            flushWaiters += 1
            cond.broadcast()
            while !pending.isEmpty || inFlight > 0 { cond.wait(seconds: 0.05) }
            flushWaiters -= 1
        }
    }

    /// Blocks until `close()` has been called (a service whose life is the writer's).
    public func waitUntilClosed() {
        cond.withLock { while !closing { cond.wait(seconds: 1) } }
    }

    /// Commits what is pending and stops the thread. Idempotent.
    public func close() {
        let t: pthread_t? = cond.withLock {
            closing = true
            cond.broadcast()
            let t = thread
            thread = nil
            return t
        }
        if let t { joinThread(t) }
    }

    deinit { close() }

    private func run() {
        while true {
            var batch = StoreBatch()
            let stop: Bool = cond.withLock {
                while true {
                    if pending.isEmpty {
                        if closing { return true }
                        cond.wait(seconds: 1)
                        continue
                    }
                    let age = monotonicSeconds() - firstPendingAt
                    if closing || flushWaiters > 0 || pending.count >= configuration.maxBatch || age >= configuration.maxDelay {
                        break
                    }
                    cond.wait(seconds: configuration.maxDelay - age)
                }
                batch = take(configuration.maxBatch)
                inFlight = batch.count
                return false
            }
            if stop { return }
            let committed = commit(batch)
            // The callback runs before the batch stops counting as in flight, so `flush()` returning means
            // every callback for what it waited on has run.
            if committed { onCommit?(batch.count) }
            let change: (Bool, String)? = cond.withLock {
                inFlight = 0
                var change: (Bool, String)? = nil
                if committed {
                    stats.committed += batch.count
                    stats.batches += 1
                    if stats.failing {
                        stats.failing = false
                        change = (false, "store: writing again (\(stats.failed) items were lost while it failed)")
                    }
                } else {
                    stats.failed += batch.count
                    if !stats.failing {
                        stats.failing = true
                        change = (true, "store: cannot write to \(repository.location): \(lastError); new events are dropped and counted until it can")
                    }
                }
                cond.broadcast()
                return change
            }
            if let change { onStateChange(change.0, change.1) }
        }
    }

    /// Removes up to `limit` items from `pending` (lock held), oldest first, logs before the others.
    private func take(_ limit: Int) -> StoreBatch {
        if pending.count <= limit {
            let all = pending
            pending = StoreBatch()
            return all
        }
        var out = StoreBatch()
        var room = limit
        func cut<T>(_ a: inout [T]) -> [T] {
            let k = min(room, a.count)
            room -= k
            let head = Array(a.prefix(k))
            a.removeFirst(k)
            return head
        }
        out.logs = cut(&pending.logs)
        out.bounty = cut(&pending.bounty)
        out.credentials = cut(&pending.credentials)
        out.artifacts = cut(&pending.artifacts)
        if !pending.isEmpty { firstPendingAt = monotonicSeconds() }
        return out
    }

    private func commit(_ batch: StoreBatch) -> Bool {
        var delay = 0.05
        for attempt in 0...configuration.retries {
            do {
                try repository.write(batch)
                return true
            } catch {
                cond.withLock { lastError = SQLiteStore.describe(error) }
                onError?("store: commit of \(batch.count) items failed (attempt \(attempt + 1)): \(error)")
                if attempt < configuration.retries {
                    pauseThread(seconds: delay)   // retry backoff on the writer's own thread
                    delay *= 2
                }
            }
        }
        return false
    }
}
