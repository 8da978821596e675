// Control.swift: the control-plane module (API, auth, topology, swarm/PKI, updater). Its services
// arrive with the REST API issue; until then the module only anchors the dependency direction
// Appliance <- Control <- decnet.
import Appliance

public enum ControlPlane {
    public static let moduleName = "Control"
}
