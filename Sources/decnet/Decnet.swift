// Decnet.swift: the one executable; each subcommand lives in Commands/ and only wires services.
// Before any command runs, the configuration is loaded once (defaults < decnet.ini < DECNET_* < flags):
// `decnet --config FILE <command>` or DECNET_CONFIG names the file (default /etc/decnet/decnet.ini).
import Appliance
import ArgumentParser
import Logging
#if canImport(Glibc)
import Glibc
#endif

@main
struct Decnet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decnet",
        abstract: "Deception-network appliance: sensor, deckies and control plane.",
        discussion: """
        Settings come from built-in defaults, then /etc/decnet/decnet.ini (or `decnet --config FILE ...`, or
        DECNET_CONFIG), then DECNET_* environment variables, then each command's flags. `decnet config` prints
        the table of every setting and where each current value came from.
        """,
        subcommands: [Up.self, Sniff.self, Sensor.self, Store.self, BusCommand.self, Deploy.self, Status.self, Teardown.self, Serve.self,
                      APICommand.self, ProfilerCommand.self, Mutate.self, Login.self, Attackers.self, Logs.self, Users.self,
                      ConfigCommand.self, SwarmCtl.self, SwarmCommand.self, Join.self, Agent.self]
    )

    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        var file: String? = nil
        // `--config FILE` / `--config=FILE` before the subcommand is the process-wide configuration file.
        if let i = args.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }),
           !args[..<i].contains(where: { !$0.hasPrefix("-") }) {
            if args[i] == "--config" {
                guard i + 1 < args.count else { stderrLine("decnet: --config needs a file"); Glibc.exit(64) }
                file = args[i + 1]
                args.removeSubrange(i...(i + 1))
            } else {
                file = String(args[i].dropFirst("--config=".count))
                args.remove(at: i)
            }
        }
        ProcessLogHandler.bootstrap()
        do {
            DecnetConfiguration.install(try DecnetConfiguration.load(file: file))
        } catch {
            stderrLine("decnet: the configuration is refused (\(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")):")
            for p in error.problems { stderrLine("  \(p)") }
            Glibc.exit(78)  // EX_CONFIG
        }
        do {
            var command = try parseAsRoot(args)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show every setting, its value and where it came from (secrets hidden); --table prints the README table.")

    @Flag(name: .long, help: "Print the Markdown table of every setting (the README's).")
    var table = false

    @Flag(name: .long, help: "Only check the configuration (exit 0 when it loads; problems are printed at start).")
    var check = false

    func run() throws {
        if table { print(DecnetConfiguration.markdownTable(), terminator: ""); return }
        if check { print("configuration ok"); return }
        let c = DecnetConfiguration.current
        for s in DecnetConfiguration.settings {
            let v = c.string(s.key)
            let shown = v == nil ? "(unset)" : (s.kind == .secret ? "(set, hidden)" : v!)
            print("\(s.key) = \(shown)\t[\(c.origin(s.key) ?? "default")]")
        }
    }
}
