// RedisDecoy.swift: an unprotected Redis (the mass-exploited kind: CONFIG SET dir/dbfilename, SLAVEOF to a
// rogue master, MODULE LOAD, EVAL). RESP and inline commands with Redis's own limits and error texts
// (by major version), a full INFO of the claimed version, a small in-memory keyspace, and every write,
// replication target and script recorded. Service keys: `version`, `password` (then AUTH is required and
// every attempt is a credential event), `os` (INFO os line).

import Fingerprint

enum RedisEvents {
    static let command = DecoyEvents.spec("redis", "command", ["verb", "args", "argc", "anomaly"])
    static let auth = DecoyEvents.spec("redis", "auth.attempt", [], credential: true)
    static let replication = DecoyEvents.spec("redis", "replication_target", ["host", "port"])
    static let payload = DecoyEvents.spec("redis", "payload", ["verb", "key", "size", "sha256", "preview"])
    static let all = [DecoyEvents.connect("redis"), DecoyEvents.closed("redis"), command, auth, replication, payload]
}

public final class RedisDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "redis", ports: [6379], events: RedisEvents.all, idleTimeout: 300,
        persona: { "Redis key-value store " + RedisDecoy.version($0) }, make: { RedisDecoy($0) })

    static func version(_ info: DecoySessionInfo) -> String { info.config("version") ?? info.distro.redis }

    static let maxBulk = 1 << 20, maxArgs = 1024, maxInline = 64 << 10

    let info: DecoySessionInfo
    let version: String
    let major: Int
    let password: String?
    var authed: Bool
    var buf: [UInt8] = []
    struct Instance { var keys: [String: [UInt8]]; var config: [String: String]; var bytes: Int }
    let shared: DeckyShared<Instance>
    /// A decky's keyspace is capped (keys and bytes); past it writes answer Redis's OOM error.
    static let maxKeys = 10_000, maxBytes = 16 << 20
    var keys: [String: [UInt8]] {
        get { shared.with { $0.keys } }
        set { shared.with { $0.keys = newValue } }
    }
    var config: [String: String] {
        get { shared.with { $0.config } }
        set { shared.with { $0.config = newValue } }
    }
    var db = 0
    var closed = false
    var commands = 0
    let runID: String, replID: String, pid: Int, bootSeconds: Int

    init(_ info: DecoySessionInfo) {
        self.info = info
        version = RedisDecoy.version(info)
        major = Int(version.split(separator: ".").first ?? "7") ?? 7
        password = info.config("password")
        authed = password == nil
        var rng = info.personaRandom
        let hex: [Character] = Array("0123456789abcdef")
        runID = String((0..<40).map { _ in hex[rng.below(16)] })
        replID = String((0..<40).map { _ in hex[rng.below(16)] })
        pid = 600 + rng.below(4000)
        bootSeconds = 86_400 * (3 + rng.below(60)) + rng.below(86_400)
        shared = info.states.get(decky: info.decky.name, service: "redis") {
            Instance(keys: ["session:3f2a9c": Array("{\"uid\":1042,\"role\":\"admin\"}".utf8), "cache:homepage": Array("<html>...</html>".utf8),
                            "queue:mail": Array("[]".utf8)],
                     config: ["dir": "/var/lib/redis", "dbfilename": "dump.rdb", "bind": "* -::*", "port": "6379", "protected-mode": "no",
                              "maxmemory": "0", "maxmemory-policy": "noeviction", "appendonly": "no", "save": "3600 1 300 100 60 10000",
                              "requirepass": "", "databases": "16", "timeout": "0", "tcp-keepalive": "300", "daemonize": "yes",
                              "logfile": "/var/log/redis/redis-server.log", "slave-read-only": "yes", "replica-read-only": "yes"],
                     bytes: 0)
        }
    }


    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        guard !closed else { return }
        buf += bytes
        while !closed {
            switch parse() {
            case .needMore: return
            case .invalid(let msg):
                io.emit(info.event(RedisEvents.command, [("verb", ""), ("args", ""), ("argc", "0"), ("anomaly", msg)]))
                io.send("-ERR Protocol error: \(msg)\r\n")
                io.close()
                closed = true
                return
            case .command(let argv, let used):
                buf.removeFirst(used)
                if !argv.isEmpty { execute(argv, io) }
            }
        }
    }

    enum Parsed { case needMore, invalid(String), command([[UInt8]], Int) }

    func parse() -> Parsed {
        guard let first = buf.first else { return .needMore }
        if first != UInt8(ascii: "*") {
            guard let nl = buf.firstIndex(of: 0x0a) else {
                return buf.count > RedisDecoy.maxInline ? .invalid("too big inline request") : .needMore
            }
            var line = buf[..<nl]
            if line.last == 0x0d { line = line.dropLast() }
            let argv = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { Array($0) }
            return .command(argv, nl + 1)
        }
        var i = 1
        func readLine() -> ArraySlice<UInt8>?? {
            guard let nl = buf[i...].firstIndex(of: 0x0a) else { return buf.count - i > 64 ? .some(nil) : nil }
            var l = buf[i..<nl]
            if l.last == 0x0d { l = l.dropLast() }
            i = nl + 1
            return .some(l)
        }
        guard let countLine = readLine() else { return .needMore }
        // Redis reads "*0" and any negative count as an empty command; anything else must be digits within the limit.
        guard let cl = countLine, let n = CheckedInt.parse(cl, in: Int.min...RedisDecoy.maxArgs) else { return .invalid("invalid multibulk length") }
        var argv: [[UInt8]] = []
        for _ in 0..<max(n, 0) {
            guard i < buf.count else { return .needMore }
            guard buf[i] == UInt8(ascii: "$") else { return .invalid("expected '$', got '\(Character(Unicode.Scalar(buf[i])))'") }
            i += 1
            guard let lenLine = readLine() else { return .needMore }
            guard let ll = lenLine, let len = CheckedInt.parse(ll, in: 0...RedisDecoy.maxBulk) else { return .invalid("invalid bulk length") }
            guard buf.count >= i + len + 2 else { return .needMore }
            argv.append(Array(buf[i..<(i + len)]))
            i += len + 2
        }
        return .command(argv, i)
    }

    // MARK: replies

    func simple(_ s: String) -> String { "+\(s)\r\n" }
    func err(_ s: String) -> String { "-\(s)\r\n" }
    func bulk(_ b: [UInt8]?) -> [UInt8] { guard let b else { return Array("$-1\r\n".utf8) }; return Array("$\(b.count)\r\n".utf8) + b + [0x0d, 0x0a] }
    func bulk(_ s: String) -> [UInt8] { bulk(Array(s.utf8)) }
    func array(_ items: [[UInt8]]) -> [UInt8] { items.reduce(Array("*\(items.count)\r\n".utf8)) { $0 + bulk($1) } }
    func int(_ v: Int) -> String { ":\(v)\r\n" }

    func unknown(_ argv: [[UInt8]]) -> String {
        let name = DecoyEvents.printable(argv[0], max: 128)
        let rest = argv.dropFirst().prefix(major >= 7 ? 20 : 20).map { DecoyEvents.printable($0, max: 128) }
        if major >= 7 { return err("ERR unknown command '\(name)', with args beginning with: \(rest.map { "'\($0)' " }.joined())") }
        return err("ERR unknown command `\(name)`, with args beginning with: \(rest.map { "`\($0)`, " }.joined())")
    }

    func wrongArgs(_ cmd: String) -> String { err("ERR wrong number of arguments for '\(cmd.lowercased())' command") }

    func execute(_ argv: [[UInt8]], _ io: DecoyIO) {
        commands += 1
        let verb = String(decoding: argv[0], as: UTF8.self).uppercased()
        let args = argv.dropFirst().map { String(decoding: $0, as: UTF8.self) }
        if verb != "AUTH" {
            io.emit(info.event(RedisEvents.command, [("verb", DecoyEvents.printable(argv[0], max: 64)),
                                                     ("args", argv.dropFirst().prefix(8).map { DecoyEvents.printable($0, max: 256) }.joined(separator: " ")),
                                                     ("argc", String(argv.count - 1))]))
        }
        if !authed && verb != "AUTH" && verb != "HELLO" && verb != "QUIT" {
            io.send(err("NOAUTH Authentication required."))
            return
        }
        switch verb {
        case "PING": io.send(args.isEmpty ? Array(simple("PONG").utf8) : bulk(argv[1]))
        case "ECHO": io.send(args.count == 1 ? bulk(argv[1]) : Array(wrongArgs(verb).utf8))
        case "AUTH":
            guard args.count == 1 || args.count == 2 else { io.send(wrongArgs(verb)); return }
            let user = args.count == 2 ? args[0] : "default"
            let secret = argv.last!
            let ok = password.map { Array($0.utf8) == secret && user == "default" } ?? false
            io.emit(info.event(RedisEvents.auth, DecoyEvents.credential(principal: user, username: user, secret: secret, result: ok ? "success" : "failed")))
            if password == nil && args.count == 1 {
                io.send(err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"))
            } else if ok { authed = true; io.send(simple("OK")) }
            else { io.send(err("WRONGPASS invalid username-password pair or user is disabled.")) }
        case "HELLO":
            if let p = args.first, p != "2" {
                io.send(err(p == "3" ? "NOPROTO unsupported protocol version" : "ERR Protocol version is not an integer or out of range"))
                return
            }
            let items: [[UInt8]] = [Array("server".utf8), Array("redis".utf8), Array("version".utf8), Array(version.utf8), Array("proto".utf8)]
            var out = Array("*14\r\n".utf8)
            for i in items { out += bulk(i) }
            out += Array(":2\r\n".utf8) + bulk("id") + Array(":\(5 + commands)\r\n".utf8) + bulk("mode") + bulk("standalone")
                + bulk("role") + bulk("master") + bulk("modules") + Array("*0\r\n".utf8)
            io.send(out)
        case "INFO": io.send(bulk(infoText(section: args.first?.lowercased())))
        case "CONFIG":
            guard let sub = args.first?.uppercased() else { io.send(wrongArgs(verb)); return }
            switch sub {
            case "GET":
                guard args.count >= 2 else { io.send(wrongArgs("config|get")); return }
                var out: [[UInt8]] = []
                for pat in args.dropFirst() {
                    for (k, v) in config.sorted(by: { $0.key < $1.key }) where glob(pat.lowercased(), k) { out.append(Array(k.utf8)); out.append(Array(v.utf8)) }
                }
                io.send(array(out))
            case "SET":
                guard args.count >= 3, args.count % 2 == 1 else { io.send(wrongArgs("config|set")); return }
                var i = 1
                while i + 1 < args.count {
                    let k = args[i].lowercased()
                    if config[k] == nil { io.send(err("ERR Unknown option or number of arguments for CONFIG SET - '\(args[i])'")); return }
                    let v = String(args[i + 1].prefix(4096))
                    shared.with { $0.config[k] = v }
                    i += 2
                }
                io.send(simple("OK"))
            case "RESETSTAT", "REWRITE": io.send(simple("OK"))
            default: io.send(err("ERR unknown subcommand '\(args[0])'. Try CONFIG HELP."))
            }
        case "SET", "SETNX", "SETEX", "APPEND", "LPUSH", "RPUSH", "HSET", "SADD":
            guard argv.count >= 3 else { io.send(wrongArgs(verb)); return }
            let key = args[0]
            let value = verb == "SETEX" && argv.count >= 4 ? argv[3] : argv[2]
            let stored = shared.with { st -> Bool in
                let old = st.keys[key]
                let new = (verb == "APPEND" ? (old ?? []) : []) + value
                let bytes = st.bytes - (old?.count ?? 0) + new.count
                guard (old != nil || st.keys.count < RedisDecoy.maxKeys), bytes <= RedisDecoy.maxBytes else { return false }
                st.keys[key] = new
                st.bytes = bytes
                return true
            }
            payloadEvent(verb, key: key, value: value, io)
            guard stored else { io.send(err("OOM command not allowed when used memory > 'maxmemory'.")); return }
            switch verb {
            case "SET", "SETEX": io.send(simple("OK"))
            case "SETNX": io.send(int(1))
            case "APPEND": io.send(int(keys[key]!.count))
            default: io.send(int(1))
            }
        case "GET": io.send(args.count == 1 ? bulk(keys[args[0]]) : Array(wrongArgs(verb).utf8))
        case "DEL", "UNLINK":
            io.send(int(shared.with { st in args.reduce(0) { n, k in
                guard let old = st.keys.removeValue(forKey: k) else { return n }
                st.bytes -= old.count
                return n + 1
            } }))
        case "EXISTS": io.send(int(args.filter { keys[$0] != nil }.count))
        case "KEYS": io.send(args.count == 1 ? array(keys.keys.sorted().filter { glob(args[0], $0) }.map { Array($0.utf8) }) : Array(wrongArgs(verb).utf8))
        case "SCAN":
            io.send(Array("*2\r\n".utf8) + bulk("0") + array(keys.keys.sorted().map { Array($0.utf8) }))
        case "TYPE": io.send(simple(args.first.flatMap { keys[$0] } == nil ? "none" : "string"))
        case "TTL", "PTTL": io.send(int(args.first.flatMap { keys[$0] } == nil ? -2 : -1))
        case "EXPIRE", "PEXPIRE", "PERSIST": io.send(int(args.first.flatMap { keys[$0] } == nil ? 0 : 1))
        case "DBSIZE": io.send(int(keys.count))
        case "SELECT":
            guard let n = args.first.flatMap({ Int($0) }) else { io.send(err("ERR value is not an integer or out of range")); return }
            if (0..<16).contains(n) { db = n; io.send(simple("OK")) } else { io.send(err("ERR DB index is out of range")) }
        case "FLUSHALL", "FLUSHDB": shared.with { $0.keys.removeAll(); $0.bytes = 0 }; io.send(simple("OK"))
        case "SAVE": io.send(simple("OK"))
        case "BGSAVE": io.send(simple("Background saving started"))
        case "LASTSAVE": io.send(int(Int(wallClockSeconds()) - 3600))
        case "SLAVEOF", "REPLICAOF":
            guard args.count == 2 else { io.send(wrongArgs(verb)); return }
            if args[0].uppercased() == "NO" && args[1].uppercased() == "ONE" { io.send(simple("OK")); return }
            io.emit(info.event(RedisEvents.replication, [("host", String(args[0].prefix(255))), ("port", String(args[1].prefix(16)))]))
            io.send(simple("OK"))
        case "MODULE":
            if args.first?.uppercased() == "LOAD", args.count >= 2 {
                payloadEvent("MODULE LOAD", key: args[1], value: argv[2], io)
                io.send(err("ERR Error loading the extension. Please check the server logs."))
            } else if args.first?.uppercased() == "LIST" { io.send("*0\r\n") }
            else { io.send(err("ERR unknown subcommand or wrong number of arguments for '\(args.first ?? "")'. Try MODULE HELP.")) }
        case "EVAL", "EVALSHA", "FUNCTION", "SCRIPT":
            if argv.count >= 2 { payloadEvent(verb, key: "", value: argv[1], io) }
            io.send(verb == "SCRIPT" ? Array(simple("OK").utf8) : bulk(nil))
        case "CLIENT":
            switch args.first?.uppercased() ?? "" {
            case "SETNAME", "SETINFO", "KILL", "REPLY", "NO-EVICT", "NO-TOUCH": io.send(simple("OK"))
            case "GETNAME": io.send(bulk(nil))
            case "ID": io.send(int(5 + commands))
            case "LIST", "INFO":
                io.send(bulk("id=\(5 + commands) addr=\(info.client):\(info.clientPort) laddr=\(info.local):\(info.localPort) fd=8 name= age=0 idle=0 flags=N db=\(db) sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22298 events=r cmd=client|list user=default redir=-1 resp=2\n"))
            default: io.send(unknown(argv))
            }
        case "COMMAND":
            switch args.first?.uppercased() {
            case "COUNT": io.send(int(major >= 7 ? 240 : 224))
            case "DOCS", "INFO", nil: io.send("*0\r\n")
            default: io.send(unknown(argv))
            }
        case "TIME":
            let t = wallClockSeconds()
            io.send(array([Array(String(Int(t)).utf8), Array(String(Int((t - t.rounded(.down)) * 1e6)).utf8)]))
        case "SHUTDOWN": io.send(err("ERR Errors trying to SHUTDOWN. Check logs."))
        case "QUIT": io.send(simple("OK")); io.close(); closed = true
        default: io.send(unknown(argv))
        }
    }

    func payloadEvent(_ verb: String, key: String, value: [UInt8], _ io: DecoyIO) {
        io.emit(info.event(RedisEvents.payload, [("verb", verb), ("key", String(key.prefix(512))), ("size", String(value.count)),
                                                 ("sha256", Digest.sha256Hex(bytes: value)), ("preview", DecoyEvents.printable(value, max: 1024))]))
    }

    /// Redis glob subset: `*`, `?`, literal characters.
    func glob(_ p: String, _ s: String) -> Bool {
        let p = Array(p.utf8), s = Array(s.utf8)
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == s[si]) { pi += 1; si += 1 }
            else if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; mark = si; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; si = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    func infoText(section: String?) -> String {
        let now = wallClockSeconds()
        let up = bootSeconds + Int(now) % 86_400
        let os = info.config("os") ?? "Linux \(info.distro.kernel) x86_64"
        let gcc = info.distro.id == "ubuntu" ? "11.4.0" : "12.2.0"
        var s: [(String, String)] = []
        s.append(("server", """
        # Server\r
        redis_version:\(version)\r
        redis_git_sha1:00000000\r
        redis_git_dirty:0\r
        redis_build_id:\(String(runID.prefix(16)))\r
        redis_mode:standalone\r
        os:\(os)\r
        arch_bits:64\r
        monotonic_clock:POSIX clock_gettime\r
        multiplexing_api:epoll\r
        atomicvar_api:c11-builtin\r
        gcc_version:\(gcc)\r
        process_id:\(pid)\r
        process_supervised:systemd\r
        run_id:\(runID)\r
        tcp_port:\(info.localPort)\r
        server_time_usec:\(Int(now * 1e6))\r
        uptime_in_seconds:\(up)\r
        uptime_in_days:\(up / 86_400)\r
        hz:10\r
        configured_hz:10\r
        lru_clock:\(Int(now) % 16_777_216)\r
        executable:/usr/bin/redis-server\r
        config_file:/etc/redis/redis.conf\r
        io_threads_active:0\r

        """))
        s.append(("clients", """
        # Clients\r
        connected_clients:1\r
        cluster_connections:0\r
        maxclients:10000\r
        client_recent_max_input_buffer:20480\r
        client_recent_max_output_buffer:0\r
        blocked_clients:0\r
        tracking_clients:0\r
        clients_in_timeout_table:0\r

        """))
        s.append(("memory", """
        # Memory\r
        used_memory:1084512\r
        used_memory_human:1.03M\r
        used_memory_rss:7610368\r
        used_memory_rss_human:7.26M\r
        used_memory_peak:1194816\r
        used_memory_peak_human:1.14M\r
        used_memory_peak_perc:90.77%\r
        used_memory_overhead:868944\r
        used_memory_startup:862080\r
        used_memory_dataset:215568\r
        used_memory_dataset_perc:96.91%\r
        allocator_allocated:1250432\r
        allocator_active:1544192\r
        allocator_resident:4411392\r
        total_system_memory:8323055616\r
        total_system_memory_human:7.75G\r
        used_memory_lua:31744\r
        used_memory_vm_eval:31744\r
        used_memory_lua_human:31.00K\r
        used_memory_scripts_eval:0\r
        number_of_cached_scripts:0\r
        number_of_functions:0\r
        number_of_libraries:0\r
        used_memory_vm_functions:32768\r
        used_memory_vm_total:64512\r
        used_memory_vm_total_human:63.00K\r
        used_memory_functions:184\r
        used_memory_scripts:184\r
        used_memory_scripts_human:184B\r
        maxmemory:0\r
        maxmemory_human:0B\r
        maxmemory_policy:noeviction\r
        allocator_frag_ratio:1.23\r
        allocator_frag_bytes:293760\r
        allocator_rss_ratio:2.86\r
        allocator_rss_bytes:2867200\r
        rss_overhead_ratio:1.73\r
        rss_overhead_bytes:3198976\r
        mem_fragmentation_ratio:7.07\r
        mem_fragmentation_bytes:6534048\r
        mem_not_counted_for_evict:0\r
        mem_replication_backlog:0\r
        mem_total_replication_buffers:0\r
        mem_clients_slaves:0\r
        mem_clients_normal:1800\r
        mem_cluster_links:0\r
        mem_aof_buffer:0\r
        mem_allocator:jemalloc-5.3.0\r
        active_defrag_running:0\r
        lazyfree_pending_objects:0\r
        lazyfreed_objects:0\r

        """))
        s.append(("persistence", """
        # Persistence\r
        loading:0\r
        async_loading:0\r
        current_cow_peak:0\r
        current_cow_size:0\r
        current_cow_size_age:0\r
        current_fork_perc:0.00\r
        current_save_keys_processed:0\r
        current_save_keys_total:0\r
        rdb_changes_since_last_save:\(keys.count)\r
        rdb_bgsave_in_progress:0\r
        rdb_last_save_time:\(Int(now) - 3600)\r
        rdb_last_bgsave_status:ok\r
        rdb_last_bgsave_time_sec:0\r
        rdb_current_bgsave_time_sec:-1\r
        rdb_saves:\(up / 3600)\r
        rdb_last_cow_size:0\r
        rdb_last_load_keys_expired:0\r
        rdb_last_load_keys_loaded:3\r
        aof_enabled:0\r
        aof_rewrite_in_progress:0\r
        aof_rewrite_scheduled:0\r
        aof_last_rewrite_time_sec:-1\r
        aof_current_rewrite_time_sec:-1\r
        aof_last_bgrewrite_status:ok\r
        aof_rewrites:0\r
        aof_rewrites_consecutive_failures:0\r
        aof_last_write_status:ok\r
        aof_last_cow_size:0\r
        module_fork_in_progress:0\r
        module_fork_last_cow_size:0\r

        """))
        s.append(("stats", """
        # Stats\r
        total_connections_received:\(1200 + up / 97)\r
        total_commands_processed:\(41_000 + up / 11)\r
        instantaneous_ops_per_sec:0\r
        total_net_input_bytes:\(2_100_000 + up * 3)\r
        total_net_output_bytes:\(9_800_000 + up * 7)\r
        total_net_repl_input_bytes:0\r
        total_net_repl_output_bytes:0\r
        instantaneous_input_kbps:0.00\r
        instantaneous_output_kbps:0.00\r
        instantaneous_input_repl_kbps:0.00\r
        instantaneous_output_repl_kbps:0.00\r
        rejected_connections:0\r
        sync_full:0\r
        sync_partial_ok:0\r
        sync_partial_err:0\r
        expired_keys:\(up / 600)\r
        expired_stale_perc:0.00\r
        expired_time_cap_reached_count:0\r
        expire_cycle_cpu_milliseconds:\(up / 40)\r
        evicted_keys:0\r
        evicted_clients:0\r
        total_eviction_exceeded_time:0\r
        current_eviction_exceeded_time:0\r
        keyspace_hits:\(18_000 + up / 23)\r
        keyspace_misses:\(2_000 + up / 150)\r
        pubsub_channels:0\r
        pubsub_patterns:0\r
        pubsubshard_channels:0\r
        latest_fork_usec:412\r
        total_forks:\(up / 3600)\r
        migrate_cached_sockets:0\r
        slave_expires_tracked_keys:0\r
        active_defrag_hits:0\r
        active_defrag_misses:0\r
        active_defrag_key_hits:0\r
        active_defrag_key_misses:0\r
        total_active_defrag_time:0\r
        current_active_defrag_time:0\r
        tracking_total_keys:0\r
        tracking_total_items:0\r
        tracking_total_prefixes:0\r
        unexpected_error_replies:0\r
        total_error_replies:\(up / 5000)\r
        dump_payload_sanitizations:0\r
        total_reads_processed:\(43_000 + up / 11)\r
        total_writes_processed:\(42_000 + up / 11)\r
        io_threaded_reads_processed:0\r
        io_threaded_writes_processed:0\r
        reply_buffer_shrinks:\(up / 700)\r
        reply_buffer_expands:\(up / 900)\r

        """))
        s.append(("replication", """
        # Replication\r
        role:master\r
        connected_slaves:0\r
        master_failover_state:no-failover\r
        master_replid:\(replID)\r
        master_replid2:0000000000000000000000000000000000000000\r
        master_repl_offset:0\r
        second_repl_offset:-1\r
        repl_backlog_active:0\r
        repl_backlog_size:1048576\r
        repl_backlog_first_byte_offset:0\r
        repl_backlog_histlen:0\r

        """))
        s.append(("cpu", """
        # CPU\r
        used_cpu_sys:\(decimalText(Double(up) / 2900, 6))\r
        used_cpu_user:\(decimalText(Double(up) / 3700, 6))\r
        used_cpu_sys_children:0.004521\r
        used_cpu_user_children:0.001207\r
        used_cpu_sys_main_thread:\(decimalText(Double(up) / 2950, 6))\r
        used_cpu_user_main_thread:\(decimalText(Double(up) / 3750, 6))\r

        """))
        s.append(("modules", "# Modules\r\n"))
        s.append(("errorstats", "# Errorstats\r\nerrorstat_ERR:count=\(up / 5000)\r\n"))
        s.append(("cluster", "# Cluster\r\ncluster_enabled:0\r\n"))
        s.append(("keyspace", "# Keyspace\r\n" + (keys.isEmpty ? "" : "db0:keys=\(keys.count),expires=0,avg_ttl=0\r\n")))
        let wanted: [(String, String)]
        switch section {
        case nil, "default", "all", "everything": wanted = s
        default: wanted = s.filter { $0.0 == section }
        }
        // Sections end in CRLF; an empty line separates them, as Redis prints.
        return wanted.map(\.1).joined(separator: "\r\n")
    }
}
