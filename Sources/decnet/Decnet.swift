// Decnet.swift: the one executable; each subcommand lives in Commands/ and only wires services.
import ArgumentParser

@main
struct Decnet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decnet",
        abstract: "Deception-network appliance: sensor, deckies and control plane.",
        subcommands: [Sniff.self, Sensor.self, Store.self, BusCommand.self, Deploy.self, Status.self, Teardown.self, Serve.self,
                      APICommand.self, ProfilerCommand.self, Mutate.self, Login.self, Attackers.self, Logs.self, Users.self]
    )
}
