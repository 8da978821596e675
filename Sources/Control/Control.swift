// Control.swift: the control-plane module (API, auth, topology, swarm/PKI, updater). So far it holds the
// authentication primitives of the REST API issue (Auth/: bcrypt passwords, HS256 access tokens); the
// HTTP server arrives with that issue.
import Appliance

public enum ControlPlane {
    public static let moduleName = "Control"
}
