// DeckyPlan.swift: from what the operator asked (flags or an INI file, spec §12.6) to a list of deckies,
// checked as a whole before anything is created. Every problem is collected and reported at once.

/// One decky as deployed: its identity on the LAN and its persona.
public struct DeckySpec: Sendable, Equatable {
    public var name: String
    public var ip: IPv4
    public var mac: String
    public var hostname: String
    public var services: [String]
    public var distro: String
    public var archetype: String?
    public var nmapOS: String
    /// Per-service persona keys (`[decky.service]` sections), e.g. ["http": ["server_header": "..."]].
    public var serviceConfig: [String: [String: String]]
    public var mutateInterval: Int?

    public var distroProfile: DistroProfile { DistroProfile.named(distro) ?? DistroProfile.all[0] }
    public var osProfile: OSProfile { OSProfile.resolve(nmapOS) }

    public func config(_ service: String, _ key: String) -> String? { serviceConfig[service]?[key] }

    public var json: JSONValue {
        var sc: [(String, JSONValue)] = []
        for (svc, kv) in serviceConfig.sorted(by: { $0.key < $1.key }) {
            sc.append((svc, .object(kv.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var o: [(String, JSONValue)] = [
            ("name", .string(name)), ("ip", .string(ip.description)), ("mac", .string(mac)),
            ("hostname", .string(hostname)), ("services", .array(services.map { .string($0) })),
            ("distro", .string(distro)), ("nmap_os", .string(nmapOS)), ("service_config", .object(sc)),
        ]
        if let archetype { o.append(("archetype", .string(archetype))) }
        if let mutateInterval { o.append(("mutate_interval", .number(Double(mutateInterval)))) }
        return .object(o)
    }

    public init(name: String, ip: IPv4, mac: String, hostname: String, services: [String], distro: String,
                archetype: String?, nmapOS: String, serviceConfig: [String: [String: String]] = [:], mutateInterval: Int? = nil) {
        self.name = name
        self.ip = ip
        self.mac = mac
        self.hostname = hostname
        self.services = services
        self.distro = distro
        self.archetype = archetype
        self.nmapOS = nmapOS
        self.serviceConfig = serviceConfig
        self.mutateInterval = mutateInterval
    }

    public init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, let ipText = json["ip"]?.stringValue, let ip = IPv4(ipText),
              let mac = json["mac"]?.stringValue, let hostname = json["hostname"]?.stringValue,
              case .array(let svcs)? = json["services"], let distro = json["distro"]?.stringValue,
              let os = json["nmap_os"]?.stringValue else { return nil }
        var sc: [String: [String: String]] = [:]
        if case .object(let members)? = json["service_config"] {
            for (svc, v) in members {
                if case .object(let kv) = v { sc[svc] = Dictionary(kv.compactMap { k, v in v.stringValue.map { (k, $0) } }, uniquingKeysWith: { $1 }) }
            }
        }
        self.init(name: name, ip: ip, mac: mac, hostname: hostname, services: svcs.compactMap(\.stringValue),
                  distro: distro, archetype: json["archetype"]?.stringValue, nmapOS: os, serviceConfig: sc,
                  mutateInterval: json["mutate_interval"]?.doubleValue.map { Int($0) })
    }
}

/// Where the deckies live on the LAN.
public struct FleetNetwork: Sendable, Equatable {
    public var interface: String
    public var subnet: IPv4Network
    public var gateway: IPv4?

    public var json: JSONValue {
        var o: [(String, JSONValue)] = [("interface", .string(interface)), ("subnet", .string(subnet.description))]
        if let gateway { o.append(("gateway", .string(gateway.description))) }
        return .object(o)
    }

    public init(interface: String, subnet: IPv4Network, gateway: IPv4?) {
        self.interface = interface
        self.subnet = subnet
        self.gateway = gateway
    }

    public init?(json: JSONValue) {
        guard let i = json["interface"]?.stringValue, let s = json["subnet"]?.stringValue.flatMap(IPv4Network.init) else { return nil }
        self.init(interface: i, subnet: s, gateway: json["gateway"]?.stringValue.flatMap(IPv4.init))
    }
}

public struct PlanError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// What the host looks like to the planner (real: Host.probe; tests: a literal).
public struct HostFacts: Sendable {
    public var interfaces: Set<String>
    /// IPv4 networks configured on each interface, and the host's own addresses.
    public var networks: [String: [(IPv4, Int)]]
    public var defaultGateway: [String: IPv4]

    public init(interfaces: Set<String>, networks: [String: [(IPv4, Int)]] = [:], defaultGateway: [String: IPv4] = [:]) {
        self.interfaces = interfaces
        self.networks = networks
        self.defaultGateway = defaultGateway
    }
}

/// The operator's request, from flags or an INI file.
public struct DeployRequest: Sendable {
    public var count: Int?
    public var interface: String?
    public var subnet: String?
    public var gateway: String?
    public var ipStart: String?
    public var services: [String]?
    public var randomizeServices = false
    public var distros: [String]?
    public var archetype: String?
    public var nmapOS: String?
    public var mutateInterval: Int?
    /// INI text and its name for messages.
    public var ini: (text: String, name: String)?

    public init() {}
}

public enum DeckyPlanner {
    /// A decky name every later command can address: the API's `decky_name` pattern `^[a-z0-9][a-z0-9._-]{0,63}$`
    /// (deploy used to accept names that delete and mutate then refused).
    public static func isValidName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard (1...64).contains(b.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        return alnum(b[0]) && b.allSatisfy { alnum($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
    }

    /// Plans the deckies of `request` next to the `existing` ones. Throws PlanError listing every problem.
    public static func plan(_ request: DeployRequest, host: HostFacts, existing: [DeckySpec], existingNetwork: FleetNetwork?)
        throws(PlanError) -> (FleetNetwork, [DeckySpec]) {
        var problems: [String] = []
        struct Wanted { var name: String; var ip: IPv4?; var services: [String]?; var archetype: String?; var distro: String?
                        var nmapOS: String?; var mutate: Int?; var config: [String: [String: String]] = [:] }
        var wanted: [Wanted] = []
        var interface = request.interface, subnetText = request.subnet, gatewayText = request.gateway

        if let ini = request.ini {
            let file = INIFile(text: ini.text, name: ini.name)
            problems += file.problems
            var subsections: [(String, String, INIFile.Section)] = []
            for s in file.sections {
                if s.name == "general" {
                    for e in s.entries {
                        switch e.key {
                        case "net", "subnet": subnetText = subnetText ?? e.value
                        case "gw", "gateway": gatewayText = gatewayText ?? e.value
                        case "interface": interface = interface ?? e.value
                        default: problems.append("\(ini.name):\(e.line): unknown key '\(e.key)' in [general]")
                        }
                    }
                    continue
                }
                if s.name.hasPrefix("custom-") {
                    problems.append("\(ini.name):\(s.line): [\(s.name)]: bring-your-own container services need Docker; this appliance serves its decoys natively")
                    continue
                }
                if let dot = s.name.lastIndex(of: "."), DecoyRegistry.knownSlugs.contains(String(s.name[s.name.index(after: dot)...])) {
                    subsections.append((String(s.name[..<dot]), String(s.name[s.name.index(after: dot)...]), s))
                    continue
                }
                var w = Wanted(name: s.name)
                var amount = 1
                for e in s.entries {
                    let at = "\(ini.name):\(e.line)"
                    switch e.key {
                    case "ip":
                        if let a = IPv4(e.value) { w.ip = a } else { problems.append("\(at): '\(e.value)' is not an IPv4 address") }
                    case "services": w.services = e.value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
                    case "archetype": w.archetype = e.value
                    case "distro": w.distro = e.value
                    case "nmap_os", "nmap-os": w.nmapOS = e.value
                    case "mutate_interval", "mutate-interval":
                        if let m = Int(e.value), m > 0 { w.mutate = m } else { problems.append("\(at): mutate_interval must be a positive number of minutes") }
                    case "amount":
                        if let a = Int(e.value), (1...100).contains(a) { amount = a } else { problems.append("\(at): amount must be 1..100") }
                    default: problems.append("\(at): unknown key '\(e.key)' in [\(s.name)]")
                    }
                }
                if amount > 1 {
                    if w.ip != nil { problems.append("\(ini.name):\(s.line): [\(s.name)]: amount > 1 cannot be combined with ip=") }
                    for k in 1...amount {
                        var c = w
                        c.name = "\(s.name)-\(k < 10 ? "0" : "")\(k)"
                        c.ip = nil
                        wanted.append(c)
                    }
                } else {
                    wanted.append(w)
                }
            }
            // [decky.service] persona keys; a group's subsection applies to every expanded member.
            for (owner, svc, s) in subsections {
                let kv = Dictionary(s.entries.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
                for i in wanted.indices where wanted[i].name == owner || wanted[i].name.hasPrefix(owner + "-") {
                    wanted[i].config[svc, default: [:]].merge(kv) { $1 }
                }
            }
            if wanted.isEmpty && file.problems.isEmpty { problems.append("\(ini.name): no decky sections") }
        } else {
            // `-n N` means decky-01 .. decky-N exist (declarative and idempotent: running it again, e.g. after a
            // crash, completes the fleet; existing ones keep their address and MAC; others are not touched).
            let n = request.count ?? 1
            if n < 1 || n > 1000 { problems.append("--deckies must be 1..1000, got \(n)") }
            for k in 0..<max(0, min(n, 1000)) {
                wanted.append(Wanted(name: deckyName(k + 1), services: request.services, archetype: request.archetype, nmapOS: request.nmapOS, mutate: request.mutateInterval))
            }
        }

        // The network.
        let iface = interface ?? existingNetwork?.interface
        if let iface {
            if !host.interfaces.contains(iface) { problems.append("interface \(iface) does not exist") }
        } else {
            problems.append("no interface: give --interface or [general] interface=")
        }
        var subnet: IPv4Network?
        if let t = subnetText {
            if let s = IPv4Network(t) { subnet = s } else { problems.append("subnet '\(t)' is not a CIDR (e.g. 192.168.1.0/24)") }
        } else if let e = existingNetwork, e.interface == iface {
            subnet = e.subnet
        } else if let iface, let first = host.networks[iface]?.first {
            subnet = IPv4Network(address: first.0, prefix: first.1)
        } else if iface != nil, host.interfaces.contains(iface!) {
            problems.append("interface \(iface!) has no IPv4 network: give --subnet")
        }
        var gateway: IPv4?
        if let t = gatewayText {
            if let g = IPv4(t) { gateway = g } else { problems.append("gateway '\(t)' is not an IPv4 address") }
        } else if let e = existingNetwork, e.interface == iface { gateway = e.gateway }
        else if let iface { gateway = host.defaultGateway[iface] }
        if let subnet, let gateway, !subnet.contains(gateway) { problems.append("gateway \(gateway) is outside \(subnet)") }
        if let subnet, let e = existingNetwork, e.subnet != subnet || e.interface != iface {
            if e.subnet.overlaps(subnet) {
                problems.append("subnet \(subnet) on \(iface ?? "?") overlaps the deployed \(e.subnet) on \(e.interface)")
            } else {
                problems.append("deckies are already deployed on \(e.interface) \(e.subnet): one fleet network per host (teardown first)")
            }
        }
        if let subnet {
            let reserved: [(String, String)] = [("0.0.0.0/8", "this-network"), ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"),
                                                ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved")]
            for (r, what) in reserved where IPv4Network(r)!.overlaps(subnet) {
                problems.append("subnet \(subnet) overlaps the \(what) range \(r)")
            }
            if subnet.prefix > 30 { problems.append("subnet \(subnet) is too small for deckies (use /30 or larger)") }
            for (other, nets) in host.networks where other != iface {
                for (a, p) in nets where IPv4Network(address: a, prefix: p).overlaps(subnet) && p > 0 {
                    problems.append("subnet \(subnet) overlaps \(IPv4Network(address: a, prefix: p)) on \(other)")
                }
            }
        }

        // Names, services, personas.
        var seenNames = Set<String>()
        let existingByName = Dictionary(existing.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for w in wanted {
            if !DeckyPlanner.isValidName(w.name) {
                problems.append("decky name '\(w.name)': use 1-64 of a-z 0-9 . _ -, starting with a letter or digit (the names the API and CLI can address)")
            }
            if !seenNames.insert(w.name).inserted { problems.append("decky name '\(w.name)' is given twice") }
            if let a = w.archetype, Archetype.named(a) == nil {
                problems.append("\(w.name): unknown archetype '\(a)' (known: \(Archetype.all.map(\.slug).joined(separator: ", ")))")
            }
            if let d = w.distro, DistroProfile.named(d) == nil { problems.append("\(w.name): unknown distro '\(d)'") }
            if let o = w.nmapOS, OSProfile.named(o) == nil {
                problems.append("\(w.name): unknown nmap_os '\(o)' (known: \(OSProfile.all.map(\.slug).joined(separator: ", ")))")
            }
            for s in w.services ?? [] {
                if !DecoyRegistry.knownSlugs.contains(s) { problems.append("\(w.name): unknown service '\(s)'") }
                else if DecoyRegistry.decoy(s) == nil { problems.append("\(w.name): service '\(s)' is not available on this appliance yet (available: \(DecoyRegistry.availableSlugs.joined(separator: ", ")))") }
            }
            if w.services?.isEmpty == true { problems.append("\(w.name): services= is empty") }
            for (svc, kv) in w.config.sorted(by: { $0.key < $1.key }) {
                if let check = DecoyRegistry.decoy(svc)?.checkConfig { problems += check(kv).map { "\(w.name): \($0)" } }
            }
            if let ip = w.ip, let subnet, !subnet.contains(ip) { problems.append("\(w.name): \(ip) is outside \(subnet)") }
        }
        if let d = request.distros { for x in d where DistroProfile.named(x) == nil { problems.append("unknown distro '\(x)'") } }
        if let s = request.services, request.ini == nil, s.isEmpty { problems.append("--services is empty") }

        // Addresses: explicit ones must be free; the rest come from the subnet in order.
        var used = Set<IPv4>()
        var usedBy: [IPv4: String] = [:]
        for e in existing where !wanted.contains(where: { $0.name == e.name }) { used.insert(e.ip); usedBy[e.ip] = e.name }
        if let gateway { used.insert(gateway); usedBy[gateway] = "the gateway" }
        for (_, nets) in host.networks { for (a, _) in nets { used.insert(a); usedBy[a] = "this host" } }
        for w in wanted {
            guard let ip = w.ip else { continue }
            if let who = usedBy[ip] { problems.append("\(w.name): \(ip) is already used by \(who)") }
            else if used.contains(ip) { problems.append("\(w.name): \(ip) is given twice") }
            used.insert(ip)
            usedBy[ip] = w.name
        }
        var next: UInt32 = 0
        if let subnet, let hosts = subnet.hosts {
            next = hosts.lowerBound
            if let t = request.ipStart {
                if let s = IPv4(t), subnet.contains(s) { next = max(s.value, hosts.lowerBound) } else { problems.append("--ip-start '\(t)' is not an address in \(subnet)") }
            }
        }
        var specs: [DeckySpec] = []
        var order = 0
        for var w in wanted {
            if w.ip == nil, let subnet, let hosts = subnet.hosts {
                if let prior = existingByName[w.name] { w.ip = prior.ip }
                else {
                    while next <= hosts.upperBound && used.contains(IPv4(next)) { next += 1 }
                    if next > hosts.upperBound { problems.append("\(subnet) has no free address left for \(w.name)"); continue }
                    w.ip = IPv4(next)
                    used.insert(IPv4(next))
                    next += 1
                }
            }
            guard let ip = w.ip else { continue }
            var rng = SeededRandom(seed: w.name)
            let arch = w.archetype.flatMap(Archetype.named)
            let distroSlug: String = {
                if let d = w.distro { return d }
                if let list = request.distros, !list.isEmpty { return list[order % list.count] }
                if let a = arch { return a.distros[order % a.distros.count] }
                return DistroProfile.all[order % 3].slug            // debian, ubuntu22, ubuntu20
            }()
            var services = w.services ?? arch.map { $0.services.filter { DecoyRegistry.decoy($0) != nil } } ?? []
            if services.isEmpty {
                if w.services == nil && arch != nil {
                    problems.append("\(w.name): none of archetype \(arch!.slug)'s services (\(arch!.services.joined(separator: ", "))) is available yet")
                } else if request.randomizeServices || w.services == nil {
                    let pool = DecoyRegistry.availableSlugs
                    let k = 1 + rng.below(min(3, pool.count))
                    var pick: [String] = []
                    while pick.count < k { let s = rng.pick(pool); if !pick.contains(s) { pick.append(s) } }
                    services = pick
                }
            }
            let distro = DistroProfile.named(distroSlug) ?? DistroProfile.all[0]
            let mac = personaMAC(oui: rng.pick(arch?.ouis ?? OUI.general), rng: &rng)
            let hostname = w.config.values.compactMap { $0["hostname"] }.first ?? Hostnames.make(style: distro.hostnameStyle, rng: &rng)
            var spec = DeckySpec(name: w.name, ip: ip, mac: mac, hostname: hostname, services: services, distro: distro.slug,
                                 archetype: arch?.slug, nmapOS: w.nmapOS ?? arch?.nmapOS ?? "linux", serviceConfig: w.config,
                                 mutateInterval: w.mutate ?? request.mutateInterval)
            if let prior = existingByName[w.name], prior.ip == spec.ip { spec.mac = prior.mac; spec.hostname = w.config.values.compactMap { $0["hostname"] }.first ?? prior.hostname }
            specs.append(spec)
            order += 1
        }
        if !problems.isEmpty {
            // Flags apply to every decky alike: say each problem once, without the decky's name.
            if request.ini == nil {
                let names = Set(wanted.map { $0.name + ": " })
                var seen = Set<String>()
                problems = problems.map { p in names.first { p.hasPrefix($0) }.map { String(p.dropFirst($0.count)) } ?? p }
                    .filter { seen.insert($0).inserted }
            }
            throw PlanError(problems: problems)
        }
        return (FleetNetwork(interface: iface!, subnet: subnet!, gateway: gateway), specs)
    }

    /// What is allowed but will not look right (printed by deploy, not refused).
    public static func warnings(for specs: [DeckySpec]) -> [String] {
        var out: [String] = []
        let windows = specs.filter { $0.nmapOS.hasPrefix("windows") }.map(\.name)
        if !windows.isEmpty {
            out.append("nmap_os windows (\(windows.prefix(5).joined(separator: ", "))\(windows.count > 5 ? ", ..." : "")): the sysctls are set, but without egress rewriting the TCP/IP stack still looks like Linux, and the available decoys are Linux products")
        }
        return out
    }

    public static func deckyName(_ k: Int) -> String { k < 10 ? "decky-0\(k)" : "decky-\(k)" }
}
